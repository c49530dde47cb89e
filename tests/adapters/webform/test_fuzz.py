"""Property tests: whatever arrives, the web-form parser answers with data or PayloadInvalid."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.base import CaseInsensitiveDict, InboundRequest
from adapters.webform.adapter import WebformAdapter, WebformOptions
from normalizer.pipeline import NormalizerSettings, normalize_draft
from vocabulary.errors import PayloadInvalid

ADAPTERS = [
    WebformAdapter(WebformOptions(name="web", type="webform")),
    WebformAdapter(
        WebformOptions(
            name="mapped",
            type="webform",
            fields={
                "body": "aduan.isi",
                "name": "pelapor.nama",
                "phone": "hp",
                "external id": "no",
            },
        )
    ),
]
CONTENT_TYPES = [
    "application/json",
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=iso-8859-1",
    "text/plain",
    "",
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.sampled_from(
    [
        "body",
        "title",
        "name",
        "phone",
        "email",
        "kind",
        "lat",
        "lon",
        "anonymous",
        "external_id",
        "identity_number",
        "incident_date",
        "received_at",
        "aduan",
        "hp",
        "no",
        "location_text",
    ]
)


def request(body: bytes, content_type: str) -> InboundRequest:
    return InboundRequest(
        method="POST",
        url="http://127.0.0.1/channels/web/inbound",
        headers=CaseInsensitiveDict({"Content-Type": content_type}),
        body=body,
        received_at=dt.datetime(2026, 11, 22, tzinfo=dt.UTC),
    )


def parse_all(body: bytes, content_type: str) -> None:
    for adapter in ADAPTERS:
        try:
            result = adapter.parse_inbound(request(body, content_type))
        except PayloadInvalid:
            continue
        for message in result.messages:
            assert message.external_id
            with contextlib.suppress(PayloadInvalid):
                normalize_draft(message.draft, NormalizerSettings())


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=512), st.sampled_from(CONTENT_TYPES))
def test_arbitrary_bytes(body: bytes, content_type: str) -> None:
    parse_all(body, content_type)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(field_names, json_values, max_size=8))
def test_arbitrary_json_objects(data: dict[str, Any]) -> None:
    parse_all(json.dumps(data).encode(), "application/json")


@settings(max_examples=200)
@given(st.lists(st.tuples(field_names, st.text(max_size=40)), max_size=8))
def test_arbitrary_forms(pairs: list[tuple[str, str]]) -> None:
    from urllib.parse import urlencode

    parse_all(urlencode(pairs).encode(), "application/x-www-form-urlencoded")
