"""`/admin/channels`: every configured channel, its webhook URL, health, and a test message."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, flash, redirect, request, url_for
from ulid import ULID

from adapters.base import OutgoingReply
from gateway.console.audit import audit
from gateway.console.health import channel_health
from gateway.web.admin import bp
from gateway.web.pages import actor, admin_required, render, runtime
from vocabulary.errors import SendError

# Which reply coordinate a test recipient fills, by channel kind.
RECIPIENT_KEYS = {"sms": "phone", "email": "email", "webform": "url"}
TEST_TEXT = "Pesan uji dari SP4N Gateway. Abaikan pesan ini."


def _testable(name: str) -> bool:
    adapter = runtime().adapters.get(name)
    return bool(adapter and adapter.kind in RECIPIENT_KEYS and "manual" not in adapter.modes)


@bp.get("/channels")
@admin_required
def channels() -> tuple[str, int]:
    """The channels page."""
    rt = runtime()
    with rt.reads() as session:
        health = channel_health(session, rt.config, set(rt.adapters), dt.datetime.now(dt.UTC))
    return render(
        "admin/channels.html",
        channels=health,
        testable={h.name for h in health if _testable(h.name)},
        recipient_keys=RECIPIENT_KEYS,
        kinds={name: a.kind for name, a in rt.adapters.items()},
    )


@bp.post("/channels/<name>/test")
@admin_required
def test_message(name: str) -> Any:
    """Send one test message through the channel to a recipient the admin typed."""
    rt = runtime()
    adapter = rt.adapters.get(name)
    if adapter is None or not _testable(name):
        abort(404)
    recipient = request.form.get("recipient", "").strip()[:254]
    reply_to = {RECIPIENT_KEYS[adapter.kind]: recipient}
    ok, problem = False, None
    if not recipient or not adapter.can_reply(reply_to):
        problem = "penerima tidak sah untuk kanal ini"
    else:
        try:
            adapter.send_reply(
                OutgoingReply(
                    reply_id=str(ULID()),
                    report_id="uji",
                    tracking_id=None,
                    event="test",
                    text=TEST_TEXT,
                    reply_to=reply_to,
                    external_id="uji",
                )
            )
            ok = True
        except SendError as exc:
            problem = str(exc)
    with rt.sessions.begin() as session:
        audit(session, actor(), "test_message", name, ok=ok)
    if ok:
        flash(f"Pesan uji terkirim lewat {name}.", "info")
    else:
        flash(f"Pesan uji lewat {name} gagal: {problem}", "error")
    return redirect(url_for("admin.channels"))
