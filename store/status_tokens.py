"""The citizen's private status link: one unguessable token per report.

A tracking id (`LPR` + 7 digits) can be guessed, so it only ever shows that a report exists
and its coarse status. The whole story (history, agency responses) is shown to whoever
holds the report's token, which the citizen gets in the acknowledgement and on the receipt.

The token is kept plain, not hashed. It must be shown again after intake: the
acknowledgement that carries it is rendered by the forwarder once the central answered, and
an operator reprints a receipt for a walk-in citizen who lost it. A hash would only guard
against someone who can read the database, and that someone already reads every report,
with the reporter's name and contact, in the same rows. Lookups compare in the database by
the unique index; the link is as long as the token is unguessable (128 random bits).
"""

from __future__ import annotations

import secrets

TOKEN_BYTES = 16  # 128 bits: unguessable, and short enough for an SMS (22 characters)


def new_status_token() -> str:
    """A fresh token for a new report."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def status_url(public_url: str, token: str | None) -> str:
    """The private link for a token (empty when the report has none)."""
    if not token:
        return ""
    return f"{public_url.rstrip('/')}/s/{token}"
