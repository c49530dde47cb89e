"""The gateway's YAML config as pydantic v2 models (unknown keys are errors).

Channel entries are checked here only for `name` and `type`; each adapter's own `Options`
model checks the rest (see config.loader).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from normalizer.classify import KindKeywords
from vocabulary.durations import Duration
from vocabulary.kinds import Kind


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GatewaySection(_Section):
    """Where the gateway keeps its data and how it is reached."""

    database: str = "sqlite:///data/gateway.db"
    public_url: str = "http://127.0.0.1:8000"
    timezone: str = "Asia/Jakarta"
    data_dir: str = "data"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # The `make run` demo: secrets may have defaults written in the file (warned about).
    demo: bool = False
    # How long the central may fetch an attachment through its signed link.
    attachment_link_ttl: Duration = 30 * 86400.0

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"zona waktu {value!r} tidak dikenal (mis. Asia/Jakarta)") from None
        return value

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("harus URL http(s), misalnya https://aduan.contoh.go.id")
        return value.rstrip("/")


class SandboxSection(_Section):
    """The built-in sandbox central started by `run` when `central.url` is `sandbox`."""

    host: str = "127.0.0.1"
    port: int = Field(default=8700, ge=1, le=65535)
    db: str = "data/sandbox.db"
    fail_rate: float = Field(default=0.0, ge=0, le=1)
    latency_ms: int = Field(default=0, ge=0)
    return_agency: str | None = None


class CentralSection(_Section):
    """The central complaint system the forwarder submits to."""

    target: Literal["lapor"] = "lapor"
    url: str
    token: SecretStr
    timeout: Duration = 10.0
    sandbox: SandboxSection = Field(default_factory=SandboxSection)

    @field_validator("url")
    @classmethod
    def _url_or_sandbox(cls, value: str) -> str:
        if value != "sandbox" and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("harus URL http(s) atau kata 'sandbox'")
        return value.rstrip("/")

    @property
    def uses_sandbox(self) -> bool:
        """Whether `run` must start the built-in sandbox central."""
        return self.url == "sandbox"

    @property
    def base_url(self) -> str:
        """The URL requests go to (the sandbox's own address when it is built in)."""
        if self.uses_sandbox:
            return f"http://{self.sandbox.host}:{self.sandbox.port}"
        return self.url


class ForwarderSection(_Section):
    """How the outbox is drained and retried."""

    concurrency: int = Field(default=4, ge=1, le=64)
    batch_size: int = Field(default=50, ge=1, le=1000)
    interval: Duration = 1.0
    backoff_base: Duration = 2.0
    backoff_max: Duration = 900.0
    max_attempts: int = Field(default=40, ge=1)
    lease: Duration = 120.0
    sync_interval: Duration = 30.0
    reply_interval: Duration = 2.0


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


StrList = Annotated[list[str], BeforeValidator(_as_list)]
_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


def _email_list(value: Any) -> Any:
    value = _as_list(value)
    if isinstance(value, list):
        for address in value:
            if isinstance(address, str) and not _EMAIL.match(address.strip()):
                raise ValueError(f"{address!r} bukan alamat email")
    return value


class Agency(_Section):
    """One node of the agency tree (UPT -> Eselon 1 -> Instansi -> Nasional).

    `email`: where the agency's daily SLA digest goes (one address or a list).
    """

    code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    name: str
    parent: str | None = None
    email: Annotated[list[str], BeforeValidator(_email_list)] = Field(default_factory=list)


class RuleCondition(_Section):
    """A routing rule's test: every given key must match; within a key any value may."""

    keywords: StrList = Field(default_factory=list)
    kind: Annotated[list[Kind], BeforeValidator(_as_list)] = Field(default_factory=list)
    channel: StrList = Field(default_factory=list)
    category: StrList = Field(default_factory=list)
    region: StrList = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_empty(self) -> RuleCondition:
        if not (self.keywords or self.kind or self.channel or self.category or self.region):
            raise ValueError(
                "aturan memerlukan minimal satu dari keywords, kind, channel, category, region"
            )
        return self


FROM_MODEL = "from_model"


class LearnedCondition(_Section):
    """A routing model trained on the pemda's history (`sp4n-gateway routing train`).

    `model` is a path, relative to the config file's directory; `min_confidence` defaults to
    the threshold recommended at training (95% precision on held-out training data).
    """

    model: str
    min_confidence: float | None = Field(default=None, gt=0, le=1)


class RoutingRule(_Section):
    """When the condition holds, the report goes to `agency`.

    A `learned` rule sends the report to the model's agency (`agency: from_model`) when the
    model is at least `min_confidence` sure; otherwise the next rules are tried. With `when`
    as well, the model is asked only when that condition holds.
    """

    when: RuleCondition | None = None
    learned: LearnedCondition | None = None
    agency: str
    name: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> RoutingRule:
        if self.learned is None and self.when is None:
            raise ValueError("a rule needs `when` (conditions) or `learned` (a routing model)")
        if self.learned is not None and self.agency != FROM_MODEL:
            raise ValueError(f"a learned rule takes `agency: {FROM_MODEL}`")
        if self.learned is None and self.agency == FROM_MODEL:
            raise ValueError(f"`agency: {FROM_MODEL}` needs `learned: {{model: ...}}`")
        return self


class RoutingSection(_Section):
    """Ordered rules; the first match wins; `default` takes the rest (no wrong door)."""

    default: str
    rules: list[RoutingRule] = Field(default_factory=list)


DEFAULT_KIND_MODEL = "default"


class KindModelSection(_Section):
    """The learned kind classifier that backs up the keyword lists.

    `model: default` is the model shipped with the gateway; a path (relative to the config
    file's directory) is a pemda's own (`sp4n-gateway kinds train`). `whistleblowing_min`
    (low: a missed whistleblowing report exposes its reporter) and `min_confidence` (for
    aspirasi and permintaan_informasi) default to the thresholds recorded at training.
    """

    enabled: bool = True
    model: str = DEFAULT_KIND_MODEL
    whistleblowing_min: float | None = Field(default=None, gt=0, le=1)
    min_confidence: float | None = Field(default=None, gt=0, le=1)


class NormalizerSection(_Section):
    """How messages are cleaned and classified."""

    region: str = Field(default="ID", pattern=r"^[A-Z]{2}$")
    kinds: KindKeywords = Field(default_factory=KindKeywords)
    kind_model: KindModelSection = Field(default_factory=KindModelSection)


class RepliesSection(_Section):
    """Citizen replies: where admin-edited templates live and how often to retry."""

    templates_dir: str | None = None
    max_attempts: int = Field(default=20, ge=1)
    # Per recipient and channel: an auto-responder answering our acknowledgements must not
    # run up an SMS bill. Replies over the limit are held (state "limited") for an admin.
    max_per_recipient_hour: int = Field(default=10, ge=1)
    max_per_recipient_day: int = Field(default=30, ge=1)


def _rate_limit(value: str) -> str:
    """A flask-limiter rate such as `5 per minute` or `100/hour;1000/day`."""
    from limits import parse_many  # noqa: PLC0415 (only the config check needs it here)

    try:
        parse_many(value)
    except ValueError:
        raise ValueError(f"expected a rate such as '5 per minute', got {value!r}") from None
    return value


RateLimit = Annotated[str, BeforeValidator(_rate_limit)]


class AdminSection(_Section):
    """The admin console, the citizen pages and their limits."""

    # Signs session cookies and CSRF tokens; made on first start and kept in the database
    # when not given (every process of one gateway shares it).
    secret_key: SecretStr | None = None
    session_lifetime: Duration = 8 * 3600.0
    # None: secure cookies exactly when gateway.public_url is https.
    secure_cookies: bool | None = None
    login_rate_limit: RateLimit = "5 per minute;30 per hour"
    status_rate_limit: RateLimit = "30 per minute;300 per hour"
    lapor_rate_limit: RateLimit = "5 per 10 minutes;20 per day"
    # flask-limiter storage: memory:// per process; redis://... or memcached://... shared.
    rate_limit_storage: str = "memory://"
    # A report not completed this long after it arrived is listed as overdue.
    overdue_after: Duration = 14 * 86400.0
    # Scanned letters and citizen photos: per file, and the whole form.
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, gt=0, le=64 * 1024 * 1024)
    page_size: int = Field(default=50, ge=10, le=500)


