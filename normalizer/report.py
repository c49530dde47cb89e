"""The canonical Report (v1), serialising exactly to shared/contracts/report.schema.json."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, model_validator

from vocabulary.kinds import Kind

E164 = Annotated[str, Field(pattern=r"^\+[1-9][0-9]{6,14}$")]
NIK = Annotated[str, Field(pattern=r"^[0-9]{16}$")]


class _Strict(BaseModel):
    """Base for report parts: unknown keys are an error, as in the schema."""

    model_config = ConfigDict(extra="forbid", frozen=False)


class ChannelRef(_Strict):
    """Which configured channel a report came through."""

    name: str
    type: str


class Reporter(_Strict):
    """Who sent it; every field optional (anonymous letters exist)."""

    name: str | None = None
    phone: E164 | None = None
    email: str | None = None
    handle: str | None = None
    address: str | None = None
    identity_number: NIK | None = None


class Privacy(_Strict):
    """Whether identity is withheld from the agency and whether the report is ever published."""

    anonymous: bool = False
    confidential: bool = False


class Location(_Strict):
    """Where the problem is."""

    text: str | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    region_code: str | None = None


class Attachment(_Strict):
    """A stored, hashed file that belongs to a report."""

    filename: str
    content_type: str
    size: Annotated[int, Field(ge=0)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    url: str | None = None


class LetterInfo(_Strict):
    """Details of a paper letter typed in by an admin."""

    number: str | None = None
    date: dt.date | None = None
    sender_organisation: str | None = None
    entered_by: str | None = None


class Routing(_Strict):
    """Which agency the report is addressed to, and why (no wrong door)."""

    agency: str
    reason: str
    hops: list[str] = Field(default_factory=list)


class Report(_Strict):
    """One citizen message in canonical form: what every adapter produces and the central gets."""

    schema_version: Literal["1"] = "1"
    id: Annotated[str, Field(min_length=10, max_length=64)]
    channel: ChannelRef
    external_id: Annotated[str, Field(min_length=1)]
    received_at: datetime
    kind: Kind
    title: Annotated[str, Field(min_length=1, max_length=150)]
    body: Annotated[str, Field(min_length=1, max_length=20000)]
    language: str = "id"
    category: str | None = None
    reporter: Reporter = Field(default_factory=Reporter)
    privacy: Privacy = Field(default_factory=Privacy)
    location: Location | None = None
    incident_date: dt.date | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    in_reply_to: str | None = None
    letter: LetterInfo | None = None
    routing: Routing

    @model_validator(mode="after")
    def _whistleblowing_is_confidential(self) -> Report:
        # The schema's rule, enforced here so no code path can forget it.
        if self.kind == "whistleblowing":
            self.privacy.confidential = True
        return self

    @field_serializer("received_at")
    def _utc_iso(self, value: datetime) -> str:
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")

    def to_wire(self) -> dict[str, Any]:
        """The JSON-ready dict sent to the central (schema field names, no extras)."""
        return self.model_dump(mode="json")
