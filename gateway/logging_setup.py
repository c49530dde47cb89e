"""Logging with a last line of defence: phone numbers, emails and NIKs are masked on output.

Code never logs message bodies or contact details on purpose; this formatter masks anything
that slips through (an exception message quoting a payload, a library's debug line).
"""

from __future__ import annotations

import logging
import sys

from normalizer.redact import redact_text


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then masks personal data in the whole line (traceback included)."""

    def format(self, record: logging.LogRecord) -> str:
        """The redacted line."""
        return redact_text(super().format(record))


def configure_logging(level: str = "INFO", stream: object = None) -> None:
    """One redacting handler on the root logger; replaces handlers set before."""
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Per-request access lines from the HTTP servers would add noise, not insight.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # Alembic announces its context on every /readyz schema check; upgrades are logged by us.
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
