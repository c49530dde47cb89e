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
