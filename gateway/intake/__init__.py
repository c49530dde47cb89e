"""Durable intake, in one module per job.

- `plan`: read and check each message before any transaction (a bad one fails alone);
- `writer`: the group-commit writer thread and its one-by-one fallback;
- `rows`: the rows a batch adds, written per table in key order;
- `followups`: follow-ups and status questions of the same sender;
- `records`: the draft kept with a held-back message;
- `service`: `Intake`, the entry point of webhooks, pollers and manual entry.
"""

from __future__ import annotations

from gateway.intake.service import Intake, new_id

__all__ = ["Intake", "new_id"]
