"""The `sp4n-gateway` command line; each group of commands lives in a module of its own.

`base` holds the group, the shared `--config` option and the runtime context manager;
importing the other modules registers their commands on it.
"""

from __future__ import annotations

from gateway.cli import admin, learn, serve
from gateway.cli.base import main

__all__ = ["admin", "learn", "main", "serve"]
