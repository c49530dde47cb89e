"""`POST /channels/<name>/inbound`: look up, cap, verify, parse, store, answer (STYLE.md)."""

from __future__ import annotations

import datetime as dt
import logging

from flask import Blueprint, Response, current_app, jsonify, request

from adapters.base import CaseInsensitiveDict, InboundRequest
from gateway.runtime import Runtime
from gateway.web.errors import json_error
from vocabulary.errors import Ignored, InvalidSignature, PayloadInvalid

bp = Blueprint("webhooks", __name__)
log = logging.getLogger(__name__)


def _runtime() -> Runtime:
    runtime: Runtime = current_app.extensions["sp4n"]
    return runtime


def _read_body(limit: int) -> bytes | None:
    """The raw body, or None when it is over `limit` bytes (checked before reading it all)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    data = request.stream.read(limit + 1)
    return None if len(data) > limit else data


@bp.route("/channels/<name>/inbound", methods=["GET", "POST"])
def inbound(name: str) -> tuple[Response, int] | Response:
    """Receive one webhook for a push channel (GET only where the adapter takes it)."""
    runtime = _runtime()
    adapter = runtime.adapters.get(name)
    if adapter is None or "push" not in adapter.modes:
        return json_error(404, "unknown_channel", f"no webhook channel named {name!r}")
    if request.method not in adapter.methods:
        return json_error(
            405,
            "method_not_allowed",
            f"channel {name!r} takes {', '.join(sorted(adapter.methods))} only",
        )
    limit = adapter.options.max_body_bytes
    body = _read_body(limit)
    if body is None:
        runtime.metrics.inbound.labels(name, "too_large").inc()
        return json_error(413, "too_large", f"request body is over {limit} bytes")
    base = runtime.config.model.gateway.public_url
    query = request.query_string.decode("latin-1")
    inbound_request = InboundRequest(
        method=request.method,
        url=base + request.path + (f"?{query}" if query else ""),
        headers=CaseInsensitiveDict(dict(request.headers.items())),
        body=body,
        received_at=dt.datetime.now(dt.UTC),
        query=request.args.to_dict(),
        remote_addr=request.remote_addr,
    )
    handshake = adapter.handshake(inbound_request)
    if handshake is not None:  # a provider proving the URL (X's CRC), not a message
        return Response(
            handshake.body, status=handshake.status, content_type=handshake.content_type
        )
    try:
        adapter.verify(inbound_request)
    except InvalidSignature as exc:
        runtime.metrics.inbound.labels(name, "bad_signature").inc()
        log.warning("channel %s: request refused: %s", name, exc)
        return json_error(403, "invalid_signature", str(exc))
    try:
        result = adapter.parse_inbound(inbound_request)
        for message in result.messages:
            adapter.fetch_media(message)
        outcomes = runtime.intake.accept(adapter, result.messages)
    except Ignored as exc:
        runtime.metrics.inbound.labels(name, "ignored").inc()
        return jsonify({"status": "ignored", "reason": str(exc) or "nothing to do"}), 200
    except PayloadInvalid as exc:
        kept = runtime.intake.reject(
            name, adapter.raw_record(inbound_request), exc, inbound_request.received_at
        )
        return json_error(400, "invalid_payload", str(exc), exc.field, inbound_id=kept)
    answer = adapter.answer(outcomes)
    return Response(answer.body, status=answer.status, content_type=answer.content_type)
