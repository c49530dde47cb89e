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
    for name, floor in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(floor, logging.getLevelName(level)))


# Third-party loggers held at a floor whatever `gateway.log_level` says. HTTP client libraries
# log whole request URLs and parameters at DEBUG/INFO (a Kannel sendsms URL carries the
# password and the citizen's number; Twilio's client logs the form it posts); the servers
# log every request; waitress warns about its task queue under every load peak.
QUIET_LOGGERS: dict[str, int] = {
    "urllib3": logging.WARNING,
    "requests": logging.WARNING,
    "twilio": logging.WARNING,
    "tweepy": logging.WARNING,
    "telegram": logging.WARNING,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "imapclient": logging.WARNING,
    "pymysql": logging.WARNING,
    "sqlalchemy": logging.WARNING,
    "werkzeug": logging.WARNING,
    "apscheduler": logging.WARNING,
    # Alembic announces its context on every /readyz schema check; upgrades are logged by us.
    "alembic.runtime.migration": logging.WARNING,
    # "Task queue depth is N" is logged on every request while the threads are busy: a
    # load peak, not a fault (the rate shows in the metrics). Real errors still come through.
    "waitress.queue": logging.ERROR,
}
