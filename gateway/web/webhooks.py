"""`POST /channels/<name>/inbound`: look up, cap, verify, parse, store, answer (STYLE.md).

Whatever a request holds, it is answered 2xx (stored), 400 (kept as rejected input, the
field named), 403 (bad signature: nothing stored), 404, 405, 409 (a repeat of a stored key
with a different body: kept as rejected, the first message's id not revealed), 413, or 503
(the database is unreachable: nothing was acknowledged, the provider retries).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy.exc import OperationalError

from adapters.base import (
    Adapter,
    CaseInsensitiveDict,
    InboundRequest,
    InboundResult,
    StoredOutcome,
)
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


def fingerprint_of(inbound: InboundRequest) -> str:
    """sha256 of what the provider sent (body and query): a retry has the same one."""
    digest = hashlib.sha256(inbound.body)
    for key, value in sorted(inbound.query.items()):
        digest.update(f"\x00{key}={value}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _parse(adapter: Adapter[Any], inbound: InboundRequest) -> InboundResult:
    """The request's messages; any failure to read it is the input's fault (400, kept).

    An adapter raises PayloadInvalid for what it recognises as malformed; anything else a
    hostile or odd request provokes in a parser (deep nesting, huge numbers, odd encodings)
    is turned into PayloadInvalid too, so the input is kept and the provider told, never
    answered 500 and lost.
    """
    try:
        result = adapter.parse_inbound(inbound)
        for message in result.messages:
            adapter.fetch_media(message)
    except (PayloadInvalid, Ignored):
        raise
    except Exception as exc:
        log.warning(
            "channel %s: the parser could not read a request: %s", adapter.name, type(exc).__name__
        )
        raise PayloadInvalid(f"permintaan tidak dapat dibaca ({type(exc).__name__})") from exc
    return result


@bp.route("/channels/<name>/inbound", methods=["GET", "POST"])
def inbound(name: str) -> tuple[Response, int] | Response:
    """Receive one webhook for a push channel (GET only where the adapter takes it)."""
    runtime = _runtime()
    adapter = runtime.adapters.get(name)
    if adapter is None or "push" not in adapter.modes:
        return json_error(404, "unknown_channel", f"tidak ada kanal webhook bernama {name!r}")
    if request.method not in adapter.methods:
        return json_error(
            405,
            "method_not_allowed",
            f"kanal {name!r} hanya menerima {', '.join(sorted(adapter.methods))}",
        )
    limit = adapter.options.max_body_bytes
    body = _read_body(limit)
    if body is None:
        runtime.metrics.inbound.labels(name, "too_large").inc()
        return json_error(413, "too_large", f"badan permintaan lebih dari {limit} bita")
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
    return _store(runtime, adapter, inbound_request)


def _store(
    runtime: Runtime, adapter: Adapter[Any], inbound: InboundRequest
) -> tuple[Response, int] | Response:
    name = adapter.name
    try:
        result = _parse(adapter, inbound)
        if result.receipts:
            runtime.record_receipts(name, result.receipts)
        # A repeat of a single message with another body is a conflict; a batch (Meta, a
        # provider's re-batched retry) may carry a stored message beside new ones.
        single = len(result.messages) == 1
        fingerprint = fingerprint_of(inbound) if single else None
        outcomes = runtime.intake.accept(adapter, result.messages, fingerprint=fingerprint)
    except Ignored as exc:
        runtime.metrics.inbound.labels(name, "ignored").inc()
        return jsonify({"status": "ignored", "reason": str(exc) or "nothing to do"}), 200
    except PayloadInvalid as exc:
        kept = runtime.intake.reject(name, adapter.raw_record(inbound), exc, inbound.received_at)
        return json_error(400, "invalid_payload", str(exc), exc.field, inbound_id=kept)
    except OperationalError:
        log.error("channel %s: the database is unreachable; request not acknowledged", name)
        return json_error(503, "unavailable", "basis data tidak tersedia; coba lagi nanti")
    if any(o.conflict for o in outcomes):
        return _conflict(runtime, adapter, inbound, outcomes)
    answer = adapter.answer(outcomes)
    return Response(answer.body, status=answer.status, content_type=answer.content_type)


def _conflict(
    runtime: Runtime, adapter: Adapter[Any], inbound: InboundRequest, outcomes: list[StoredOutcome]
) -> tuple[Response, int]:
    """A stored key came again with another body: keep it, reveal nothing of the first."""
    error = PayloadInvalid("id eksternal ini sudah dipakai oleh pesan lain", field="external_id")
    kept = runtime.intake.reject(
        adapter.name, adapter.raw_record(inbound), error, inbound.received_at
    )
    runtime.metrics.inbound.labels(adapter.name, "conflict").inc()
    return json_error(409, "conflict", str(error), error.field, inbound_id=kept)
