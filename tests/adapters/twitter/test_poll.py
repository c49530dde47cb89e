"""The `twitter` channel through the real poll runner against a local X API.

Mentions and DMs become reports once each; the cursor (since_id, pagination token) moves
with them; a rate limit or a tier refusal never blocks or crashes; gaps are reported.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from adapters.twitter.adapter import TwitterAdapter
from adapters.twitter.cursor import Cursor
from gateway.poller import Poller
from store.cursors import cursor_key, load_cursor
from store.models import ForwardItem, InboundMessage, Report
from tests.adapters.twitter.conftest import x_runtime
from tests.adapters.twitter.fake_x import ACCOUNT_ID, FakeX, Fault, payload
from tests.helpers import validate_reports


def poller(rt: Any) -> Poller:
    (one,) = rt.pollers()
    return one


def reports(rt: Any) -> list[Report]:
    with rt.sessions() as session:
        return list(session.scalars(select(Report).order_by(Report.external_id)))


def cursor(rt: Any) -> Cursor:
    with rt.sessions() as session:
        return Cursor.loads(load_cursor(session, cursor_key("x-lapor")))


def documented_page(x: FakeX) -> None:
    page = payload("mentions_page.json")
    for user in page["includes"]["users"]:
        x.users[user["id"]] = user
    x.places.update({p["id"]: p for p in page["includes"]["places"]})
    x.add_photo("3_1800000000000000900", b"\xff\xd8\xff\xe0 jalan rusak", "contoh-jalan.jpg")
    x.posts.extend(page["data"])


def test_a_documented_mention_becomes_one_report(runtime: Any, fake_x: FakeX) -> None:
    documented_page(fake_x)
    assert poller(runtime).run_once() == 1  # the retweet is not a citizen's message
    (report,) = reports(runtime)
    payload_ = report.payload
    assert payload_["body"] == (
        "Jalan rusak dan berlubang di depan SD Negeri 3, mohon segera diperbaiki & diberi rambu."
    )
    assert payload_["reporter"]["handle"] == "@warga_contoh"
    assert payload_["reporter"]["name"] == "Warga Contoh"
    assert payload_["location"] == {
        "text": "Kota Contoh, Jawa Barat",
        "lat": -6.1754,
        "lon": 106.8272,
        "region_code": None,
    }
    (photo,) = payload_["attachments"]
    assert photo["content_type"] == "image/jpeg" and photo["size"] == 16
    assert report.external_id == "tweet:1800000000000000102"
    assert report.agency == "upt-jalan"
    assert report.reply_to == {
        "via": "tweet",
        "tweet_id": "1800000000000000102",
        "user_id": "900000000000000001",
    }
    validate_reports([payload_])
    assert cursor(runtime).mentions.since_id == "1800000000000000102"
    assert poller(runtime).run_once() == 0
    assert fake_x.requests[-2][2]["since_id"] == ["1800000000000000102"]


def test_pages_are_walked_down_to_since_id_and_each_mention_stored_once(
    runtime: Any, fake_x: FakeX
) -> None:
    for i in range(250):
        fake_x.add_mention(f"@LAPOR1708 drainase tersumbat nomor {i}")
    assert poller(runtime).run_once() == 250
    got = reports(runtime)
    assert len(got) == len({r.external_id for r in got}) == 250
    mention_calls = [r for r in fake_x.requests if r[1].endswith("/mentions")]
    assert [("pagination_token" in r[2]) for r in mention_calls] == [False, True, True]
    newest = max(int(p["id"]) for p in fake_x.posts)
    assert cursor(runtime).mentions.since_id == str(newest)
    assert not cursor(runtime).mentions.walking
    fake_x.add_mention("@LAPOR1708 satu lagi: lampu jalan mati")
    assert poller(runtime).run_once() == 1
    assert len(reports(runtime)) == 251


def test_a_rate_limit_mid_walk_waits_without_sleeping_and_resumes_at_its_token(
    runtime: Any, fake_x: FakeX
) -> None:
    for i in range(250):
        fake_x.add_mention(f"@LAPOR1708 sampah menumpuk di pasar blok {i}")
    fake_x.add_dm("Saya ingin melapor pungli di terminal.")
    adapter = poller(runtime).adapter
    assert isinstance(adapter, TwitterAdapter)
    real = adapter.api.client.get_users_mentions
    calls = {"n": 0}

    def second_page_limited(**params: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            fake_x.faults["mentions"] = Fault(429, payload("error_429.json"), times=1)
        return real(**params)

    adapter.api.client.get_users_mentions = second_page_limited
    started = time.monotonic()
    assert poller(runtime).run_once() == 101  # page 1, then the DM: DMs are not blocked
    assert time.monotonic() - started < 5, "the job must not sleep through the window"
    state = cursor(runtime).mentions
    assert state.walking and state.seen == 100 and state.since_id is None
    assert adapter.api.waits["mentions"] > time.time() + 60  # from x-rate-limit-reset
    before = len(fake_x.requests)
    assert poller(runtime).run_once() == 0
    assert not [r for r in fake_x.requests[before:] if r[1].endswith("/mentions")]
    adapter.api.waits.clear()  # the window has passed
    assert poller(runtime).run_once() == 150
    resumed = next(r for r in fake_x.requests[before:] if r[1].endswith("/mentions"))
    assert resumed[2]["pagination_token"] == [state.token]
    assert len({r.external_id for r in reports(runtime)}) == 251


def test_a_tier_refusal_is_a_clear_channel_error_not_a_loop(
    runtime: Any, fake_x: FakeX, caplog: pytest.LogCaptureFixture
) -> None:
    fake_x.faults["mentions"] = Fault(403, payload("error_403_client_not_enrolled.json"))
    fake_x.add_mention("@LAPOR1708 tidak terbaca")
    fake_x.add_dm("DM tetap terbaca walau mention ditolak.")
    caplog.set_level(logging.INFO)
    assert poller(runtime).run_once() == 1  # the DM
    assert runtime.metrics.poll_errors.labels("x-lapor")._value.get() == 1
    assert (
        "tingkat akses aplikasi X (API tier)" in caplog.text
        and "client-not-enrolled" in caplog.text
    )
    for _ in range(3):
        poller(runtime).run_once()
    assert fake_x.calls["mentions"] == 1, "X is not asked again before forbidden_retry"
    assert runtime.metrics.poll_errors.labels("x-lapor")._value.get() == 4


def test_more_than_800_new_mentions_is_a_recorded_gap(
    runtime: Any, fake_x: FakeX, tmp_path: Path
) -> None:
    fake_x.add_mention("@LAPOR1708 laporan sebelum gangguan")
    assert poller(runtime).run_once() == 1
    for i in range(900):  # an outage: X now serves only the newest 800 of these
        fake_x.add_mention(f"@LAPOR1708 laporan saat gangguan {i}")
    assert poller(runtime).run_once() == 800
    adapter = poller(runtime).adapter
    assert adapter.warnings["gap"] == 1
    oldest = min(
        (r for r in reports(runtime) if "saat gangguan" in r.payload["body"]),
        key=_id_of,
    )
    assert "800 sebutan terbaru" in _notes(runtime, oldest.id)
    from gateway.app import create_app

    text = create_app(runtime).test_client().get("/metrics").get_data(as_text=True)
    assert 'sp4n_channel_warnings_total{channel="x-lapor",code="gap"} 1.0' in text
    # After a restart (nothing in memory) the admin still reads the warning, in Indonesian.
    restarted = x_runtime(tmp_path, fake_x)
    try:
        ready = create_app(restarted).test_client().get("/readyz").get_json()
        assert ready["status"] == "ok", "a warning degrades nothing: the channel works"
        assert "800 sebutan terbaru" in ready["warnings"]["x-lapor"]
        from gateway.console.health import channel_health

        with restarted.sessions() as session:
            every = channel_health(session, restarted.config, set(restarted.adapters))
        health = next(h for h in every if h.name == "x-lapor")
        assert all(h.last_warning is None for h in every if h.name != "x-lapor")
        assert health.last_warning is not None and "terlewat" in health.last_warning
        assert health.last_warning_at is not None and health.state == "alive"
    finally:
        for adapter in restarted.adapters.values():
            adapter.close()
        restarted.close()


def test_dms_are_kept_once_by_event_id_and_own_messages_ignored(
    runtime: Any, fake_x: FakeX
) -> None:
    page = payload("dm_events_page.json")
    fake_x.users.update({u["id"]: u for u in page["includes"]["users"]})
    fake_x.add_photo("3_1800000000000000950", b"\xff\xd8 bukti", "bukti.jpg")
    fake_x.dms.extend(page["data"])
    assert poller(runtime).run_once() == 1
    (report,) = reports(runtime)
    assert report.external_id == "dm:1800000000000000302"
    assert report.payload["reporter"]["handle"] == "@pelapor_contoh"
    assert len(report.payload["attachments"]) == 1
    assert report.reply_to["via"] == "dm"
    assert poller(runtime).run_once() == 0
    fake_x.add_dm("Tambahan: kejadiannya hari Senin.")
    assert poller(runtime).run_once() == 1
    assert len(reports(runtime)) == 2


def test_dms_older_than_the_window_are_a_recorded_gap(runtime: Any, fake_x: FakeX) -> None:
    old = Cursor().with_timeline(
        "dms",
        Cursor.loads(
            json.dumps({"dms": {"since_id": "1", "since_at": "2025-01-01T00:00:00.000Z"}})
        ).dms,
    )
    fake_x.add_dm("Pesan setelah gangguan panjang.")
    messages = list(poller(runtime).adapter.poll(old.dumps()))
    assert len(messages) == 1
    assert "30 hari terakhir" in " ".join(messages[0][0].draft.notes)
    assert poller(runtime).adapter.warnings["gap"] == 1


def test_own_posts_and_retweets_are_skipped_without_reading_them_again(
    runtime: Any, fake_x: FakeX
) -> None:
    fake_x.add_mention("@LAPOR1708 aduan pertama")
    assert poller(runtime).run_once() == 1
    fake_x.add_mention("Balasan kami sendiri", author=ACCOUNT_ID)
    own_last = fake_x.add_mention(
        "RT @x: @LAPOR1708 ...", referenced_tweets=[{"type": "retweeted", "id": "1"}]
    )
    assert poller(runtime).run_once() == 0
    assert poller(runtime).run_once() == 0
    last_call = [r for r in fake_x.requests if r[1].endswith("/mentions")][-1]
    assert last_call[2]["since_id"] == [own_last["id"]]


def test_a_reply_in_a_known_thread_is_a_follow_up_only_from_the_same_author(
    runtime: Any, fake_x: FakeX
) -> None:
    first = fake_x.add_mention("@LAPOR1708 jembatan kayu di desa kami patah")
    assert poller(runtime).run_once() == 1
    fake_x.add_mention(
        "@LAPOR1708 sekarang sudah ada korban jatuh",
        referenced_tweets=[{"type": "replied_to", "id": first["id"]}],
        conversation_id=first["id"],
    )
    fake_x.add_mention(
        "@LAPOR1708 saya juga melihatnya",
        author="900000000000000009",
        referenced_tweets=[{"type": "replied_to", "id": first["id"]}],
        conversation_id=first["id"],
    )
    assert poller(runtime).run_once() == 2
    with runtime.sessions() as session:
        states = sorted(m.state for m in session.scalars(select(InboundMessage)))
    assert states == ["accepted", "accepted", "followup"]
    assert len(reports(runtime)) == 2


def test_a_reply_to_a_post_of_the_same_batch_is_a_follow_up(
    fake_x: FakeX, tmp_path: Path, db_url: str
) -> None:
    """A backlog batch holding a post and its author's reply to it makes one report."""
    rt = x_runtime(tmp_path, fake_x, db_url)
    try:
        first = fake_x.add_mention("@LAPOR1708 jembatan kayu di desa kami patah")
        thread = {
            "referenced_tweets": [{"type": "replied_to", "id": first["id"]}],
            "conversation_id": first["id"],
        }
        reply = fake_x.add_mention("@LAPOR1708 sekarang sudah ada korban jatuh", **thread)
        fake_x.add_mention(
            "@LAPOR1708 lanjutan: warga memasang tali seadanya",
            referenced_tweets=[{"type": "replied_to", "id": reply["id"]}],
            conversation_id=first["id"],
        )
        fake_x.add_mention("@LAPOR1708 saya juga melihatnya", author="900000000000000009", **thread)
        assert poller(rt).run_once() == 4  # one poll, one batch
        with rt.sessions() as session:
            rows = {m.external_id: m for m in session.scalars(select(InboundMessage))}
            followups = session.scalars(
                select(ForwardItem).where(ForwardItem.action == "followup")
            ).all()
            (made,) = session.scalars(
                select(Report).where(Report.external_id == f"tweet:{first['id']}")
            )
            first_report = made.id
        states = sorted(m.state for m in rows.values())
        assert states == ["accepted", "accepted", "followup", "followup"]
        assert len(reports(rt)) == 2  # the other author's reply is a report of their own
        assert rows[f"tweet:{reply['id']}"].report_id == first_report
        assert [f.report_id for f in followups] == [first_report, first_report]
    finally:
        for adapter in rt.adapters.values():
            adapter.close()
        rt.close()


def _id_of(report: Report) -> int:
    return int(report.external_id.split(":")[1])


def _notes(rt: Any, report_id: str) -> str:
    from store.models import TimelineEvent

    with rt.sessions() as session:
        events = session.scalars(select(TimelineEvent).where(TimelineEvent.report_id == report_id))
        return " ".join(str(e.detail) for e in events)
