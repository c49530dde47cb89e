"""`webform`: a pemda website posts each complaint as JSON or a form, optionally HMAC-signed.

The site's own field names are mapped onto report fields by the YAML `fields:` entry; without
one the report schema's names are expected. A field the site sends that no report field is
read from (and that `ignore_fields:` does not list) is noted on the report by name, its value
kept with the raw request; with `strict: true` it is refused instead (HTTP 400), as is any
value the normalizer would drop (an email or phone number that is not one). With `secret` set
every request must carry `X-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>`. With
`reply_url` set the citizen's acknowledgement and status changes are posted back to the site,
signed the same way.
"""

from __future__ import annotations

import builtins
import datetime as dt
import hashlib
import hmac
import json
import math
from collections.abc import Collection, Mapping
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qsl

import requests
from pydantic import Field, SecretStr, field_validator

from adapters.base import (
    Adapter,
    ChannelOptions,
    InboundRequest,
    InboundResult,
    Mode,
    OutgoingReply,
)
from normalizer.redact import redact_text
from normalizer.text import clean_line
from vocabulary.drafts import MessageDraft, RawMessage
from vocabulary.errors import InvalidSignature, PayloadInvalid, SendError, is_retryable_status

REPORT_FIELDS = (
    "body",
    "title",
    "name",
    "phone",
    "email",
    "address",
    "location_text",
    "lat",
    "lon",
    "kind",
    "anonymous",
    "confidential",
    "external_id",
    "category",
    "region_code",
    "identity_number",
    "incident_date",
    "received_at",
)
FIELD_ALIASES = {
    "location": "location_text",
    "external id": "external_id",
    "region": "region_code",
    "nik": "identity_number",
}
KIND_ALIASES = {
    "pengaduan": "pengaduan",
    "aduan": "pengaduan",
    "keluhan": "pengaduan",
    "aspirasi": "aspirasi",
    "saran": "aspirasi",
    "permintaan_informasi": "permintaan_informasi",
    "informasi": "permintaan_informasi",
    "permintaan informasi": "permintaan_informasi",
    "whistleblowing": "whistleblowing",
    "wbs": "whistleblowing",
}
_NAME_LIMIT = 40
_NAMES_SHOWN = 10
TRUE_WORDS = {"1", "true", "ya", "y", "yes", "on"}
FALSE_WORDS = {"0", "false", "tidak", "t", "no", "off", "n", ""}


class WebformOptions(ChannelOptions):
    """YAML fields of a `webform` channel."""

    type: Literal["webform"] = "webform"
    secret: SecretStr | None = None
    signature_header: str = "X-Signature-256"
    fields: dict[str, str] = Field(default_factory=dict)
    reply_url: str | None = None
    reply_timeout: float = Field(default=10.0, gt=0, le=120)
    # Refuse (400) what cannot be used instead of noting it on the report.
    strict: bool = False
    # The site's fields that carry nothing for a report (a CSRF token, the submit button).
    ignore_fields: list[str] = Field(default_factory=list)

    @field_validator("fields")
    @classmethod
    def _known_report_fields(cls, value: dict[str, str]) -> dict[str, str]:
        return field_map(value)


def field_map(value: Mapping[str, str]) -> dict[str, str]:
    """A YAML `fields:` entry checked and with aliases resolved (report field -> source)."""
    mapped: dict[str, str] = {}
    for key, source in value.items():
        target = FIELD_ALIASES.get(key, key)
        if target not in REPORT_FIELDS:
            raise ValueError(
                f"unknown report field {key!r}; use one of "
                + ", ".join(("location", *REPORT_FIELDS))
            )
        mapped[target] = source
    mapped.setdefault("body", "body")
    return mapped


