"""SMS reply templates: the acknowledgement fits one GSM-7 SMS; long answers are cut sensibly."""

from __future__ import annotations

import pytest

from adapters.sms.common import sms_reply_text
from adapters.sms.gsm import is_gsm7, length_in_units, split_parts
from forwarder.replies import ReplyTemplates

LONG_AGENCY = (
    "Dinas Pekerjaan Umum, Penataan Ruang, Perumahan dan Kawasan Permukiman"
    " Kabupaten Kepulauan Contoh Selatan"
)


@pytest.mark.parametrize(
    "status_url",
    [
        "",
        "http://127.0.0.1:8000/s/AbCdEfGhIjKlMnOpQrStUv",
        "https://pengaduan.kabupaten-kepulauan-contoh-selatan.go.id/s/AbCdEfGhIjKlMnOpQrStUv",
    ],
)
@pytest.mark.parametrize("agency", ["Dinas PUPR", LONG_AGENCY, "Dinas \u201cKhusus\u201d"])
def test_ack_fits_one_gsm7_sms(agency: str, status_url: str) -> None:
    text = ReplyTemplates().render(
        "ack",
        "sms",
        tracking_id="LPR1234567",
        agency="x",
        agency_name=agency,
        kind="pengaduan",
        status_url=status_url,
    )
    sent = sms_reply_text(text, 1)
    assert "LPR1234567" in sent
    assert status_url in sent  # the private link is never cut
    assert is_gsm7(sent)
    assert length_in_units(sent) <= 160, sent
    assert sent == text.replace("\u201c", '"').replace("\u201d", '"')  # nothing was cut


@pytest.mark.parametrize(
    "name, context",
    [
        (
            "status",
            {"status": "in_progress", "status_label": "sedang ditindaklanjuti", "note": None},
        ),
        ("response", {"text": "Terima kasih, perbaikan dijadwalkan minggu depan."}),
        (
            "status_query",
            {
                "found": True,
                "status_label": "sedang ditindaklanjuti",
                "include_response": True,
                "text": "Tim dijadwalkan hari Kamis.",
            },
        ),
        (
            "status_query",
            {
                "found": True,
                "status_label": "sedang ditindaklanjuti",
                "include_response": False,
                "text": None,
            },
        ),
        (
            "status_query",
            {"found": False, "status_label": None, "include_response": False, "text": None},
        ),
    ],
)
def test_sms_templates_render_in_one_gsm7_part(name: str, context: dict[str, object]) -> None:
    text = ReplyTemplates().render(
        name,
        "sms",
        tracking_id="LPR1234567",
        agency="x",
        agency_name=LONG_AGENCY,
        kind="pengaduan",
        **context,
    )
    assert "LPR1234567" in text
    assert is_gsm7(text)
    assert len(split_parts(text)) == 1


def test_long_agency_response_is_split_then_shortened() -> None:
    answer = "Kami sudah meninjau lokasi. " * 40
    text = ReplyTemplates().render(
        "response",
        "sms",
        tracking_id="LPR1234567",
        agency="x",
        agency_name="Dinas PUPR",
        kind="pengaduan",
        text=answer,
    )
    sent = sms_reply_text(text, 3)
    assert len(split_parts(sent)) == 3
    assert sent.endswith("...")
    assert sent.startswith("LAPOR! Tanggapan Dinas PUPR atas laporan LPR1234567:")
    short = sms_reply_text("Sudah diperbaiki \u2014 terima kasih.", 3)
    assert short == "Sudah diperbaiki - terima kasih."


def test_non_gsm_response_stays_unicode_and_is_cut_with_an_ellipsis() -> None:
    sent = sms_reply_text("ꦗꦭꦤ꧀ " * 200, 2)
    assert len(split_parts(sent)) == 2
    assert sent.endswith("…")
