"""`legacy_db` reads an old site's local times (naive DATETIME columns, or text without an
offset) in the channel's `time_zone`, by default the gateway's, instead of refusing the rows.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from adapters.registry import load_adapter_class
from adapters.webform.legacy_db import LegacyDbAdapter
from config.errors import ConfigError
from tests.helpers import config_text, load_test_config

SCHEMA = "CREATE TABLE aduan (id INTEGER PRIMARY KEY, isi TEXT, dibuat DATETIME, waktu TEXT)"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """An old site's SQLite table: a DATETIME column and a text column, both local time."""
    path = tmp_path / "situs.db"
    with sqlite3.connect(path) as conn:
        conn.execute(SCHEMA)
        conn.executemany(
            "INSERT INTO aduan VALUES (?, ?, ?, ?)",
            [
                (1, "Jalan rusak.", "2026-11-20 08:00:00", "2026-11-20 08:00:00"),
                (2, "Lampu mati.", "2026-11-20 08:00:00", "2026-11-20T08:00:00+07:00"),
            ],
        )
    return path


@contextmanager
def adapter_for(
    site: Path, column: str, gateway_zone: str, channel_zone: str = ""
) -> Iterator[LegacyDbAdapter]:
    """The channel as the config loader makes it, with `gateway.timezone` set."""
    entry = (
        "- {name: situs-lama, type: legacy_db, database: '${LEGACY_DB_URL}', table: aduan,"
        f" fields: {{body: isi, received_at: {column}}}"
        + (f", time_zone: {channel_zone}" if channel_zone else "")
        + "}\n"
    )
    text = config_text("sqlite:///unused.db", "http://127.0.0.1:9", channels=entry).replace(
        'public_url: "http://127.0.0.1:8000"',
        f'public_url: "http://127.0.0.1:8000", timezone: {gateway_zone}',
    )
    options = load_test_config(text, LEGACY_DB_URL=f"sqlite:///{site}").channel("situs-lama")
    adapter = load_adapter_class("legacy_db")(options)
    assert isinstance(adapter, LegacyDbAdapter)
    try:
        yield adapter
    finally:
        adapter.close()


CASES = [
    ("DATETIME column in the gateway's zone", "dibuat", "Asia/Makassar", "", 0),
    ("text without offset in the gateway's zone", "waktu", "Asia/Makassar", "", 0),
    ("DATETIME column in the channel's own zone", "dibuat", "Asia/Makassar", "Asia/Jayapura", 23),
    ("text without offset in the channel's own zone", "waktu", "Asia/Makassar", "UTC", 8),
]


@pytest.mark.parametrize(
    ("column", "gateway_zone", "channel_zone", "utc_hour"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_local_times_are_read_in_the_configured_zone(
    site: Path, column: str, gateway_zone: str, channel_zone: str, utc_hour: int
) -> None:
    with adapter_for(site, column, gateway_zone, channel_zone) as adapter:
        assert adapter.options.time_zone == (channel_zone or gateway_zone)
        first, _second = (message for message, _cursor in adapter.poll(None))
        assert first.problem is None
        day = 19 if utc_hour == 23 else 20
        assert first.draft.received_at == dt.datetime(2026, 11, day, utc_hour, tzinfo=dt.UTC)
        assert first.received_at == first.draft.received_at
        # The raw row is kept as the database gave it: no offset is made up.
        raw = {"dibuat": "2026-11-20T08:00:00", "waktu": "2026-11-20 08:00:00"}[column]
        assert first.raw["row"][column] == raw


def test_a_time_with_an_offset_keeps_it(site: Path) -> None:
    with adapter_for(site, "waktu", "Asia/Makassar") as adapter:
        _first, (second, _cursor) = adapter.poll(None)
        assert second.draft.received_at == dt.datetime(2026, 11, 20, 1, tzinfo=dt.UTC)


def test_an_unknown_zone_is_a_config_error(site: Path) -> None:
    with (
        pytest.raises(ConfigError, match=r"time_zone: .*unknown time zone"),
        adapter_for(site, "waktu", "Asia/Makassar", "Asia/Bandung"),
    ):
        pass