WEEKDAYS: dict[str, int] = {
    "mon": 1, "senin": 1, "tue": 2, "selasa": 2, "wed": 3, "rabu": 3, "thu": 4, "kamis": 4,
    "fri": 5, "jumat": 5, "sat": 6, "sabtu": 6, "sun": 7, "minggu": 7,
}  # fmt: skip


def _weekday(value: Any) -> Any:
    if isinstance(value, str):
        day = WEEKDAYS.get(value.strip().lower().replace("'", ""))
        if day is None:
            raise ValueError(f"hari {value!r} tidak dikenal (senin ... minggu, atau mon ... sun)")
        return day
    return value


Weekday = Annotated[int, BeforeValidator(_weekday), Field(ge=1, le=7)]


class ExtraHoliday(_Section):
    """A non-working day the `holidays` package does not know (regional, a new SKB)."""

    date: dt.date
    name: str = "Libur tambahan"


def _holiday_entry(value: Any) -> Any:
    return {"date": value} if isinstance(value, str | dt.date) else value


class SlaDigestSection(_Section):
    """The daily SLA digest by email to every agency with `email` set."""

    smtp_host: str
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    smtp_tls: Literal["ssl", "starttls", "none"] = "starttls"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    ca_file: str | None = None
    from_address: str = Field(pattern=_EMAIL.pattern)
    from_name: str = "SP4N-LAPOR! Gateway"
    # Local time (gateway.timezone) after which the day's digest goes out.
    send_at: dt.time = dt.time(7, 0)
    timeout: Duration = 30.0

    @model_validator(mode="after")
    def _tls_off_only_on_loopback(self) -> SlaDigestSection:
        if self.smtp_tls == "none" and self.smtp_host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("smtp_tls: none hanya boleh untuk host loopback (pengujian)")
        return self


