"""Client for the LAPOR!-style central API (shared/contracts/central-api.yaml).

Every call turns a transport result into either a parsed answer or a `SubmitError` whose
`retryable` bit the outbox acts on: connection errors, timeouts, 429 and 5xx are retried,
any other non-2xx is final (dead letter) with the central's own error code and message.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Final

import requests

from vocabulary.central import CentralStatus
from vocabulary.errors import GatewayError, is_retryable_status

MAX_RETRY_AFTER = 3600.0


class SubmitError(GatewayError):
    """The central did not accept a call; `retryable` says whether trying again can help."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        retryable: bool,
        status: int | None = None,
        field: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable
        self.status = status
        self.field = field
        self.retry_after = retry_after

    def describe(self) -> str:
        """A one-line reason for the timeline and the dead-letter list, in Bahasa Indonesia.

        What the central said comes last, as it said it (its own words, maybe English); the
        HTTP status and the contract's code stay in parentheses for whoever reads the logs.
        """
        label = CODE_WORDS.get(self.code, "pusat menolak kiriman")
        status = f"HTTP {self.status}, " if self.status else ""
        where = f", isian `{self.field}`" if self.field else ""
        return f"{label} ({status}kode {self.code}{where}): {self}"


# The contract's error codes (central-api.yaml) and the client's own, in an admin's words.
CODE_WORDS: Final = {
    "invalid_report": "pusat menolak isi laporan",
    "out_of_authority": "di luar kewenangan instansi tujuan",
    "unauthorized": "token pusat ditolak",
    "conflict": "bentrok dengan laporan lain di pusat",
    "too_large": "laporan terlalu besar bagi pusat",
    "rate_limited": "pusat membatasi laju kiriman",
    "not_found": "tidak ditemukan di pusat",
    "unavailable": "pusat sedang tidak tersedia",
    "timeout": "pusat tidak menjawab tepat waktu",
    "connection_error": "pusat tidak dapat dihubungi",
    "bad_answer": "jawaban pusat tidak dapat dibaca",
    "http_error": "pusat menjawab dengan galat",
    "not_submitted": "laporan belum punya nomor lacak",
    "bad_action": "jenis kiriman tidak dikenal",
}


@dataclass(frozen=True)
class Receipt:
    """The central's answer to a submission.

    `status` is None when the central answered with a status the contract does not know:
    the report keeps no status until the sync reads one it does.
    """

    tracking_id: str
    status: CentralStatus | None
    received_at: str
    replayed: bool


@dataclass(frozen=True)
class ChangesPage:
    """One page of the changes feed."""

    items: list[dict[str, Any]]
    next_cursor: str | None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), capped."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime  # noqa: PLC0415 (rare path)

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        seconds = (when - dt.datetime.now(dt.UTC)).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def error_from_response(response: requests.Response) -> SubmitError:
    """Map a non-2xx answer to a SubmitError using the contract's Error body when present."""
    code, message, field = "http_error", response.reason or "error", None
    try:
        err = response.json().get("error") or {}
        code = str(err.get("code") or code)
        message = str(err.get("message") or message)
        field = err.get("field")
    except (ValueError, AttributeError):
        pass
    return SubmitError(
        message,
        code=code,
        status=response.status_code,
        retryable=is_retryable_status(response.status_code),
        field=field,
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
    )


def error_from_exception(exc: requests.RequestException) -> SubmitError:
    """Connection errors and timeouts are always worth another try."""
    code = "timeout" if isinstance(exc, requests.Timeout) else "connection_error"
    return SubmitError(type(exc).__name__, code=code, retryable=True)


class LaporClient:
    """Talks to one central over HTTP with its bearer token."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 10.0,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.headers.update(
            {"Authorization": f"Bearer {token}", "User-Agent": "sp4n-gateway"}
        )

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                json=json,
                params=params,
                headers=headers,
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise error_from_exception(exc) from exc
        if not 200 <= response.status_code < 300:
            raise error_from_response(response)
        return response

    @staticmethod
    def _json(response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            # A 2xx without the promised JSON: the central is misbehaving; try again later.
            raise SubmitError(
                "answer is not JSON", code="bad_answer", retryable=True, status=response.status_code
            ) from exc

    def submit(self, report: dict[str, Any]) -> Receipt:
        """POST a report with Idempotency-Key = its id."""
        response = self._call(
            "POST", "/api/v1/reports", json=report, headers={"Idempotency-Key": report["id"]}
        )
        body = self._json(response)
        try:
            return Receipt(
                tracking_id=str(body["tracking_id"]),
                status=CentralStatus.parse(body["status"]),
                received_at=str(body.get("received_at", "")),
                replayed=response.status_code == 200,
            )
        except (KeyError, TypeError) as exc:
            raise SubmitError(
                "receipt lacks tracking_id or status",
                code="bad_answer",
                retryable=True,
                status=response.status_code,
            ) from exc

    def reroute(
        self, tracking_id: str, agency: str, reason: str, hops: list[str]
    ) -> dict[str, Any]:
        """Address an accepted report to another agency; the tracking id stays."""
        response = self._call(
            "POST",
            f"/api/v1/reports/{tracking_id}/reroute",
            json={"agency": agency, "reason": reason, "hops": hops},
        )
        return dict(self._json(response))

    def followup(self, tracking_id: str, key: str, payload: dict[str, Any]) -> None:
        """Add a citizen's follow-up message to an existing report."""
        self._call(
            "POST",
            f"/api/v1/reports/{tracking_id}/followups",
            json=payload,
            headers={"Idempotency-Key": key},
        )

    def changes(
        self, updated_since: str, cursor: str | None = None, limit: int = 100
    ) -> ChangesPage:
        """One page of the changes feed."""
        params: dict[str, Any] = {"updated_since": updated_since, "limit": limit}
        if cursor:
            params["cursor"] = cursor
        body = self._json(self._call("GET", "/api/v1/reports", params=params))
        return ChangesPage(items=list(body.get("items") or []), next_cursor=body.get("next_cursor"))

    def status(self, tracking_id: str) -> dict[str, Any]:
        """One report's status."""
        return dict(self._json(self._call("GET", f"/api/v1/reports/{tracking_id}")))

    def agencies(self) -> list[dict[str, Any]]:
        """The central's agency tree."""
        return list(self._json(self._call("GET", "/api/v1/agencies")))
