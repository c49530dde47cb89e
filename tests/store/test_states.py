"""Every state column is an enum: read back as its member, refused when outside its enum."""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path

import pytest
from sqlalchemy import String, select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session, sessionmaker

from normalizer.conversation import ConversationStep
from store import migrate
from store.db import make_engine, make_sessionmaker
from store.models import Base, Conversation, InboundMessage, Report
from store.states import (
    CorrectionSource,
    ForwardAction,
    ForwardState,
    InboundState,
    ReplyState,
    ReportState,
    Role,
    StrEnumType,
)
from vocabulary.central import CentralStatus
from vocabulary.deliveries import DeliveryStatus
from vocabulary.holds import HoldReason
from vocabulary.kinds import Kind

STATE_COLUMNS: dict[tuple[str, str], type[StrEnum]] = {
    ("inbound_messages", "state"): InboundState,
    ("inbound_messages", "hold_reason"): HoldReason,
    ("reports", "kind"): Kind,
    ("reports", "state"): ReportState,
    ("reports", "central_status"): CentralStatus,
    ("forward_outbox", "action"): ForwardAction,
    ("forward_outbox", "state"): ForwardState,
    ("reply_outbox", "state"): ReplyState,
    ("reply_outbox", "delivery_status"): DeliveryStatus,
    ("conversations", "step"): ConversationStep,
    ("training_rows", "source"): CorrectionSource,
    ("users", "role"): Role,
}
# Names that say a column holds one of a fixed set of values.
STATE_NAMES = ("state", "status", "step", "source", "role", "kind", "action")
STATE_SUFFIXES = ("_state", "_status", "_reason", "_step")
# Not a state: the audit log names what an admin did, one name per console action.
NOT_STATES = {"audit_log.action"}


def test_every_state_column_is_its_enum() -> None:
    typed = {
        (table.name, column.name): column.type.enum
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, StrEnumType)
    }
    assert typed == STATE_COLUMNS
    plain = [
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if (column.name in STATE_NAMES or column.name.endswith(STATE_SUFFIXES))
        and not isinstance(column.type, StrEnumType)
    ]
    assert set(plain) == NOT_STATES


def test_every_member_fits_its_column() -> None:
    """The enums share the migrations' string columns: a longer value would not fit."""
    for (table, name), enum in STATE_COLUMNS.items():
        column = Base.metadata.tables[table].columns[name]
        assert isinstance(column.type, StrEnumType)
        impl = column.type.impl_instance
        assert isinstance(impl, String) and impl.length is not None
        assert max(len(m.value) for m in enum) <= impl.length, (table, name)


@pytest.fixture
def sessions(db_url: str, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url, base_dir=tmp_path)
    migrate.upgrade(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


def _report(**fields: object) -> Report:
    values: dict[str, object] = {
        "id": "01STATESREPORT000000000001",
        "channel": "web",
        "channel_type": "webform",
        "external_id": "1",
        "kind": Kind.PENGADUAN,
        "agency": "upt-jalan",
        "hops": [],
        "payload": {},
        "reply_to": {},
        "state": ReportState.SUBMITTED,
        "tracking_id": "LPR1234567",
    }
    return Report(**{**values, **fields})


def test_a_known_value_reads_back_as_its_member(sessions: sessionmaker[Session]) -> None:
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    with sessions.begin() as session:
        session.add(_report(central_status="in_progress"))  # the value string is accepted
        session.add(
            InboundMessage(
                id="01STATESINBOUND00000000001",
                channel="web",
                external_id="1",
                received_at=now,
                state=InboundState.QUARANTINED,
                hold_reason=HoldReason.MAILING_LIST,
                raw={},
            )
        )
        session.add(
            Conversation(
                id="01STATESCONV00000000000001",
                channel="tg",
                chat="c",
                step=ConversationStep.PRIVACY,
                expires_at=now,
            )
        )
    with sessions() as session:
        assert session.scalar(select(Report.central_status)) is CentralStatus.IN_PROGRESS
        assert session.scalar(select(InboundMessage.hold_reason)) is HoldReason.MAILING_LIST
        assert session.scalar(select(Conversation.step)) is ConversationStep.PRIVACY
        # Compared with a member in SQL, the stored string matches.
        found = session.scalar(
            select(Report.id).where(Report.central_status == CentralStatus.IN_PROGRESS)
        )
        assert found == "01STATESREPORT000000000001"


@pytest.mark.parametrize(
    "fields",
    [{"central_status": "on_hold"}, {"central_status": "Completed"}, {"kind": "keluhan"}],
    ids=["status-outside-the-contract", "status-in-another-case", "unknown-kind"],
)
def test_a_value_outside_the_enum_is_refused(
    sessions: sessionmaker[Session], fields: dict[str, str]
) -> None:
    with pytest.raises(StatementError, match="is not a valid"), sessions.begin() as session:
        session.add(_report(**fields))
    with sessions() as session:
        assert session.scalar(select(Report.id)) is None
