"""`gammu_smsd` against Gammu's real SQL schema (MariaDB v17 and v18, PostgreSQL, SQLite):
polling, multipart reassembly, the missing-part wait, crash-before-confirm, and replies
through `outbox`/`outbox_multipart`; plus property tests of the reassembly."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import OutgoingReply
from adapters.sms.gammu_smsd import GammuOptions, GammuSmsdAdapter
from adapters.sms.gsm import build_udh, parse_udh, split_parts
from adapters.sms.multipart import Part, assemble
from tests.adapters.sms.gammu_db import GammuDb, gammu_database
from vocabulary.drafts import RawMessage
from vocabulary.errors import AdapterUnavailable

KINDS = ["mariadb-v17", "mariadb-v18", "postgres-v17", "sqlite-v17"]
T0 = dt.datetime(2026, 11, 22, 3, 0, 0)
SENDER = "+6281200000021"


class Clock:
    """An injectable clock."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture(params=KINDS)
def gammu(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GammuDb]:
    with gammu_database(request.param, tmp_path) as db:
        yield db


@pytest.fixture
def clock() -> Clock:
    return Clock(T0.replace(tzinfo=dt.UTC) + dt.timedelta(seconds=30))


@pytest.fixture
def adapter(gammu: GammuDb, clock: Clock) -> Iterator[GammuSmsdAdapter]:
    options = GammuOptions(
        name="hotline", database=gammu.url, time_zone="UTC", multipart_wait="10m", batch_size=50
    )
    adapter = GammuSmsdAdapter(options, clock=clock)
    yield adapter
    adapter.close()


def _sms(
    text: str,
    udh: str = "",
    sender: str = SENDER,
    at: dt.datetime = T0,
    coding: str = "Default_No_Compression",
) -> dict[str, Any]:
    return {
        "TextDecoded": text,
        "UDH": udh,
        "SenderNumber": sender,
        "ReceivingDateTime": at,
        "Coding": coding,
    }


def _drain(
    adapter: GammuSmsdAdapter, cursor: str | None = None
) -> tuple[list[RawMessage], str | None]:
    messages = []
    for message, following in adapter.poll(cursor):
        messages.append(message)
        cursor = following
    return messages, cursor


def test_schema_version_is_detected(adapter: GammuSmsdAdapter, gammu: GammuDb) -> None:
    adapter.engine()
    assert adapter.schema_version == gammu.version


def test_single_sms_is_polled_then_confirmed(adapter: GammuSmsdAdapter, gammu: GammuDb) -> None:
    (row_id,) = gammu.insert_inbox(_sms("LAPOR Jalan rusak di depan pasar"))
    (message,), cursor = _drain(adapter)
    assert message.external_id == f"inbox:{row_id}"
    assert message.received_at == T0.replace(tzinfo=dt.UTC)
    assert message.draft.body == "Jalan rusak di depan pasar"
    assert message.draft.phone == SENDER
    assert message.draft.reply_to == {"phone": SENDER, "e164": SENDER, "phone_id": "modem1"}
    assert json.loads(cursor or "{}") == {"groups": [[row_id]]}
    adapter.confirm([message])
    adapter.confirm([message])  # idempotent
    assert gammu.rows("inbox", "Processed")[0]["Processed"] in ("true", True)
    assert _drain(adapter, cursor)[0] == []


def test_a_prefix_word_alone_or_nothing_is_held_as_empty(
    adapter: GammuSmsdAdapter, gammu: GammuDb
) -> None:
    gammu.insert_inbox(_sms("LAPOR"), _sms(""), _sms("LAPOR lampu mati"))
    messages, _ = _drain(adapter)
    assert [(m.hold, m.draft.body) for m in messages] == [
        ("empty", "LAPOR"),
        ("empty", "[SMS kosong]"),
        (None, "lampu mati"),
    ]


