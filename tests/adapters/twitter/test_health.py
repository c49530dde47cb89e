"""An X account whose API tier cannot read mentions, as `/readyz` shows it.

The channel raises `ChannelRefused` on every poll of its `forbidden_retry` period (without
asking X again). `/readyz` must say `degraded` naming the channel for that whole period, even
while the channel's replies (DMs) go out fine: a reply that works says nothing about reading
mentions. Once X reads again, the channel is `ok`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from gateway.app import create_app
from store.models import Report
from tests.adapters.twitter.fake_x import FakeX, Fault, payload


def _readyz(client: Any) -> dict[str, Any]:
    answer = client.get("/readyz")
    assert answer.status_code == 200  # the gateway itself works: degraded is not unavailable
    return dict(answer.get_json())


def _acknowledge_and_send(runtime: Any) -> None:
    """The DM's report gets a tracking id; its acknowledgement goes out by DM."""
    with runtime.sessions.begin() as session:
        (report,) = session.scalars(select(Report))
        report.tracking_id, report.state = "LPR0000001", "submitted"
        runtime.replies.acknowledge(session, report)
    sender = runtime.reply_sender()
    try:
        assert sender.run_once() == 1
    finally:
        sender.close()


def test_a_tier_refusal_keeps_readyz_degraded_naming_the_channel(
    runtime: Any, fake_x: FakeX
) -> None:
    client = create_app(runtime).test_client()
    (poller,) = runtime.pollers()
    assert _readyz(client)["status"] == "ok"
    fake_x.faults["mentions"] = Fault(403, payload("error_403_client_not_enrolled.json"))
    fake_x.add_dm("Saya ingin melapor jalan rusak di depan pasar Desa Contoh.")
    assert poller.run_once() == 1  # the DM is read; mentions are refused

    ready = _readyz(client)
    assert ready["status"] == "degraded"
    assert ready["channels"]["web"] == "ok"
    state = ready["channels"]["x-lapor"]
    assert state.startswith("failing since") and "(1x)" in state
    assert "tingkat akses aplikasi X (API tier)" in state and "client-not-enrolled" in state

    _acknowledge_and_send(runtime)  # the channel's replies work meanwhile
    assert fake_x.calls.get("dm_send") == 1
    assert _readyz(client)["status"] == "degraded", "a sent DM does not mean mentions are read"

    for polls in (2, 3):  # within forbidden_retry: refused again without asking X
        poller.run_once()
        ready = _readyz(client)
        assert ready["status"] == "degraded"
        assert f"({polls}x)" in ready["channels"]["x-lapor"]
    assert fake_x.calls["mentions"] == 1

    # forbidden_retry has passed and the app's plan now includes mentions
    del fake_x.faults["mentions"]
    poller.adapter.api.refusals.clear()
    fake_x.add_mention("@LAPOR1708 lampu jalan di gang 4 mati")
    assert poller.run_once() == 1
    ready = _readyz(client)
    assert ready["status"] == "ok" and ready["channels"]["x-lapor"] == "ok"
