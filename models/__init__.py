"""The reviewed venue rulebooks (``*.toml``), installed as the data package ``allocator._models``.

pyproject.toml maps this folder into the package, so wheels ship these files and editable installs read them here;
``allocator.venues.rulebooks`` finds them with ``importlib.resources``. There is no Python code in this folder.
"""