class WebformAdapter(Adapter[WebformOptions]):
    """Inbound webhook from an existing pemda website; replies posted back when configured."""

    type: ClassVar[str] = "webform"
    kind: ClassVar[str] = "webform"
    modes: ClassVar[frozenset[Mode]] = frozenset({"push"})
    Options: ClassVar[builtins.type[ChannelOptions]] = WebformOptions
    secret_fields: ClassVar[frozenset[str]] = frozenset({"secret"})
    signing_secrets: ClassVar[frozenset[str]] = frozenset({"secret"})
    unsigned_allowed: ClassVar[bool] = True
    docs_url: ClassVar[str] = "README.md#web-form-channel-webform"

    def __init__(
        self, options: ChannelOptions, *, public_url: str = "", http: requests.Session | None = None
    ) -> None:
        super().__init__(options, public_url=public_url)
        self.http = http or requests.Session()

    @property
    def redact_headers(self) -> frozenset[str]:  # type: ignore[override]
        """Headers never kept in the inbound log."""
        return frozenset({"authorization", "cookie"})

    def signature_for(self, body: bytes) -> str:
        """The header value a correct sender puts on this body."""
        assert self.options.secret is not None
        key = self.options.secret.get_secret_value().encode("utf-8")
        return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()

    def verify(self, request: InboundRequest) -> None:
        """With a secret, the signature header must match the raw body (constant time)."""
        if self.options.secret is None:
            return
        given = request.headers.get(self.options.signature_header)
        if not given:
            raise InvalidSignature(f"header `{self.options.signature_header}` tidak ada")
        if not hmac.compare_digest(
            str(given).strip().encode(), self.signature_for(request.body).encode()
        ):
            raise InvalidSignature(
                f"header `{self.options.signature_header}` tidak cocok dengan badan permintaan"
            )

    @property
    def strict(self) -> bool:
        """The channel's `strict` option."""
        return self.options.strict

    def parse_inbound(self, request: InboundRequest) -> InboundResult:
        """One submission -> one message, with the site's fields mapped onto the report's."""
        data = _decode_payload(request)
        unused = unused_fields(data, self.options.fields, self.options.ignore_fields)
        if unused and self.options.strict:
            raise PayloadInvalid(
                f"isian tak dikenal {_field_list(unused)}: kanal ini ketat; kirim hanya isian"
                " yang dipetakan di `fields:` (atau daftarkan di `ignore_fields:`)",
                field=safe_field_name(unused[0]),
            )
        external_id, draft = draft_from_fields(data, self.options.fields, request.received_at)
        if unused:
            draft.notes.append(
                f"form field(s) {_field_list(unused)} not used: no report field is mapped from"
                " them (value kept with the raw request; map them in `fields:` or list them"
                " in `ignore_fields:`)"
            )
        if self.options.reply_url:
            draft.reply_to = {"url": self.options.reply_url, "external_id": external_id}
        raw = self.raw_record(request)
        return InboundResult([RawMessage(external_id, draft.received_at, raw, draft)])

    def can_reply(self, reply_to: Mapping[str, str]) -> bool:
        """Only when the site gave us a URL to post replies to."""
        return bool(reply_to.get("url"))

    def send_reply(self, reply: OutgoingReply) -> str | None:
        """POST the reply as signed JSON to the site's reply URL."""
        payload = json.dumps(
            {
                "report_id": reply.report_id,
                "external_id": reply.external_id,
                "tracking_id": reply.tracking_id,
                "event": reply.event,
                "text": reply.text,
            },
            ensure_ascii=False,
        ).encode("utf-8")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": reply.reply_id,
        }
        if self.options.secret is not None:
            headers[self.options.signature_header] = self.signature_for(payload)
        try:
            response = self.http.post(
                reply.reply_to["url"],
                data=payload,
                headers=headers,
                timeout=self.options.reply_timeout,
            )
        except requests.RequestException as exc:
            raise SendError(f"reply URL unreachable: {type(exc).__name__}", retryable=True) from exc
        if response.status_code >= 300:
            raise SendError(
                f"reply URL answered {response.status_code}",
                retryable=is_retryable_status(response.status_code),
                code=str(response.status_code),
            )
        return None


