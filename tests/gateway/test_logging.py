"""Logging holds third-party HTTP loggers at WARNING even when the gateway runs at DEBUG."""

from __future__ import annotations

import io
import logging

from gateway.logging_setup import configure_logging


def test_debug_does_not_open_third_party_request_logs() -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", stream)
    try:
        url = "http://kannel:13013/cgi-bin/sendsms?username=gw&password=hunter2&to=%2B628123"
        logging.getLogger("urllib3.connectionpool").debug("GET %s", url)
        logging.getLogger("twilio.http_client").info("POST /Messages.json Body=hi To=+62812")
        logging.getLogger("waitress.queue").warning("Task queue depth is 12")
        logging.getLogger("gateway.test").debug("our own debug line")
        logging.getLogger("urllib3.connectionpool").warning("Retrying (Retry(total=2))")
    finally:
        configure_logging("INFO")
    out = stream.getvalue()
    assert "hunter2" not in out and "Messages.json" not in out
    assert "Task queue depth" not in out
    assert "our own debug line" in out
    assert "Retrying" in out  # a third-party warning still shows
