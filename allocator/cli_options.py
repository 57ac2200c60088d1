"""Moved to allocator/cli/options.py (the command line is now a package, one module per command); this name is
kept for one release so that command modules written against it import unchanged."""

from allocator.cli.options import WORKERS, Output, Seconds, SolverName, output_options, user_warnings

__all__ = ["WORKERS", "Output", "Seconds", "SolverName", "output_options", "user_warnings"]