@pytest.mark.parametrize("bits", [8, 16])
def test_multipart_out_of_order_is_reassembled(
    adapter: GammuSmsdAdapter, gammu: GammuDb, bits: int
) -> None:
    text = "Saluran air tersumbat sampah sehingga banjir setiap hujan turun di RT 03. " * 6
    parts = split_parts(text)
    assert len(parts) == 3
    order = [2, 0, 1]
    ids = gammu.insert_inbox(
        *(
            _sms(parts[i], build_udh(0x1A2B, 3, i + 1, bits), at=T0 + dt.timedelta(seconds=n))
            for n, i in enumerate(order)
        )
    )
    # A single SMS from someone else in between is its own message.
    (other,) = gammu.insert_inbox(_sms("Lampu mati", sender="+6281200000022"))
    messages, _ = _drain(adapter)
    assert [m.external_id for m in messages] == [
        "inbox:" + "+".join(map(str, sorted(ids))),
        f"inbox:{other}",
    ]
    assert messages[0].draft.body == text.strip()
    assert messages[0].raw["complete"] is True


# Only schema 18 has the inbox grouping columns: the test runs on that schema alone.
@pytest.mark.parametrize("gammu", ["mariadb-v18"], indirect=True)
def test_schema_18_groups_parts_stored_without_udh(
    adapter: GammuSmsdAdapter, gammu: GammuDb
) -> None:
    assert gammu.version >= 18
    text = "Jalan desa rusak parah sejak musim hujan, mohon segera ditinjau petugas. " * 3
    parts = split_parts(text)
    rows = [
        {**_sms(parts[i]), "MessageID": 4242, "SequencePosition": i + 1, "PartCount": len(parts)}
        for i in reversed(range(len(parts)))
    ]
    ids = gammu.insert_inbox(*rows)
    (message,), _ = _drain(adapter)
    assert message.external_id == "inbox:" + "+".join(map(str, sorted(ids)))
    assert message.draft.body == text.strip() and message.raw["complete"] is True


def test_missing_part_waits_then_goes_incomplete(
    adapter: GammuSmsdAdapter, gammu: GammuDb, clock: Clock
) -> None:
    ids = gammu.insert_inbox(
        _sms("Bagian pertama ", build_udh(7, 3, 1)), _sms("bagian ketiga.", build_udh(7, 3, 3))
    )
    assert _drain(adapter)[0] == []
    clock.now += dt.timedelta(minutes=9)
    assert _drain(adapter)[0] == []
    clock.now += dt.timedelta(minutes=2)
    (message,), _ = _drain(adapter)
    assert message.external_id == f"inbox:{ids[0]}+{ids[1]}"
    assert message.draft.body == "Bagian pertama [...] bagian ketiga."
    assert message.raw["complete"] is False
    assert any("bagian 2 dari 3" in note for note in message.draft.notes)


def test_crash_between_commit_and_confirm_makes_no_second_report(
    adapter: GammuSmsdAdapter, gammu: GammuDb, tmp_path: Path, clock: Clock
) -> None:
    from store.models import Report
    from tests.adapters.sms.runtime import sms_runtime

    runtime = sms_runtime(
        tmp_path,
        channel_yaml=f"""\
  - {{name: hotline, type: gammu_smsd, database: "{gammu.url}", time_zone: UTC}}
""",
    )
    try:
        gammu.insert_inbox(
            _sms("Jembatan retak ", build_udh(9, 2, 1)), _sms("di desa kami.", build_udh(9, 2, 2))
        )
        # The poll runner stores each message with its cursor in one transaction, then
        # calls confirm; here: store, then "crash" before confirm.
        (first,), cursor = _drain(adapter)
        (outcome,) = runtime.intake.accept(adapter, [first])
        assert outcome.created
        # A part arriving with the same reference meanwhile must not change the grouping.
        gammu.insert_inbox(_sms("lagi", build_udh(9, 2, 1)))
        restarted = GammuSmsdAdapter(adapter.options, clock=clock)
        (again,), _ = _drain(restarted, cursor)
        assert again.external_id == first.external_id
        (repeat,) = runtime.intake.accept(restarted, [again])
        assert not repeat.created and repeat.report_id == outcome.report_id
        restarted.confirm([again])
        restarted.close()
        with runtime.sessions() as session:
            assert len(list(session.scalars(sa.select(Report)))) == 1
    finally:
        runtime.close()


