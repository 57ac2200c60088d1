"""``python -m allocator.cli``: the same as the ``allocator`` console script."""

from allocator.cli import main

main()
