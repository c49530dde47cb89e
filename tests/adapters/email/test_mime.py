"""MIME -> draft: a labelled table of real-world shapes, CPython's corpus, property tests."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.email.charsets import decode_bytes
from adapters.email.mime import MimeLimits, external_id_for, parse_email
from normalizer.pipeline import NormalizerSettings, normalize_draft
from vocabulary.errors import PayloadInvalid

PAYLOADS = Path(__file__).parent / "payloads"
AT = dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.UTC)
LIMITS = MimeLimits(max_attachment_bytes=4096)


@dataclass
class Case:
    """One labelled message and what must come out of it."""

    file: str
    title: object = ...  # ... = not checked
    body_has: tuple[str, ...] = ()
    body_lacks: tuple[str, ...] = ()
    hold: str | None = None
    name: object = ...
    email: object = ...
    attachments: tuple[str, ...] = ()
    notes_have: tuple[str, ...] = ()
    in_reply_to: str | None = None
    thread_refs: tuple[str, ...] = ()


CASES = {
    "plain": Case(
        "plain.eml",
        title="Jalan rusak di Jl. Merdeka",
        body_has=("berlubang besar", "Terima kasih,\nBudi"),
        name="Budi Santoso",
        email="budi.santoso@example.org",
    ),
    "html only": Case(
        "html_only.eml",
        title="Lampu jalan mati",
        body_has=(
            "Gang Mawar RT 02/RW 05 sudah mati selama tiga minggu",
            "- Tiang nomor 14",
            "https://example.org/foto/14",
        ),
        body_lacks=("<p>", "color: #333", "**"),
        notes_have=("HTML body converted to text",),
    ),
    "multipart alternative takes the plain part": Case(
        "multipart_alternative.eml",
        title="Sampah menumpuk \u2013 pasar lama",
        body_has=("Bau sekali dan banyak lalat.",),
        body_lacks=("<div",),
    ),
    "base64 body": Case(
        "base64_body.eml",
        title="Air PDAM keruh",
        body_has=("keruh dan berbau sejak kemarin sore. Mohon dicek.",),
    ),
    "broken base64 still yields text": Case(
        "broken_base64.eml",
        body_has=("Air PDAM di perumahan Griya Asri",),
        notes_have=("damaged MIME part",),
    ),
    "ISO-8859-1 labelled UTF-8": Case(
        "latin1_as_utf8.eml",
        body_has=("Café Pelangi", "± 5 meter"),
        notes_have=("not valid utf-8; decoded as cp1252",),
    ),
    "Windows-1252 labelled UTF-8": Case(
        "cp1252_as_utf8.eml",
        body_has=("“Pasar Baru”", "jalan \u2013 setiap", "Rp5.000…"),
        notes_have=("not valid utf-8",),
    ),
    "forwarded message keeps the forwarded complaint and its attachments": Case(
        "forwarded_with_attachments.eml",
        title="Laporan banjir di Perumahan Griya Asri",
        body_has=("Mohon ditindaklanjuti", "Drainase di Blok C tersumbat"),
        attachments=("banjir-blok-c.png", "surat-rt.pdf"),
    ),
    "Outlook reply chain: quoted history and header blocks stripped": Case(
        "outlook_reply_chain.eml",
        title="Jalan rusak di Jl. Merdeka [LPR1234567]",
        body_has=("makin besar", "Joko"),
        body_lacks=("Sent:", "Original Message", "Nomor lacak"),
        in_reply_to="LPR1234567",
        thread_refs=("<ack-0001@example.com>", "<CAPlain0001@mail.example.org>"),
        notes_have=("quoted earlier messages removed",),
    ),
    "Indonesian Gmail reply: 'Pada ... menulis:', signature and footer stripped": Case(
        "gmail_reply_indonesian.eml",
        title="Laporan Anda [LPR7654321]",
        body_has=("belum ada perbaikan",),
        body_lacks=("menulis", "RT 03", "iPhone", ">"),
        in_reply_to="LPR7654321",
        thread_refs=("<170000000000.1.99@example.com>", "<CAPlain0001@mail.example.org>"),
    ),
    "Outlook auto-reply": Case("auto_reply_outlook.eml", hold="auto_reply"),
    "vacation Auto-Submitted + Precedence bulk": Case(
        "vacation_auto_submitted.eml", hold="auto_reply"
    ),
    "bounce (RFC 3464 DSN)": Case("bounce_dsn.eml", hold="bounce"),
    "mailing list": Case("mailing_list.eml", hold="mailing_list"),
    "no Subject: title left to the normalizer": Case(
        "no_subject.eml", title=None, body_has=("Pungutan liar",), email="wati@example.org"
    ),
    "no From: still a report, nobody to answer": Case(
        "no_from.eml", title="Pohon tumbang", name=None, email=None, body_has=("Jl. Diponegoro",)
    ),
    "oversized attachment skipped with a note, inline image kept": Case(
        "oversized_attachment.eml",
        body_has=("Video terlampir",),
        attachments=("genangan.png",),
        notes_have=("attachment 1 (video/mp4, .mp4, 6144 bytes) skipped: larger than 4096",),
    ),
    "forbidden attachment type skipped with a note": Case(
        "forbidden_attachment.eml",
        body_has=("Bukti pungutan liar",),
        attachments=(),
        notes_have=("(application/octet-stream, .exe, 62 bytes) skipped: type not allowed",),
    ),
    "empty after stripping quotes and signature is held": Case("empty_body.eml", hold="empty"),
    "HTML with inline image (multipart/related), RFC 2047 Latin-1 headers": Case(
        "html_related_inline_image.eml",
        title="Jembatan retak di Desa Sukaé",
        name="André Silalahi",
        body_has=("retak di tiang tengah",),
        body_lacks=("iPhone", "cid:"),
        attachments=("lampiran-1.png",),
    ),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_labelled_message(case: Case) -> None:
    raw = (PAYLOADS / case.file).read_bytes()
    message = parse_email(raw, AT, LIMITS)
    draft = message.draft
    assert message.hold == case.hold, draft.notes
    if case.hold:
        return
    if case.title is not ...:
        assert draft.title == case.title
    for snippet in case.body_has:
        assert snippet in draft.body
    for snippet in case.body_lacks:
        assert snippet not in draft.body
    if case.name is not ...:
        assert draft.name == case.name
    if case.email is not ...:
        assert draft.email == case.email
    assert tuple(a.filename for a in draft.attachments) == case.attachments
    for note in case.notes_have:
        assert any(note in n for n in draft.notes), draft.notes
    assert draft.in_reply_to == case.in_reply_to
    assert tuple(draft.thread_refs) == case.thread_refs
    # What we hand over is always a report the normalizer accepts.
    normalize_draft(draft, NormalizerSettings())


def test_raw_bytes_are_kept_and_reply_coordinates_set() -> None:
    raw = (PAYLOADS / "plain.eml").read_bytes()
    message = parse_email(raw, AT, LIMITS, {"folder": "INBOX", "uid": 7})
    import base64

    assert base64.b64decode(message.raw["rfc822_base64"]) == raw
    assert message.raw["folder"] == "INBOX" and message.raw["uid"] == 7
    assert message.raw["message_id"] == "<CAPlain0001@mail.example.org>"
    assert message.draft.reply_to == {
        "email": "budi.santoso@example.org",
        "from": "budi.santoso@example.org",
        "message_id": "<CAPlain0001@mail.example.org>",
        "subject": "Jalan rusak di Jl. Merdeka",
    }
    assert message.external_id == external_id_for("<CAPlain0001@mail.example.org>", raw)


def test_external_id_stable_and_distinct() -> None:
    raw = (PAYLOADS / "plain.eml").read_bytes()
    changed = raw.replace(b"berlubang", b"retak")
    assert parse_email(raw, AT, LIMITS).external_id == parse_email(raw, AT, LIMITS).external_id
    # Same Message-ID, different content (a client reusing ids): two messages, not one.
    assert parse_email(changed, AT, LIMITS).external_id != parse_email(raw, AT, LIMITS).external_id
    no_id = b"From: a@example.org\r\nSubject: x\r\n\r\nisi laporan\r\n"
    assert parse_email(no_id, AT, LIMITS).external_id.startswith("sha256:")
    assert len(external_id_for("<" + "x" * 400 + "@example.org>", raw)) <= 255


def test_subject_only_message_uses_subject_as_text() -> None:
    raw = b"From: a@example.org\r\nSubject: Lampu jalan mati di Gg. Melati\r\n\r\n\r\n"
    message = parse_email(raw, AT, LIMITS)
    assert message.hold is None
    assert message.draft.body == "Lampu jalan mati di Gg. Melati"


def test_allowed_types_limit_attachments() -> None:
    raw = (PAYLOADS / "forwarded_with_attachments.eml").read_bytes()
    message = parse_email(raw, AT, MimeLimits(allowed_types=("image/*",)))
    assert [a.filename for a in message.draft.attachments] == ["banjir-blok-c.png"]
    assert any("application/pdf" in n and "allowed_types" in n for n in message.draft.notes)


def test_unknown_declared_charset_falls_back_with_note() -> None:
    text, note = decode_bytes(b"Jalan berlubang", "x-no-such-charset")
    assert text == "Jalan berlubang"
    assert note is not None and "unknown charset" in note


def test_reply_to_header_is_where_answers_go() -> None:
    raw = (
        b"From: Budi <budi@example.org>\r\nReply-To: kantor@example.com\r\n"
        b"Message-ID: <r1@example.org>\r\nSubject: Banjir\r\n\r\nBanjir di pasar.\r\n"
    )
    draft = parse_email(raw, AT, LIMITS).draft
    assert draft.email == "budi@example.org"
    assert draft.reply_to["email"] == "kantor@example.com"
    assert draft.reply_to["from"] == "budi@example.org"  # who wrote: the follow-up check


ADDRESS_HEADERS = {
    # The case: an encoded word smuggling "\r\nBcc: evil@..." into the display name.
    "CR/LF in an encoded display name": (
        b"=?utf-8?q?Budi=0D=0ABcc=3A_evil=40example=2Eorg?= <budi@example.org>",
        "Budi Bcc: evil@example.org",
        "budi@example.org",
    ),
    "encoded word naming another address": (
        b"=?utf-8?b?ZXZpbEBleGFtcGxlLm9yZw==?= <budi@example.org>",
        "evil@example.org",
        "budi@example.org",
    ),
    "quoted display name with an @": (
        b'"evil@example.org" <budi@example.org>',
        "evil@example.org",
        "budi@example.org",
    ),
    "comment after a bare address": (
        b"budi@example.org (evil@example.org)",
        None,
        "budi@example.org",
    ),
    "folded over two lines": (b"Budi\r\n <budi@example.org>", "Budi", "budi@example.org"),
    "group with no address": (b"undisclosed-recipients:;", None, None),
    "no domain": (b"Budi <budi>", "Budi", None),
}


@pytest.mark.parametrize(
    ("value", "name", "address"), list(ADDRESS_HEADERS.values()), ids=list(ADDRESS_HEADERS)
)
def test_addresses_come_from_parsed_address_objects(
    value: bytes, name: str | None, address: str | None
) -> None:
    raw = b"From: " + value + b"\r\nSubject: Banjir\r\n\r\nBanjir di pasar.\r\n"
    draft = parse_email(raw, AT, LIMITS).draft
    assert (draft.name, draft.email) == (name, address)
    assert draft.reply_to.get("email") == address
    assert draft.reply_to.get("from", None if address is None else "") == address


@settings(max_examples=300, deadline=None)
@given(name=st.text(max_size=60), encoding=st.sampled_from(["b", "q"]))
def test_no_display_name_changes_the_address(name: str, encoding: str) -> None:
    """Whatever an encoded display name holds (CR, LF, other addresses, brackets), the
    address is the one in angle brackets and the name stays one line."""
    data = name.encode("utf-8", "surrogatepass")
    if encoding == "b":
        word = base64.b64encode(data).decode("ascii")
    else:
        word = "".join(chr(b) if chr(b).isalnum() and b < 128 else f"={b:02X}" for b in data)
    raw = (
        f"From: =?utf-8?{encoding}?{word}?= <budi@example.org>\r\n"
        "Reply-To: =?utf-8?b?" + base64.b64encode(data).decode("ascii") + "?= <kantor@example.org>"
        "\r\nSubject: Banjir\r\n\r\nBanjir di pasar.\r\n"
    ).encode("ascii")
    draft = parse_email(raw, AT, LIMITS).draft
    assert draft.email == "budi@example.org"
    assert draft.reply_to["from"] == "budi@example.org"
    assert draft.reply_to["email"] == "kantor@example.org"
    assert draft.name is None or not any(c in draft.name for c in "\r\n\x00")


def test_reply_to_is_read_the_same_way() -> None:
    raw = (
        b"From: Budi <budi@example.org>\r\n"
        b"Reply-To: =?utf-8?q?Kantor=0D=0ABcc=3A_evil=40example=2Eorg?= <kantor@example.com>\r\n"
        b"Subject: Banjir\r\n\r\nBanjir di pasar.\r\n"
    )
    draft = parse_email(raw, AT, LIMITS).draft
    assert draft.reply_to["email"] == "kantor@example.com"
    assert draft.reply_to["from"] == "budi@example.org"


# --- CPython's own email test corpus: messages nobody here wrote -------------------------


def _cpython_corpus() -> list[Path]:
    data = Path(sysconfig.get_path("stdlib")) / "test" / "test_email" / "data"
    return sorted(data.glob("msg_*.txt"))


CORPUS = _cpython_corpus()


@pytest.mark.skipif(
    not CORPUS,
    reason="this Python has no test.test_email data (Debian ships it in libpython3.x-testsuite)",
)
def test_cpython_corpus_every_message_is_a_draft_or_a_hold() -> None:
    outcomes: dict[str, str] = {}
    for path in CORPUS:
        message = parse_email(path.read_bytes(), AT, MimeLimits())
        assert message.external_id, path.name
        assert message.raw["rfc822_base64"], path.name
        if message.hold is None:
            normalize_draft(message.draft, NormalizerSettings())
            outcomes[path.name] = "draft"
        else:
            outcomes[path.name] = message.hold
    assert len(outcomes) == len(CORPUS) >= 40
    # Spot checks on shapes we know: a DSN, a plain message, a list digest with Precedence.
    assert outcomes["msg_16.txt"] == "bounce"
    assert outcomes["msg_01.txt"] == "draft"
    assert outcomes["msg_32.txt"] == "bulk"
    assert set(outcomes.values()) <= {
        "draft",
        "bounce",
        "auto_reply",
        "bulk",
        "mailing_list",
        "empty",
        "unreadable",
    }


# --- property tests -----------------------------------------------------------------------


def _check(raw: bytes) -> None:
    message = parse_email(raw, AT, LIMITS)
    assert message.external_id and len(message.external_id) <= 255
    assert message.raw["size"] == len(raw)
    if message.hold is None:
        normalize_draft(message.draft, NormalizerSettings())
    else:
        with contextlib.suppress(PayloadInvalid):
            normalize_draft(message.draft, NormalizerSettings())


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_give_a_draft_or_a_hold(raw: bytes) -> None:
    _check(raw)


SEEDS = [p.read_bytes() for p in sorted(PAYLOADS.glob("*.eml"))] + [
    p.read_bytes() for p in CORPUS[:20]
]


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.sampled_from(SEEDS),
    st.lists(
        st.tuples(st.integers(0, 10_000), st.integers(0, 40), st.binary(max_size=12)), max_size=6
    ),
)
def test_mutated_real_messages_give_a_draft_or_a_hold(
    seed: bytes, edits: list[tuple[int, int, bytes]]
) -> None:
    raw = seed
    for position, cut, insert in edits:
        at = position % (len(raw) + 1)
        raw = raw[:at] + insert + raw[at + cut :]
    _check(raw)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.text(max_size=300),
    st.sampled_from(["utf-8", "iso-8859-1", "koi8-r", "x-bogus", "utf-16", None]),
)
def test_header_and_charset_soup(text: str, charset: str | None) -> None:
    headers = "".join(
        f"{h}: {text}\r\n" for h in ("From", "Subject", "Reply-To", "References", "Content-Type")
    )
    params = f"; charset={charset}" if charset else ""
    raw = (headers + f"Content-Type: text/plain{params}\r\n\r\n").encode(
        "utf-8", "replace"
    ) + text.encode("utf-8", "surrogatepass")
    _check(raw)


def test_attachment_names_are_made_safe() -> None:
    raw = (
        b"From: a@example.org\r\nSubject: Bukti\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="z"\r\n\r\n'
        b"--z\r\nContent-Type: text/plain\r\n\r\nBukti terlampir.\r\n"
        b"--z\r\nContent-Type: application/pdf\r\n"
        b'Content-Disposition: attachment; filename="../../etc/kuitansi.pdf"\r\n\r\n%PDF-1\r\n'
        b"--z\r\nContent-Type: image/jpeg\r\n"
        b"Content-Disposition: attachment; filename*=UTF-8''foto%20jalan%E2%80%94rusak.jpg"
        b"\r\n\r\nJPEG\r\n--z--\r\n"
    )
    draft = parse_email(raw, AT, LIMITS).draft
    assert [a.filename for a in draft.attachments] == ["kuitansi.pdf", "foto jalan\u2014rusak.jpg"]
    assert draft.attachments[0].content.startswith(b"%PDF-1")