def test_unreadable_cursor_regroups_afresh(adapter: GammuSmsdAdapter, gammu: GammuDb) -> None:
    (row_id,) = gammu.insert_inbox(_sms("Sampah menumpuk"))
    for cursor in ("not json", '{"other": 1}', '{"groups": [["x"]]}'):
        (message,), _ = _drain(adapter, cursor)
        assert message.external_id == f"inbox:{row_id}"


def test_reply_long_unicode_goes_to_outbox_multipart(
    adapter: GammuSmsdAdapter, gammu: GammuDb
) -> None:
    text = "Tanggapan Dinas PUPR 🙏: " + "perbaikan jalan dijadwalkan minggu depan. " * 8
    reply = OutgoingReply(
        reply_id="01REPLY",
        report_id="r",
        tracking_id="LPR1234567",
        event="response:1",
        text=text,
        reply_to={"phone": SENDER, "phone_id": "modem1"},
        external_id="x",
    )
    provider_id = adapter.send_reply(reply)
    (outbox,) = gammu.rows(
        "outbox",
        "ID",
        "DestinationNumber",
        "TextDecoded",
        "Coding",
        "UDH",
        "MultiPart",
        "CreatorID",
        "SenderID",
    )
    multipart = gammu.rows(
        "outbox_multipart",
        "ID",
        "SequencePosition",
        "TextDecoded",
        "Coding",
        "UDH",
        order=("ID", "SequencePosition"),
    )
    assert provider_id == f"outbox:{outbox['ID']}"
    assert outbox["DestinationNumber"] == SENDER
    assert outbox["Coding"] == "Unicode_No_Compression"
    assert outbox["MultiPart"] in ("true", True)
    assert (outbox["CreatorID"], outbox["SenderID"]) == (f"sp4n-gateway:{reply.reply_id}", "modem1")
    parts = [outbox, *multipart]
    total = len(parts)
    assert total == 3  # max_reply_parts
    for n, part in enumerate(parts, start=1):
        concat = parse_udh(part["UDH"])
        assert concat is not None and (concat.total, concat.seq) == (total, n)
        assert concat.ref == parse_udh(outbox["UDH"]).ref  # type: ignore[union-attr]
        assert part["Coding"] == "Unicode_No_Compression"
    assert [m["ID"] for m in multipart] == [outbox["ID"]] * (total - 1)
    assert [m["SequencePosition"] for m in multipart] == list(range(2, total + 1))
    joined = "".join(p["TextDecoded"] for p in parts)
    assert joined.startswith("Tanggapan Dinas PUPR 🙏:") and joined.endswith("…")


def test_a_retried_reply_is_queued_once(adapter: GammuSmsdAdapter, gammu: GammuDb) -> None:
    reply = OutgoingReply(
        reply_id="01RETRIED",
        report_id="r",
        tracking_id="LPR1234567",
        event="ack",
        text="Laporan diterima: LPR1234567",
        reply_to={"phone": SENDER},
        external_id="x",
    )
    first = adapter.send_reply(reply)
    # As after a crash between Gammu's insert and the gateway's record of it: sent again.
    assert adapter.send_reply(reply) == first
    assert len(gammu.rows("outbox", "ID")) == 1
    # Once SMSD has sent it, the row lives in sentitems: still not queued again.
    engine = gammu.engine()
    with engine.begin() as conn:
        kept = (
            "ID",
            "DestinationNumber",
            "Text",
            "TextDecoded",
            "Coding",
            "UDH",
            "Class",
            "CreatorID",
            "SenderID",
        )
        outbox = sa.table("outbox", *(sa.column(c) for c in kept))
        fixed = {
            "SequencePosition": "1",
            "Status": "'SendingOK'",
            "SMSCNumber": "''",
            "TPMR": "-1",
            "StatusError": "-1",
            "RelativeValidity": "-1",
        }
        values = [
            sa.func.coalesce(outbox.c[c], "") if c in ("Text", "SenderID") else outbox.c[c]
            for c in kept
        ]
        values += [sa.literal_column(v) for v in fixed.values()]
        names = [*kept, *fixed]
        sent = sa.table("sentitems", *(sa.column(c) for c in names))
        conn.execute(sa.insert(sent).from_select(names, sa.select(*values)))
        conn.execute(sa.delete(outbox))
    engine.dispose()
    assert first is not None
    assert adapter.send_reply(reply) == first.replace("outbox:", "sent:")
    assert gammu.rows("outbox", "ID") == []


