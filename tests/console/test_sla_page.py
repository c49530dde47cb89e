"""`/admin/sla`: the coordination table page, its chart and its downloads."""

from __future__ import annotations

import datetime as dt
import html
import io
import re

from openpyxl import load_workbook
from sqlalchemy import select

from store.models import AuditEntry
from tests import sla_data
from tests.console.conftest import Console


def _seed(console: Console) -> tuple[list[sla_data.Scenario], dt.date, dt.date, dt.datetime]:
    now = dt.datetime.now(dt.UTC)
    items = sla_data.scenarios(sla_data.local(now))
    with console.runtime.sessions.begin() as session:
        sla_data.seed(session, items)
    first, last = sla_data.period(sla_data.local(now))
    return items, first, last, now


def _cells(page: str, label: str) -> list[str]:
    """The cells of the table row whose header is `label`."""
    found = re.search(
        rf'<th scope="row">{re.escape(label)}(<br><small>[^<]*</small>)?</th>(.*?)</tr>', page, re.S
    )
    assert found, f"no row {label}"
    return [html.unescape(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", found.group(2))]


def test_the_page_shows_the_table_and_its_chart(console: Console) -> None:
    items, first, last, now = _seed(console)
    want = sla_data.expected_rows(items, first, last, now, "agency")
    client = console.client_for("operator")  # every signed-in user may read it
    answer = client.get(f"/admin/sla?from={first}&to={last}")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "Tabel koordinasi SLA" in page and 'aria-current="page">Koordinasi SLA' in page
    assert "Hari kerja sampai RTL" in page and "Belum ditindak&shy;lanjuti" in page
    upt = want["upt-jalan"]
    assert "UPT Jalan Wilayah I<br><small>upt-jalan</small>" in page
    cells = _cells(page, "UPT Jalan Wilayah I")
    assert cells[0].endswith("WIB") and "UTC" not in page
    assert cells[1] == str(upt.reports)
    assert cells[2] == f"{upt.avg(upt.response):.1f}".replace(".", ",")
    assert cells[6:11] == [
        str(upt.not_followed_up), str(upt.in_process), str(upt.completed), str(upt.archived),
        str(upt.overdue),
    ]  # fmt: skip
    assert cells[11] == f"{100 * (upt.share or 0):.1f} %".replace(".", ",")
    total = _cells(page, "Jumlah")
    assert total[1] == str(len(items) - 2)
    # The chart: one bar per agency with reports, a part per state, named for screen readers.
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert f"UPT Jalan Wilayah I, selesai: {upt.completed}</title>" in svg
    assert "Admin Nasional LAPOR!" not in svg  # no reports, no bar
    assert page.count('class="swatch c') == 4
    by_channel = client.get(f"/admin/sla?from={first}&to={last}&by=channel").get_data(as_text=True)
    web = sla_data.expected_rows(items, first, last, now, "channel")["web"]
    assert _cells(by_channel, "web")[1] == str(web.reports)


def test_downloads_are_audited_and_match_the_page(console: Console) -> None:
    items, first, last, now = _seed(console)
    want = sla_data.expected_rows(items, first, last, now, "agency")
    client = console.client_for("admin")
    answer = client.get(f"/admin/sla/table.xlsx?from={first}&to={last}")
    assert answer.status_code == 200
    assert "koordinasi-sla-agency" in answer.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(answer.data))["Koordinasi SLA"]
    rows = {r[1]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    for code, w in want.items():
        assert rows[code][3] == w.reports
        assert rows[code][12] == w.overdue
    csv_answer = client.get(f"/admin/sla/table.csv?from={first}&to={last}&by=channel")
    assert csv_answer.get_data(as_text=True).startswith("\ufeffKanal,")
    with console.runtime.sessions() as session:
        entries = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "export_sla")))
    assert [(e.actor, e.detail["format"], e.detail["by"]) for e in entries] == [
        ("admin", "xlsx", "agency"),
        ("admin", "csv", "channel"),
    ]
    assert client.get("/admin/sla/table.pdf").status_code == 404


def test_sign_in_required(console: Console) -> None:
    anonymous = console.client_for(None)
    for path in ("/admin/sla", "/admin/sla/table.xlsx"):
        answer = anonymous.get(path)
        assert answer.status_code == 302 and "/admin/login" in answer.headers["Location"]


def test_bad_dates_fall_back_to_this_year(console: Console) -> None:
    page = console.client_for("operator").get("/admin/sla?from=kemarin&to=2026-13-40&by=x")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    today = sla_data.local(dt.datetime.now(dt.UTC))
    assert f'value="{today.replace(month=1, day=1)}"' in text and f'value="{today}"' in text