def draft_from_fields(
    data: Mapping[str, Any],
    fields: Mapping[str, str],
    received_at: dt.datetime,
    *,
    local_zone: dt.tzinfo | None = None,
) -> tuple[str, MessageDraft]:
    """A site's record (JSON object, form, database row) as a draft, by a `fields:` mapping.

    Raises PayloadInvalid naming the site's own field when a value is unusable. A time
    without a UTC offset is refused, unless `local_zone` says in which zone to read it.
    """
    mapping = {**{f: f for f in REPORT_FIELDS}, **fields}
    values = {target: _lookup(data, source) for target, source in mapping.items()}
    source_of = {target: source for target, source in mapping.items()}

    body = _text(values["body"], source_of["body"])
    if body is None or not body.strip():
        raise PayloadInvalid(
            f"isian `{source_of['body']}` wajib diisi dan tidak boleh kosong",
            field=source_of["body"],
        )
    external_id = _text(values["external_id"], source_of["external_id"])
    if not external_id:
        # A site that sends no id of its own: the same submission posted twice (a
        # double click, a retry) is still one report.
        canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
        external_id = "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()[:40]
    when = _datetime(values["received_at"], source_of["received_at"], local_zone) or received_at
    draft = MessageDraft(
        external_id=external_id,
        received_at=when,
        body=body,
        body_content_type="text/plain",
        title=_text(values["title"], source_of["title"]),
        name=_text(values["name"], source_of["name"]),
        phone=_text(values["phone"], source_of["phone"]),
        email=_text(values["email"], source_of["email"]),
        address=_text(values["address"], source_of["address"]),
        location_text=_text(values["location_text"], source_of["location_text"]),
        lat=_coordinate(values["lat"], source_of["lat"], 90),
        lon=_coordinate(values["lon"], source_of["lon"], 180),
        kind=_kind(values["kind"], source_of["kind"]),
        category=_text(values["category"], source_of["category"]),
        region_code=_text(values["region_code"], source_of["region_code"]),
        identity_number=_nik(values["identity_number"], source_of["identity_number"]),
        incident_date=_date(values["incident_date"], source_of["incident_date"]),
        anonymous=_bool(values["anonymous"], source_of["anonymous"]),
        confidential=_bool(values["confidential"], source_of["confidential"]),
    )
    return external_id, draft


def unused_fields(
    data: Mapping[str, Any], fields: Mapping[str, str], ignore: Collection[str] = ()
) -> list[str]:
    """The site's fields (dotted paths into nested JSON) no report field is read from.

    Fields with no value (None, "", an empty list or object) lose nothing and are not listed.
    """
    sources = set({**{f: f for f in REPORT_FIELDS}, **fields}.values())
    unused: list[str] = []

    def walk(node: Mapping[str, Any], prefix: str) -> None:
        for key, value in node.items():
            path = f"{prefix}{key}"
            if path in sources or path in ignore or value in (None, "", [], {}):
                continue
            if isinstance(value, Mapping) and any(s.startswith(path + ".") for s in sources):
                walk(value, path + ".")
            else:
                unused.append(path)

    walk(data, "")
    return unused


def safe_field_name(name: str) -> str:
    """A field name as it may be shown and logged: one short line, personal data masked.

    The names come from the request, so they are the sender's text like any value.
    """
    line = clean_line(name)
    return redact_text(line if len(line) <= _NAME_LIMIT else line[: _NAME_LIMIT - 1] + "…")


def _field_list(names: list[str]) -> str:
    shown = ", ".join(repr(safe_field_name(n)) for n in names[:_NAMES_SHOWN])
    more = len(names) - _NAMES_SHOWN
    return shown + (f" (+{more})" if more > 0 else "")


