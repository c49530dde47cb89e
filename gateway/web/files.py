"""`GET /files/<sha256>`: an attachment, for whoever holds a valid signed link (the central)."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, current_app, request

from gateway.web.errors import json_error

bp = Blueprint("files", __name__)


@bp.get("/files/<sha256>")
def download(sha256: str) -> tuple[Response, int] | Response:
    """The file, when the link's signature holds and it has not expired."""
    runtime = current_app.extensions["sp4n"]
    args = request.args
    name, content_type = args.get("name", ""), args.get("type", "")
    problem = runtime.links.check(
        sha256, args.get("exp", ""), name, content_type, args.get("sig", "")
    )
    if problem is not None:
        return json_error(403, "forbidden", problem)
    try:
        path = runtime.intake.attachments.path_of(sha256)
    except ValueError:
        return json_error(404, "not_found", "no such file")
    if not path.is_file():
        return json_error(404, "not_found", "no such file")
    response = Response(path.read_bytes(), content_type=content_type or "application/octet-stream")
    response.headers["Content-Disposition"] = _attachment(name or sha256)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _attachment(name: str) -> str:

    ascii_name = name.encode("ascii", "replace").decode().replace('"', "'")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