class SlaSection(_Section):
    """Stage clocks on the working-day calendar (README: SLA watch).

    Stage lengths are working days, except `resolution` (calendar days, Perpres 76/2013).
    """

    verification: int = Field(default=3, ge=1, le=365)
    first_response: int = Field(default=3, ge=1, le=365)
    follow_up: int = Field(default=5, ge=1, le=365)
    closure: int = Field(default=10, ge=1, le=365)
    resolution: int = Field(default=60, ge=1, le=3650)
    # A clock with this many working days left (or fewer) is "due soon".
    due_soon: int = Field(default=1, ge=0, le=30)
    working_days: list[Weekday] = Field(default_factory=lambda: [1, 2, 3, 4, 5], min_length=1)
    # Cuti bersama from the `holidays` package (its "government" category) as non-working.
    cuti_bersama: bool = True
    extra_holidays: list[Annotated[ExtraHoliday, BeforeValidator(_holiday_entry)]] = Field(
        default_factory=list
    )
    watch_interval: Duration = 900.0
    # One honest notice to the citizen when a report passes its response deadline.
    notify_citizen: bool = True
    digest: SlaDigestSection | None = None


class ConfigModel(_Section):
    """The whole file."""

    gateway: GatewaySection = Field(default_factory=GatewaySection)
    central: CentralSection
    agencies: list[Agency] = Field(min_length=1)
    routing: RoutingSection
    channels: list[dict[str, Any]] = Field(default_factory=list)
    normalizer: NormalizerSection = Field(default_factory=NormalizerSection)
    forwarder: ForwarderSection = Field(default_factory=ForwarderSection)
    replies: RepliesSection = Field(default_factory=RepliesSection)
    admin: AdminSection = Field(default_factory=AdminSection)
    sla: SlaSection = Field(default_factory=SlaSection)
