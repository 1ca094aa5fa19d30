"""The ``relreps`` command line: a thin layer over the public API.

Conventions: ``--help`` everywhere; exit code 0 on success, 2 on usage errors, 1 on failures;
messages on stderr, results on stdout (``--json`` for machine-readable output where offered).
"""

from __future__ import annotations

from relreps.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
