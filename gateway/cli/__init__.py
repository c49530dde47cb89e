"""The `sp4n-gateway` command line; each group of commands lives in a module of its own.

`base` holds the group, the shared `--config` option and the runtime context manager;
importing the other modules registers their commands on it.
"""

from __future__ import annotations

from gateway.cli import admin, chat, learn, serve, sla, sla_table, users
from gateway.cli.base import main

__all__ = ["admin", "chat", "learn", "main", "serve", "sla", "sla_table", "users"]
