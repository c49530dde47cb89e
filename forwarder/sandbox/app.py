"""The sandbox central: every endpoint of contracts/central-api.yaml, plus a demo page.

Test knobs: `fail_rate` answers a share of submissions 503/429 (half of them after the report
was stored, as when an answer is lost on the way back, so retries must be idempotent),
`latency_ms` slows every answer, `return_agency` refuses reports addressed to one agency as
`out_of_authority`. Submissions are validated against the report schema. A central newer
than the contract is played by `extra_statuses` (more statuses a report may be moved to) and
`receipt_status` (the status a submission's receipt names).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import jsonschema
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from forwarder.sandbox.store import SandboxStore, normalize_time
from vocabulary.central import CentralStatus

HERE = Path(__file__).parent
MAX_BODY = 2 * 1024 * 1024
STATUSES: tuple[str, ...] = tuple(CentralStatus)


@dataclass
class SandboxSettings:
    """How the sandbox behaves."""

    token: str = "sandbox"  # noqa: S105 (the documented sandbox default, not a secret)
    db_path: str = "data/sandbox.db"
    fail_rate: float = 0.0
    latency_ms: int = 0
    return_agency: str | None = None
    extra_statuses: tuple[str, ...] = ()
    receipt_status: str = CentralStatus.RECEIVED
    agencies: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {"code": "nasional", "name": "Admin Nasional LAPOR!", "parent": None}
        ]
    )
    seed: int | None = None


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(payload, ensure_ascii=False),
        status=status,
        headers=headers,
        content_type="application/json; charset=utf-8",
    )


def _error(
    status: int,
    code: str,
    message: str,
    field_name: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    return _json(
        {"error": {"code": code, "message": message, "field": field_name}}, status, headers
    )


def _hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _mask(value: str | None) -> str:
    if not value:
        return ""
    return value[:4] + "****" + value[-3:] if len(value) > 8 else "****"


class SandboxCentral:
    """The WSGI application."""

    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self.store = SandboxStore(settings.db_path)
        self.rng = random.Random(settings.seed)  # noqa: S311 (fault injection, not security)
        self.rng_lock = threading.Lock()
        schema = json.loads((HERE / "report.schema.json").read_text(encoding="utf-8"))
        self.validator = jsonschema.Draft202012Validator(
            schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(HERE / "templates")), autoescape=True
        )
        self.urls = Map(
            [
                Rule("/", endpoint="index", methods=["GET"]),
                Rule("/api/v1/reports", endpoint="submit", methods=["POST"]),
                Rule("/api/v1/reports", endpoint="changes", methods=["GET"]),
                Rule("/api/v1/reports/<tracking_id>", endpoint="status", methods=["GET"]),
                Rule(
                    "/api/v1/reports/<tracking_id>/followups", endpoint="followup", methods=["POST"]
                ),
                Rule("/api/v1/reports/<tracking_id>/reroute", endpoint="reroute", methods=["POST"]),
                Rule("/api/v1/agencies", endpoint="agencies", methods=["GET"]),
                Rule("/sandbox/stats", endpoint="stats", methods=["GET"]),
                Rule("/sandbox/reports.json", endpoint="reports_json", methods=["GET"]),
                Rule(
                    "/sandbox/reports/<tracking_id>/status", endpoint="set_status", methods=["POST"]
                ),
                Rule(
                    "/sandbox/reports/<tracking_id>/responses",
                    endpoint="add_response",
                    methods=["POST"],
                ),
            ]
        )

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """Answer one WSGI request."""
        request = Request(environ)
        request.max_content_length = MAX_BODY
        adapter = self.urls.bind_to_environ(environ)
        try:
            endpoint, args = adapter.match()
            if self.settings.latency_ms:
                time.sleep(self.settings.latency_ms / 1000)
            if request.path.startswith("/api/") and not self._authorized(request):
                response = _error(401, "unauthorized", "missing or wrong bearer token")
            else:
                response = getattr(self, f"on_{endpoint}")(request, **args)
        except NotFound:
            response = _error(404, "not_found", "no such endpoint")
        except HTTPException as exc:
            code = "too_large" if exc.code == 413 else "invalid_report"
            response = _error(exc.code or 400, code, exc.description or "bad request")
        return response(environ, start_response)

    def _authorized(self, request: Request) -> bool:
        given = request.headers.get("Authorization", "")
        expected = f"Bearer {self.settings.token}"
        return hmac.compare_digest(given.encode(), expected.encode())

    def _roll(self) -> float:
        with self.rng_lock:
            return self.rng.random()

    def _body(self, request: Request) -> Any:
        try:
            return json.loads(request.get_data(cache=False) or b"null")
        except ValueError:
            return None

    # --- the contract -------------------------------------------------------------------

    def on_submit(self, request: Request) -> Response:
        """POST /api/v1/reports."""
        self.store.bump("submissions")
        key = request.headers.get("Idempotency-Key")
        if not key:
            return _error(
                422, "invalid_report", "Idempotency-Key header is required", "Idempotency-Key"
            )
        report = self._body(request)
        if not isinstance(report, dict):
            return _error(422, "invalid_report", "body must be a JSON object")
        errors = sorted(self.validator.iter_errors(report), key=lambda e: list(e.path))
        if errors:
            path = "/".join(str(p) for p in errors[0].absolute_path) or None
            return _error(422, "invalid_report", errors[0].message, path)
        if report["id"] != key:
            return _error(422, "invalid_report", "Idempotency-Key must equal the report id", "id")
        body_hash = _hash(report)
        fail = self.settings.fail_rate and self._roll() < self.settings.fail_rate
        after_commit = fail and self._roll() < 0.5
        if fail and not after_commit:
            return self._injected_failure()
        with self.store.write_lock:
            existing = self.store.by_gateway_id(key)
            if existing is not None:
                if existing["body_hash"] != body_hash:
                    return _error(
                        409, "conflict", "this Idempotency-Key was used with another body"
                    )
                return _json(self._receipt(existing), 200)
            if (
                self.settings.return_agency
                and report["routing"]["agency"] == self.settings.return_agency
            ):
                return _error(
                    422,
                    "out_of_authority",
                    f"{self.settings.return_agency} cannot act on this report",
                    "routing.agency",
                )
            row = self.store.create(report, body_hash)
        if after_commit:
            return self._injected_failure()
        return _json(self._receipt(row), 201)

    def _injected_failure(self) -> Response:
        self.store.bump("failures_injected")
        if self._roll() < 0.5:
            return _error(
                429, "rate_limited", "slow down (sandbox fail-rate)", headers={"Retry-After": "1"}
            )
        return _error(503, "unavailable", "temporarily unavailable (sandbox fail-rate)")

    def _receipt(self, row: Any) -> dict[str, str]:
        return {
            "tracking_id": row["tracking_id"],
            "status": self.settings.receipt_status,
            "received_at": row["created_at"],
        }

    def on_changes(self, request: Request) -> Response:
        """GET /api/v1/reports?updated_since=&cursor=&limit=."""
        try:
            since = normalize_time(request.args["updated_since"])
        except (KeyError, ValueError):
            return _error(
                422, "invalid_report", "updated_since must be an ISO 8601 time", "updated_since"
            )
        try:
            limit = min(max(int(request.args.get("limit", 100)), 1), 500)
            after = int(request.args.get("cursor") or 0)
        except ValueError:
            return _error(422, "invalid_report", "limit and cursor must be integers", "cursor")
        rows, more = self.store.changes(since, after, limit)
        return _json(
            {
                "items": [self.store.view(r) for r in rows],
                "next_cursor": str(rows[-1]["seq"]) if more and rows else None,
            }
        )

    def on_status(self, request: Request, tracking_id: str) -> Response:
        """GET /api/v1/reports/{tracking_id}."""
        row = self.store.get(tracking_id)
        if row is None:
            return _error(404, "not_found", f"no report {tracking_id}")
        return _json(self.store.view(row))

    def on_followup(self, request: Request, tracking_id: str) -> Response:
        """POST /api/v1/reports/{tracking_id}/followups."""
        if self.store.get(tracking_id) is None:
            return _error(404, "not_found", f"no report {tracking_id}")
        key = request.headers.get("Idempotency-Key")
        body = self._body(request)
        if not key:
            return _error(
                422, "invalid_report", "Idempotency-Key header is required", "Idempotency-Key"
            )
        if not isinstance(body, dict) or not all(
            isinstance(body.get(k), str) for k in ("id", "body", "received_at")
        ):
            return _error(422, "invalid_report", "id, body and received_at are required")
        created, first = self.store.add_followup(tracking_id, key, body, _hash(body))
        if not created and first != _hash(body):
            return _error(409, "conflict", "this Idempotency-Key was used with another body")
        if created:
            self.store.change(tracking_id, note="tindak lanjut dari pelapor")
        return _json({"tracking_id": tracking_id, "id": body["id"]}, 201 if created else 200)

    def on_reroute(self, request: Request, tracking_id: str) -> Response:
        """POST /api/v1/reports/{tracking_id}/reroute."""
        if self.store.get(tracking_id) is None:
            return _error(404, "not_found", f"no report {tracking_id}")
        body = self._body(request)
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("agency"), str)
            or not isinstance(body.get("reason"), str)
        ):
            return _error(422, "invalid_report", "agency and reason are required", "agency")
        if body["agency"] == self.settings.return_agency:
            return _error(
                422, "out_of_authority", f"{body['agency']} cannot act on this report", "agency"
            )
        self.store.change(
            tracking_id,
            status=CentralStatus.RECEIVED,
            agency=body["agency"],
            note=f"dialihkan ke {body['agency']}: {body['reason']}",
        )
        return _json(self.store.view(self.store.require(tracking_id)))

    def on_agencies(self, request: Request) -> Response:
        """GET /api/v1/agencies."""
        return _json(
            [
                {"code": a["code"], "name": a["name"], "parent": a.get("parent")}
                for a in self.settings.agencies
            ]
        )

    # --- sandbox-only helpers (no token: a local test tool) -----------------------------

    def on_stats(self, request: Request) -> Response:
        """Counts for tests and benchmarks."""
        return _json(
            {
                "reports": sum(self.store.by_status().values()),
                "submissions": self.store.counter("submissions"),
                "failures_injected": self.store.counter("failures_injected"),
                "by_status": self.store.by_status(),
            }
        )

    def on_reports_json(self, request: Request) -> Response:
        """Every report (ids, agency, status), for tests counting arrivals."""
        return _json(
            [
                {
                    "tracking_id": r["tracking_id"],
                    "gateway_id": r["gateway_id"],
                    "agency": r["agency"],
                    "status": r["status"],
                    "kind": r["kind"],
                    "confidential": bool(
                        json.loads(r["body"]).get("privacy", {}).get("confidential")
                    ),
                    "followups": self.store.followups_of(r["tracking_id"]),
                }
                for r in self.store.all()
            ]
        )

    def _form(self, request: Request) -> dict[str, Any]:
        if request.mimetype == "application/json":
            body = self._body(request)
            return body if isinstance(body, dict) else {}
        return request.form.to_dict()

    def on_set_status(self, request: Request, tracking_id: str) -> Response:
        """Move a report to another status (demo page and tests)."""
        form = self._form(request)
        status = form.get("status")
        statuses = STATUSES + self.settings.extra_statuses
        if status not in statuses:
            return _error(
                422, "invalid_report", f"status must be one of {', '.join(statuses)}", "status"
            )
        try:
            self.store.change(
                tracking_id,
                status=status,
                agency=form.get("agency") or None,
                note=form.get("note") or None,
                at=form.get("at") or None,
            )
        except KeyError:
            return _error(404, "not_found", f"no report {tracking_id}")
        except ValueError:
            return _error(422, "invalid_report", "at must be an ISO 8601 time", "at")
        return self._done(request, tracking_id)

    def on_add_response(self, request: Request, tracking_id: str) -> Response:
        """Add an agency response (demo page and tests)."""
        form = self._form(request)
        text = (form.get("text") or "").strip()
        if not text:
            return _error(422, "invalid_report", "text is required", "text")
        try:
            self.store.change(
                tracking_id,
                response=text,
                agency=form.get("agency") or None,
                at=form.get("at") or None,
            )
        except ValueError:
            return _error(422, "invalid_report", "at must be an ISO 8601 time", "at")
        except KeyError:
            return _error(404, "not_found", f"no report {tracking_id}")
        return self._done(request, tracking_id)

    def _done(self, request: Request, tracking_id: str) -> Response:
        if request.mimetype == "application/json":
            return _json(self.store.view(self.store.require(tracking_id)))
        return redirect("/", code=303)

    def on_index(self, request: Request) -> Response:
        """The demo page: received reports, with forms to move them along."""
        reports = []
        for row in self.store.all()[:200]:
            body = json.loads(row["body"])
            reporter = body.get("reporter") or {}
            reports.append(
                {
                    **self.store.view(row),
                    "title": row["title"],
                    "kind": row["kind"],
                    "created_at": row["created_at"],
                    "channel": body["channel"]["name"],
                    "phone": _mask(reporter.get("phone")),
                    "email": _mask(reporter.get("email")),
                }
            )
        html = self.templates.get_template("index.html").render(
            reports=reports, statuses=STATUSES, agencies=self.settings.agencies
        )
        return Response(html, content_type="text/html; charset=utf-8")


def make_app(settings: SandboxSettings) -> SandboxCentral:
    """The sandbox as a WSGI application."""
    return SandboxCentral(settings)
