"""The working-day calendar: Indonesian holidays, cuti bersama, WIB dates, the config."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from config.errors import ConfigError
from forwarder.sla.calendar import WorkingCalendar, calendar_from_config
from gateway.cli import main
from tests.helpers import config_text, load_test_config

D = dt.date
WIB = dt.timezone(dt.timedelta(hours=7))


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar()


@pytest.mark.parametrize(
    ("label", "start", "days", "due"),
    [
        # Nyepi (Sat 29 Mar) with its cuti bersama (Fri 28 Mar), straight into Idul Fitri
        # (31 Mar, 1 Apr) and its cuti bersama (2, 3, 4, 7 Apr): day 1 is 8 April.
        ("idul fitri 2025 and cuti bersama", D(2025, 3, 27), 3, D(2025, 4, 10)),
        ("idul fitri 2025, one day", D(2025, 3, 27), 1, D(2025, 4, 8)),
        # Nyepi 2026 (Thu 19 Mar), cuti bersama Nyepi (18 Mar) and Idul Fitri's (20, 23, 24).
        ("nyepi 2026", D(2026, 3, 17), 1, D(2026, 3, 25)),
        ("year end 2025: natal, cuti, new year", D(2025, 12, 24), 5, D(2026, 1, 5)),
        ("received on natal (a holiday)", D(2025, 12, 25), 1, D(2025, 12, 29)),
        ("received on a sunday", D(2026, 11, 29), 3, D(2026, 12, 2)),
        ("ordinary week", D(2026, 11, 23), 3, D(2026, 11, 26)),
        ("sixty working days", D(2026, 1, 2), 60, D(2026, 4, 9)),
    ],
)
def test_due_dates(
    calendar: WorkingCalendar, label: str, start: dt.date, days: int, due: dt.date
) -> None:
    assert calendar.add_working_days(start, days) == due, label
    assert calendar.working_days_between(start, due) == days


def test_holidays_have_indonesian_names(calendar: WorkingCalendar) -> None:
    names = dict(calendar.non_working_days(2025))
    assert names[D(2025, 3, 31)] == "Hari Raya Idul Fitri"
    assert names[D(2025, 4, 7)] == "Cuti Bersama Hari Raya Idul Fitri"
    assert names[D(2025, 3, 29)] == "Hari Suci Nyepi (jatuh pada hari Sabtu)"
    assert names[D(2025, 12, 26)] == "Cuti Bersama Hari Raya Natal"
    assert not calendar.is_working_day(D(2025, 4, 2))
    assert calendar.is_working_day(D(2025, 4, 8))


def test_cuti_bersama_can_come_from_config_alone() -> None:
    """Without the package's cuti bersama, only the config's list adds them."""
    bare = WorkingCalendar(cuti_bersama=False)
    assert bare.is_working_day(D(2025, 4, 2))
    assert bare.add_working_days(D(2025, 3, 27), 3) == D(2025, 4, 3)  # 28 Mar, 2, 3 Apr
    listed = WorkingCalendar(
        cuti_bersama=False,
        extra_holidays={D(2025, 4, 2): "Cuti Bersama Idul Fitri", D(2025, 4, 3): "Cuti Bersama"},
    )
    assert listed.add_working_days(D(2025, 3, 27), 3) == D(2025, 4, 7)


def test_friday_evening_wib_is_friday(calendar: WorkingCalendar) -> None:
    """Days are WIB dates: 06:30 WIB Friday is still Thursday in UTC."""
    friday_evening = dt.datetime(2026, 11, 27, 20, 0, tzinfo=WIB)
    friday_morning_utc_thursday = dt.datetime(2026, 11, 26, 23, 30, tzinfo=dt.UTC)
    for moment in (friday_evening, friday_morning_utc_thursday):
        day = calendar.local_date(moment)
        assert day == D(2026, 11, 27)
        due = calendar.add_working_days(day, 3)
        assert due == D(2026, 12, 2)  # Mon, Tue, Wed
    # Counting in UTC would have given Tuesday for the second one.
    assert calendar.add_working_days(D(2026, 11, 26), 3) == D(2026, 12, 1)
    # The due day ends at midnight WIB: 17:00 UTC.
    assert calendar.end_of_day(D(2026, 12, 2)) == dt.datetime(2026, 12, 2, 17, 0, tzinfo=dt.UTC)


def test_other_zone_and_working_week() -> None:
    """A pemda in WITA working Monday to Saturday."""
    cal = WorkingCalendar(zone="Asia/Makassar", working_days=[1, 2, 3, 4, 5, 6])
    assert cal.local_date(dt.datetime(2026, 11, 27, 16, 30, tzinfo=dt.UTC)) == D(2026, 11, 28)
    assert cal.add_working_days(D(2026, 11, 27), 1) == D(2026, 11, 28)  # Saturday works


@settings(max_examples=300, deadline=None)
@given(
    start=st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 12, 31)).map(
        lambda d: d.replace(tzinfo=dt.UTC)
    ),
    days=st.integers(min_value=1, max_value=70),
    extra=st.lists(st.dates(min_value=D(2020, 1, 1), max_value=D(2031, 6, 30)), max_size=20),
    week=st.sets(st.integers(min_value=1, max_value=7), min_size=1),
)
def test_due_dates_never_fall_on_a_non_working_day(
    start: dt.datetime, days: int, extra: list[dt.date], week: set[int]
) -> None:
    cal = WorkingCalendar(working_days=week, extra_holidays={d: "libur" for d in extra})
    day = cal.local_date(start)
    due = cal.add_working_days(day, days)
    assert cal.is_working_day(due)
    assert due > day
    assert cal.working_days_between(day, due) == days
    assert cal.working_days_between(day, due - dt.timedelta(days=1)) == days - 1


def _config(tmp_path: Path, sla: str) -> Path:
    path = tmp_path / "gateway.yaml"
    text = config_text(f"sqlite:///{tmp_path / 'g.db'}", "http://127.0.0.1:9", extra=sla)
    path.write_text(text, encoding="utf-8")
    return path


SLA_YAML = """\
sla:
  working_days: [senin, selasa, rabu, kamis, jumat]
  extra_holidays:
    - 2026-11-30
    - {date: 2026-04-20, name: Hari Jadi Kabupaten Contoh}
