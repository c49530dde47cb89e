"""JSON errors in the contract's shape: `{"error": {"code", "message", "field"}}`."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException


def json_error(
    status: int, code: str, message: str, field: str | None = None, **extra: Any
) -> tuple[Response, int]:
    """A JSON error answer."""
    error: dict[str, Any] = {"code": code, "message": message, "field": field, **extra}
    return jsonify({"error": error}), status


def register_error_handlers(app: Flask) -> None:
    """Every HTTP error the app raises is answered in JSON."""

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[Response, int]:
        code = (exc.name or "error").lower().replace(" ", "_")
        return json_error(exc.code or 500, code, exc.description or exc.name or "error")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response, int]:
        app.logger.exception("unhandled error: %s", type(exc).__name__)
        return json_error(
            500,
            "internal_error",
            "internal error; the request was not lost if it was answered 2xx before",
        )