def _decode_payload(request: InboundRequest) -> dict[str, Any]:
    ctype = request.content_type
    if ctype in ("application/json", "text/json") or ctype.endswith("+json"):
        try:
            data = json.loads(request.body.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise PayloadInvalid("badan JSON bukan UTF-8") from exc
        except json.JSONDecodeError as exc:
            raise PayloadInvalid(
                f"badan permintaan bukan JSON yang sah (baris {exc.lineno}, kolom {exc.colno})"
            ) from exc
        if not isinstance(data, dict):
            raise PayloadInvalid("badan JSON harus berupa objek")
        return data
    if ctype == "application/x-www-form-urlencoded":
        try:
            text = request.body.decode(request.charset)
        except (LookupError, UnicodeDecodeError) as exc:
            raise PayloadInvalid(f"badan formulir bukan {request.charset} yang sah") from exc
        return dict(parse_qsl(text, keep_blank_values=True, encoding=request.charset))
    raise PayloadInvalid(
        f"Content-Type {ctype or '(kosong)'!r} tidak didukung; kirim"
        " `application/json` atau `application/x-www-form-urlencoded`",
        field="Content-Type",
    )


def _lookup(data: Mapping[str, Any], source: str) -> Any:
    """A field by name, or by dotted path into nested JSON (`pelapor.nama`)."""
    if source in data:
        return data[source]
    node: Any = data
    for part in source.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _text(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PayloadInvalid(f"isian `{field}` harus berupa teks", field=field)
    text = str(value).strip()
    if "\x00" in text or not _encodable(text):
        raise PayloadInvalid(
            f"isian `{field}` memuat karakter NUL atau karakter yang tidak sah", field=field
        )
    return text or None


def _encodable(text: str) -> bool:
    """False for text with lone surrogates (from a JSON escape): no column can hold it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _bool(value: Any, field: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise PayloadInvalid(
        f"isian `{field}` harus ya/tidak (`ya`, `tidak`, `true`, `false`, 1, 0)", field=field
    )


def _coordinate(value: Any, field: str, limit: int) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise PayloadInvalid(f"isian `{field}` harus berupa angka", field=field) from None
    if not math.isfinite(number) or abs(number) > limit:
        raise PayloadInvalid(
            f"isian `{field}` harus angka antara -{limit} dan {limit}", field=field
        )
    return number


def _kind(value: Any, field: str) -> str | None:
    text = _text(value, field)
    if text is None:
        return None
    kind = KIND_ALIASES.get(text.lower().replace("-", "_").strip())
    if kind is None:
        raise PayloadInvalid(
            f"isian `{field}` harus salah satu dari `pengaduan`, `aspirasi`,"
            " `permintaan_informasi`, `whistleblowing`",
            field=field,
        )
    return kind


def _nik(value: Any, field: str) -> str | None:
    text = _text(value, field)
    if text is None:
        return None
    digits = text.replace(" ", "").replace(".", "")
    if len(digits) != 16 or not digits.isdigit():
        raise PayloadInvalid(f"isian `{field}` harus NIK 16 angka", field=field)
    return digits


def _date(value: Any, field: str) -> dt.date | None:
    text = _text(value, field)
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise PayloadInvalid(
            f"isian `{field}` harus tanggal berbentuk TTTT-BB-HH", field=field
        ) from None


def _datetime(value: Any, field: str, local_zone: dt.tzinfo | None) -> dt.datetime | None:
    text = _text(value, field)
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise PayloadInvalid(
            f"isian `{field}` harus waktu berbentuk ISO 8601", field=field
        ) from None
    if moment.tzinfo is None:
        if local_zone is None:
            raise PayloadInvalid(
                f"isian `{field}` harus menyebut selisih dari UTC (mis. +07:00)", field=field
            )
        moment = moment.replace(tzinfo=local_zone)
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        raise PayloadInvalid(f"isian `{field}` di luar rentang waktu", field=field) from None
