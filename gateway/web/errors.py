"""Errors: JSON in the contract's shape for APIs, Indonesian HTML pages for people.

API answers are `{"error": {"code", "message", "field"}}`. The admin console and the
citizen pages (`/admin`, `/lapor`, `/status`, `/s/`) answer a browser with a page in
Bahasa Indonesia instead.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

HTML_PREFIXES = ("/admin", "/lapor", "/status", "/s/")

# What a person reads for each HTTP error.
HTML_MESSAGES = {
    400: "Permintaan tidak dapat diproses. Periksa isian Anda lalu coba lagi.",
    403: "Anda tidak berhak membuka halaman ini.",
    404: "Halaman atau data yang Anda cari tidak ditemukan.",
    405: "Cara membuka halaman ini tidak didukung.",
    413: "Berkas yang dikirim terlalu besar.",
    429: "Terlalu banyak permintaan dari alamat Anda. Tunggu sebentar lalu coba lagi.",
    500: "Terjadi kesalahan pada sistem. Petugas sudah dapat melihatnya di log.",
}
CSRF_MESSAGE = "Formulir ini sudah kedaluwarsa atau tidak sah. Muat ulang halaman lalu kirim lagi."


def json_error(
    status: int, code: str, message: str, field: str | None = None, **extra: Any
) -> tuple[Response, int]:
    """A JSON error answer."""
    error: dict[str, Any] = {"code": code, "message": message, "field": field, **extra}
    return jsonify({"error": error}), status


def _wants_html() -> bool:
    if not request.path.startswith(HTML_PREFIXES):
        return False
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best != "application/json"


def _html_error(status: int, message: str) -> tuple[str, int]:
    return render_template("error.html", status=status, message=message), status


def register_error_handlers(app: Flask) -> None:
    """Every HTTP error the app raises is answered in JSON, or as a page for people."""

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> tuple[Response, int] | tuple[str, int]:
        if _wants_html():
            return _html_error(400, CSRF_MESSAGE)
        return json_error(400, "csrf_failed", CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        if _wants_html():
            return _html_error(status, HTML_MESSAGES.get(status, HTML_MESSAGES[400]))
        code = (exc.name or "error").lower().replace(" ", "_")
        return json_error(status, code, exc.description or exc.name or "error")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        app.logger.exception("unhandled error: %s", type(exc).__name__)
        if _wants_html():
            return _html_error(500, HTML_MESSAGES[500])
        return json_error(
            500,
            "internal_error",
            "internal error; the request was not lost if it was answered 2xx before",
        )
