"""The coordination table in a real browser: Debian's chromium driven by Playwright against a
real `sp4n-gateway run` process whose database holds ten weeks of known reports and statuses.

The screenshot lands in `docs/screenshots/sla-table.png` with `SP4N_SAVE_SCREENSHOTS=1`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests import sla_data
from tests.console import test_browser
from tests.console.test_browser import PASSWORDS, Shots, Stack, _login

pytestmark = pytest.mark.slow
# The real-process stack and the browser of the main browser test serve here too.
stack = test_browser.stack
browser = test_browser.browser

AGENCIES = ("dinas-pupr", "inspektorat", "pemkab")
CHANNELS = ("web-kabupaten", "surat", "telepon")


def _seed(stack: Stack, items: list[sla_data.Scenario]) -> None:
    from config.loader import load_config
    from gateway.runtime import build_runtime

    runtime = build_runtime(load_config(stack.config, stack.env), base_dir=stack.tmp)
    try:
        with runtime.sessions.begin() as session:
            sla_data.seed(session, items)
    finally:
        runtime.close()


def test_coordination_table_in_a_real_browser(stack: Stack, browser: Any, tmp_path: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    today = sla_data.local(now)
    items = sla_data.scenarios(today, count=60, agencies=AGENCIES, channels=CHANNELS)
    _seed(stack, items)
    stack.cli("user", "add", "admin", "--role", "admin", password=PASSWORDS["admin"])
    stack.start_gateway()
    first, last = sla_data.period(today)
    want = sla_data.expected_rows(items, first, last, now, "agency")

    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="id-ID", accept_downloads=True
    )
    page = context.new_page()
    _login(page, stack, "admin")
    page.get_by_role("link", name="Koordinasi SLA").click()
    page.wait_for_url("**/admin/sla")
    page.get_by_label("Diterima dari tanggal").fill(first.isoformat())
    page.get_by_label("Sampai tanggal").fill(last.isoformat())
    page.get_by_role("button", name="Tampilkan").click()
    page.wait_for_url(f"**/admin/sla?from={first}*")
    row = page.locator("#sla-table tbody tr", has_text="Dinas PUPR Kabupaten Contoh")
    cells = row.locator("td").all_inner_texts()
    pupr = want["dinas-pupr"]
    assert "dinas-pupr" in row.locator("th").inner_text() and cells[0].endswith("WIB")
    assert cells[1] == str(pupr.reports)
    assert cells[6:9] == [str(pupr.not_followed_up), str(pupr.in_process), str(pupr.completed)]
    total = page.locator("#sla-table tfoot td").all_inner_texts()
    assert total[1] == str(len(items) - 2)
    chart = page.locator("figure.chart-box svg")
    assert chart.is_visible()
    assert chart.locator("rect").count() >= len([w for w in want.values() if w.reports])
    Shots(tmp_path).take(page, "sla-table")

    with page.expect_download() as caught:
        page.get_by_role("link", name="XLSX").click()
    saved = tmp_path / "koordinasi.xlsx"
    caught.value.save_as(saved)
    sheet = load_workbook(saved)["Koordinasi SLA"]
    figures = {r[1]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    for code, w in want.items():
        assert figures[code][3] == w.reports and figures[code][12] == w.overdue

    page.get_by_label("Kelompokkan per").select_option("channel")
    page.get_by_role("button", name="Tampilkan").click()
    page.wait_for_url("**by=channel*")
    by_channel = sla_data.expected_rows(items, first, last, now, "channel")
    phone = page.locator("#sla-table tbody tr", has_text="telepon").locator("td")
    assert phone.all_inner_texts()[1] == str(by_channel["telepon"].reports)
    context.close()
