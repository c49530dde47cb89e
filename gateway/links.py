"""Signed, expiring download links for stored attachments, handed to the central.

A report's attachments travel as links (`attachments[].url`), not inline: the central fetches
each file from the gateway while the link is valid. A link names the file's SHA-256, its
name and type, and an expiry, signed with HMAC-SHA256. It is made once, at intake, and kept
in the report: a resend must carry the same body (the central answers 409 otherwise).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy.orm import Session, sessionmaker

from store.state import shared_value

STATE_KEY = "attachment_links.secret"  # its row in sync_state


@dataclass(frozen=True)
class FileLinks:
    """Makes and checks attachment links for one gateway."""

    secret: bytes
    public_url: str
    ttl: float

    def _signature(self, sha256: str, expires: int, name: str, content_type: str) -> str:
        message = f"{sha256}\n{expires}\n{name}\n{content_type}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def url_for(self, sha256: str, name: str, content_type: str, now: float | None = None) -> str:
        """The link, valid for `ttl` seconds from `now`."""
        expires = int((now if now is not None else time.time()) + self.ttl)
        query = urlencode(
            {
                "exp": expires,
                "name": name,
                "type": content_type,
                "sig": self._signature(sha256, expires, name, content_type),
            }
        )
        return f"{self.public_url}/files/{sha256}?{query}"

    def check(
        self,
        sha256: str,
        expires: str,
        name: str,
        content_type: str,
        signature: str,
        now: float | None = None,
    ) -> str | None:
        """None when the link is good; otherwise why not (for the 403 answer)."""
        try:
            when = int(expires)
        except ValueError:
            return "malformed link"
        expected = self._signature(sha256, when, name, content_type)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            return "invalid signature"
        if when < (now if now is not None else time.time()):
            return "link expired"
        return None


def load_or_create_secret(sessions: sessionmaker[Session]) -> bytes:
    """The link key kept in the database, made on first use (shared by every process)."""
    return bytes.fromhex(shared_value(sessions, STATE_KEY))