def test_short_gsm_reply_is_one_outbox_row(adapter: GammuSmsdAdapter, gammu: GammuDb) -> None:
    adapter.send_reply(
        OutgoingReply(
            reply_id="r2",
            report_id="r",
            tracking_id="LPR1234567",
            event="ack",
            text="Laporan diterima \u2013 LPR1234567",
            reply_to={"phone": SENDER},
            external_id="x",
        )
    )
    (row,) = gammu.rows("outbox", "TextDecoded", "Coding", "UDH", "MultiPart")
    assert row["TextDecoded"] == "Laporan diterima - LPR1234567"
    assert row["Coding"] == "Default_No_Compression"
    assert row["MultiPart"] in ("false", False) and not row["UDH"]
    assert gammu.rows("outbox_multipart", "ID") == []


def test_unsupported_schema_version_is_refused(gammu: GammuDb) -> None:
    engine = gammu.engine()
    with engine.begin() as conn:
        gammu_table = sa.table("gammu", sa.column("Version"))
        conn.execute(sa.update(gammu_table).values(Version=15))
    engine.dispose()
    adapter = GammuSmsdAdapter(GammuOptions(name="hotline", database=gammu.url))
    with pytest.raises(AdapterUnavailable, match="versi 15"):
        list(adapter.poll(None))


def test_unreachable_database_is_unavailable(tmp_path: Path) -> None:
    from tests.helpers import free_port

    adapter = GammuSmsdAdapter(
        GammuOptions(
            name="hotline",
            database=f"mysql+pymysql://gammu@127.0.0.1:{free_port()}/smsd",
            password="x",
        )
    )
    with pytest.raises(AdapterUnavailable) as caught:
        list(adapter.poll(None))
    assert "x" not in str(caught.value).split(":")[-1]


# --- reassembly, pure ---------------------------------------------------------------------

WAIT = dt.timedelta(minutes=10)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.text(min_size=1, max_size=20), min_size=2, max_size=6),
    st.randoms(use_true_random=False),
    st.sampled_from([8, 16]),
)
def test_any_order_of_parts_gives_the_text_back(
    texts: list[str], rnd: random.Random, bits: int
) -> None:
    parts = [
        Part(n + 1, SENDER, T0, t, build_udh(5, len(texts), n + 1, bits))
        for n, t in enumerate(texts)
    ]
    rnd.shuffle(parts)
    (message,) = assemble(parts, [], T0, WAIT)
    assert message.complete and message.text() == "".join(texts).strip()


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 50),
            st.text(alphabet="0123456789ABCDEF", max_size=16),
            st.text(max_size=10),
        ),
        max_size=20,
        unique_by=lambda t: t[0],
    )
)
def test_assemble_never_loses_or_doubles_a_part(rows: list[tuple[int, str, str]]) -> None:
    parts = [Part(i, SENDER, T0, text, udh) for i, udh, text in rows]
    messages = assemble(parts, [], T0 + WAIT, WAIT)  # everything is old enough
    ids = sorted(i for m in messages for i in m.ids)
    assert ids == sorted(i for i, _, _ in rows)
