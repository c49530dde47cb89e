"""Quoted replies and signatures: what is stripped, what stays, and that nothing else is lost."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.email.quotes import strip_quotes

CASES = {
    "inline answers between quotes stay": (
        "> Di mana lokasinya?\nDi depan pasar.\n> Sejak kapan?\nSejak Senin.",
        False,
        "Di depan pasar.\nSejak Senin.",
    ),
    "bottom posting below an English reply header": (
        "On Mon, 16 Nov 2026 at 08:00, Aduan <aduan@example.com> wrote:\n> Nomor lacak LPR1\n\n"
        "Belum diperbaiki.",
        False,
        "Belum diperbaiki.",
    ),
    "top posting above an Indonesian reply header": (
        "Masih rusak.\n\nPada Sen, 16 Nov 2026 08.00, Aduan <aduan@example.com> menulis:\n"
        "Laporan Anda sudah kami terima.",
        False,
        "Masih rusak.",
    ),
    "Android Russian header, quotes below": (
        'Всё ещё не починили.\n\n30.11.2026, 10:15 пользователь "Aduan" <aduan@example.com>'
        " написал:\n> Laporan Anda sudah kami terima.\n> Nomor lacak LPR1234567",
        False,
        "Всё ещё не починили.",
    ),
    "Android Russian header, top posting": (
        'Masih rusak.\n\n30.11.2026 10:15 пользователь "Aduan" <aduan@example.com> написал:\n'
        "Laporan Anda sudah kami terima.",
        False,
        "Masih rusak.",
    ),
    "German Thunderbird/Apple header": (
        "Immer noch kaputt.\n\nAm 30.11.2026 um 10:15 schrieb Aduan <aduan@example.com>:\n"
        "> Laporan Anda sudah kami terima.",
        False,
        "Immer noch kaputt.",
    ),
    "German header wrapped over two lines": (
        "Immer noch kaputt.\n\nAm Mo., 30. Nov. 2026 um 10:15 Uhr schrieb Aduan\n"
        "<aduan@example.com>:\n> Laporan Anda sudah kami terima.",
        False,
        "Immer noch kaputt.",
    ),
    "French Gmail header": (
        "Toujours en panne.\n\nLe lun. 30 nov. 2026 à 10:15, Aduan <aduan@example.com> a écrit :"
        "\n> Laporan Anda sudah kami terima.",
        False,
        "Toujours en panne.",
    ),
    "Indonesian Gmail header with pukul": (
        "Masih rusak.\n\nPada tanggal Sen, 30 Nov 2026 pukul 10.15 Aduan <aduan@example.com>"
        " menulis:\n> Laporan Anda sudah kami terima.",
        False,
        "Masih rusak.",
    ),
    "Spanish header": (
        "Sigue roto.\n\nEl lun, 30 nov 2026 a las 10:15, Aduan (<aduan@example.com>) escribió:"
        "\n> Laporan Anda sudah kami terima.",
        False,
        "Sigue roto.",
    ),
    "Gmail Russian header without a verb": (
        "Всё ещё не починили.\n\nпн, 30 нояб. 2026 г. в 10:15, Aduan <aduan@example.com>:\n"  # noqa: RUF001
        "> Laporan Anda sudah kami terima.",
        False,
        "Всё ещё не починили.",
    ),
    "Chinese header": (
        "还没修好。\n\nAduan <aduan@example.com> 于2026年11月30日周一 10:15写道\uff1a\n"
        "> Laporan Anda sudah kami terima.",
        False,
        "还没修好。",
    ),
    "a citizen's own line saying they wrote stays": (
        "Saya sudah menulis ke dinas@example.go.id pada 12.01.2026 pukul 10.15:\n"
        "jalan berlubang di depan pasar, tetapi belum dijawab.",
        False,
        "Saya sudah menulis ke dinas@example.go.id pada 12.01.2026 pukul 10.15:\n"
        "jalan berlubang di depan pasar, tetapi belum dijawab.",
    ),
    "a citizen's contact line ending at an address stays": (
        "Hubungi saya 0812-0000-0000 atau <budi@example.org>:\nsetiap hari kerja.",
        False,
        "Hubungi saya 0812-0000-0000 atau <budi@example.org>:\nsetiap hari kerja.",
    ),
    "a citizen's own line with an address and a colon stays": (
        "Saya sudah mengirim surat pada 30.11.2026 ke dinas@example.go.id, isinya:\n"
        "jalan berlubang di depan pasar.",
        False,
        "Saya sudah mengirim surat pada 30.11.2026 ke dinas@example.go.id, isinya:\n"
        "jalan berlubang di depan pasar.",
    ),
    "Outlook header block without separator": (
        "Sudah saya kirim fotonya.\n\nFrom: Aduan Kabupaten\nSent: Monday, 16 November 2026\n"
        "To: Budi\nSubject: RE: Laporan\n\nMohon kirim foto.",
        False,
        "Sudah saya kirim fotonya.",
    ),
    "Indonesian Outlook block (Dari/Dikirim/Kepada)": (
        "Terlampir.\n\nDari: Aduan\nDikirim: Senin, 16 November 2026\nKepada: Budi\n"
        "Perihal: Laporan\n\nMohon lampiran.",
        False,
        "Terlampir.",
    ),
    "signature delimiter": ("Lampu mati.\n-- \nBudi\n0812-0000-0000", False, "Lampu mati."),
    "client footers at the end": ("Lampu mati.\n\nSent from my iPhone", False, "Lampu mati."),
    "Dikirim dari in the middle of a sentence stays": (
        "Surat ini dikirim dari kantor desa kemarin.\nMohon dibalas.",
        False,
        "Surat ini dikirim dari kantor desa kemarin.\nMohon dibalas.",
    ),
    "a forward keeps the forwarded complaint": (
        "Mohon ditindaklanjuti.\n\n---------- Forwarded message ---------\nFrom: Warga\n"
        "Date: Sen\nSubject: Banjir\nTo: Budi\n\nBanjir setinggi lutut.",
        True,
        "Mohon ditindaklanjuti.\n\n---------- Forwarded message ---------\nFrom: Warga\n"
        "Date: Sen\nSubject: Banjir\nTo: Budi\n\nBanjir setinggi lutut.",
    ),
}


@pytest.mark.parametrize(("text", "forwarded", "expected"), list(CASES.values()), ids=list(CASES))
def test_strip_quotes(text: str, forwarded: bool, expected: str) -> None:
    assert strip_quotes(text, forwarded=forwarded).text == expected


@given(
    st.lists(
        st.sampled_from(
            [
                "Jalan rusak.",
                "> kutipan",
                "On Mon wrote:",
                "Pada Sen menulis:",
                "-- ",
                "",
                "-----Original Message-----",
                "From: x",
                "Sent: y",
                "To: z",
                "Sent from my iPhone",
                "________________________________",
                "Dikirim dari Yahoo Mail",
            ]
        )
        | st.text(max_size=40),
        max_size=30,
    ),
    st.booleans(),
)
def test_only_whole_lines_of_the_input_are_kept(lines: list[str], forwarded: bool) -> None:
    text = "\n".join(lines)
    result = strip_quotes(text, forwarded=forwarded)
    kept = result.text.split("\n") if result.text else []
    source = text.split("\n")
    # The result is the input with lines removed, in order: never rewritten, never invented.
    position = 0
    for line in kept:
        assert line in source[position:]
        position = source.index(line, position) + 1