"""


def test_config_section(tmp_path: Path) -> None:
    config = load_test_config(_config(tmp_path, SLA_YAML).read_text())
    sla = config.model.sla
    assert sla.working_days == [1, 2, 3, 4, 5]
    assert (sla.verification, sla.first_response, sla.follow_up, sla.closure) == (3, 3, 5, 10)
    assert sla.resolution == 60
    cal = calendar_from_config(config.model)
    assert not cal.is_working_day(D(2026, 4, 20))
    assert dict(cal.non_working_days(2026))[D(2026, 11, 30)] == "Libur tambahan"


def test_config_errors_are_named(tmp_path: Path) -> None:
    bad = "sla:\n  working_days: [senin, caturday]\n  extra_holidays: [tahun-baru]\n"
    with pytest.raises(ConfigError) as caught:
        load_test_config(_config(tmp_path, bad).read_text())
    text = "\n".join(str(i) for i in caught.value.issues)
    assert "sla.working_days" in text and "caturday" in text
    assert "sla.extra_holidays" in text


def test_cli_prints_the_year(tmp_path: Path) -> None:
    path = _config(tmp_path, SLA_YAML)
    env = {"CENTRAL_TOKEN": "test-token", "WEB_SECRET": "x" * 20}
    result = CliRunner().invoke(
        main, ["sla", "calendar", "--year", "2026", "--config", str(path)], env=env
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "Kamis  19 Mar 2026  Hari Suci Nyepi" in [line.strip() for line in lines]
    assert any("Cuti Bersama Hari Raya Idul Fitri" in line for line in lines)
    assert any("20 Apr 2026  Hari Jadi Kabupaten Contoh" in line for line in lines)
    assert any("Senin  30 Nov 2026  Libur tambahan" in line for line in lines)
    assert "libur mingguan: Sabtu, Minggu" in lines[0]
    # Without a config: the defaults.
    bare = CliRunner().invoke(main, ["sla", "calendar", "--year", "2025"])
    assert bare.exit_code == 0 and "Senin  31 Mar 2025  Hari Raya Idul Fitri" in bare.output


def test_digest_password_only_from_the_environment(tmp_path: Path) -> None:
    digest = (
        "sla:\n  digest: {smtp_host: smtp.kab.go.id, from_address: sla@kab.go.id,"
        " smtp_user: sla, smtp_password: '%s'}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_test_config(_config(tmp_path, digest % "rahasia-tertulis").read_text())
    assert any("sla.digest.smtp_password" in str(i) for i in caught.value.issues)
    ok = load_test_config(
        _config(tmp_path, digest % "${SLA_SMTP_PASSWORD}").read_text(),
        SLA_SMTP_PASSWORD="sandi-dari-env",
    )
    assert ok.model.sla.digest is not None
    assert ok.model.sla.digest.smtp_password is not None
    assert ok.model.sla.digest.smtp_password.get_secret_value() == "sandi-dari-env"
    plain = "sla:\n  digest: {smtp_host: smtp.kab.go.id, from_address: a@b.id, smtp_tls: none}\n"
    with pytest.raises(ConfigError) as caught:
        load_test_config(_config(tmp_path, plain).read_text())
    assert any("loopback" in str(i) for i in caught.value.issues)


def test_config_can_leave_cuti_bersama_out(tmp_path: Path) -> None:
    config = load_test_config(_config(tmp_path, "sla: {cuti_bersama: false}\n").read_text())
    cal = calendar_from_config(config.model)
    assert cal.is_working_day(D(2025, 4, 2))  # cuti bersama Idul Fitri: worked here
    assert not cal.is_working_day(D(2025, 3, 31))  # Idul Fitri itself stays a holiday


def test_a_sparse_working_week_counts_past_the_years_first_covered() -> None:
    """One working day a week: 300 of them reach beyond the years covered at first."""
    cal = WorkingCalendar(working_days=(6,), cuti_bersama=False)
    start = D(2026, 1, 5)
    day, left = start, 300
    while left:
        day += dt.timedelta(days=1)
        left -= cal.is_working_day(day)
    assert day.year >= 2031
    assert cal.add_working_days(start, 300) == day


def test_a_naive_moment_is_utc_whatever_the_machine_zone(
    monkeypatch: pytest.MonkeyPatch, calendar: WorkingCalendar
) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        # 12:00 UTC is 19:00 WIB the same day (taken as New York time it would be the next).
        assert calendar.local_date(dt.datetime(2026, 11, 30, 12, 0)) == D(2026, 11, 30)
    finally:
        monkeypatch.undo()
        time.tzset()
