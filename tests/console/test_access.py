"""Access rules: every console route x role (admin, operator, anonymous), and CSRF on forms."""

from __future__ import annotations

from typing import Any

import pytest

from tests.console.conftest import Console

ADMIN_ONLY, STAFF, PUBLIC = "admin", "staff", "public"

# (method, path, who may) -- `{report}` is a report id, `{reply}` a reply id, `{inbound}` ...
ROUTES: list[tuple[str, str, str]] = [
    ("GET", "/admin/", STAFF),
    ("GET", "/admin/reports", STAFF),
    ("GET", "/admin/reports/{report}", STAFF),
    ("GET", "/admin/reports/export.csv", ADMIN_ONLY),
    ("GET", "/admin/reports/export.xlsx", ADMIN_ONLY),
    ("POST", "/admin/reports/{report}/edit", ADMIN_ONLY),
    ("POST", "/admin/replay", ADMIN_ONLY),
    ("GET", "/admin/files/{report}/{sha}", STAFF),
    ("GET", "/admin/repair", ADMIN_ONLY),
    ("POST", "/admin/inbound/{inbound}/release", ADMIN_ONLY),
    ("POST", "/admin/inbound/{inbound}/reprocess", ADMIN_ONLY),
    ("POST", "/admin/replies/{reply}/sent", ADMIN_ONLY),
    ("POST", "/admin/replies/{reply}/release", ADMIN_ONLY),
    ("GET", "/admin/audit", ADMIN_ONLY),
    ("GET", "/admin/entry", STAFF),
    ("GET", "/admin/entry/surat", STAFF),
    ("POST", "/admin/entry/surat", STAFF),
    ("GET", "/admin/receipt/{report}", STAFF),
    ("GET", "/admin/channels", ADMIN_ONLY),
    ("POST", "/admin/channels/web/test", ADMIN_ONLY),
    ("POST", "/admin/logout", STAFF),
    ("GET", "/admin/login", PUBLIC),
    ("GET", "/lapor", PUBLIC),
    ("GET", "/status", PUBLIC),
]


def _fill(path: str, ids: dict[str, str]) -> str:
    return path.format(**ids)


@pytest.fixture
def ids(sqlite_console: Console) -> dict[str, str]:
    """A report (with a scanned letter) to point the routes at."""
    from store.models import ReplyItem, Report

    gw = sqlite_console
    client = gw.client_for("admin")
    answer = gw.post_form(
        client,
        "/admin/entry/surat",
        {
            "action": "submit",
            "sender_name": "Ketua RT",
            "number": "1/RT/2026",
            "body": "Jalan rusak di RT 02 sudah tiga bulan.",
            "scan": (_pdf(), "surat.pdf"),
        },
        page="/lapor",
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)
    gw.drain()
    (report,) = gw.rows(Report)
    (reply,) = gw.rows(ReplyItem)
    return {
        "report": report.id,
        "sha": report.payload["attachments"][0]["sha256"],
        "reply": reply.id,
        "inbound": report.inbound_id or "",
    }


def _pdf() -> Any:
    import io

    return io.BytesIO(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")


def _call(gw: Console, client: Any, method: str, path: str) -> Any:
    if method == "GET":
        return client.get(path)
    return gw.post_form(client, path, {}, page="/lapor")


def _expect(answer: Any, who: str, role: str | None) -> str | None:
    """None when the answer fits the rule; otherwise what is wrong."""
    allowed = who == PUBLIC or role == "admin" or (who == STAFF and role == "operator")
    code = answer.status_code
    if allowed:
        if code == 403 or code >= 500:
            return f"allowed but answered {code}"
        if role is None and "/admin/login" in answer.headers.get("Location", ""):
            return "public route sent to the sign-in page"
        return None
    if role is None:
        if code != 302 or "/admin/login" not in answer.headers.get("Location", ""):
            return f"anonymous not sent to sign in ({code})"
        return None
    if code != 403 or "tidak berhak" not in answer.get_data(as_text=True):
        return f"{role} not refused ({code})"
    return None


@pytest.mark.parametrize(
    "role", [None, "operator", "admin"], ids=["anonymous", "operator", "admin"]
)
def test_every_route_by_role(
    sqlite_console: Console, ids: dict[str, str], role: str | None
) -> None:
    gw = sqlite_console
    wrong = []
    client = gw.client_for(role)
    for method, path, who in ROUTES:
        if path == "/admin/logout":
            continue  # signs the client out: checked on its own below
        problem = _expect(_call(gw, client, method, _fill(path, ids)), who, role)
        if problem:
            wrong.append(f"{method} {path}: {problem}")
    client = gw.client_for(role)
    problem = _expect(_call(gw, client, "POST", "/admin/logout"), STAFF, role)
    if problem:
        wrong.append(f"POST /admin/logout: {problem}")
    assert not wrong, "\n".join(wrong)


def test_every_console_route_is_in_the_table(sqlite_console: Console) -> None:
    """A new console route without an access rule in this table fails here."""
    known = {p.split("{")[0].rstrip("/") for _, p, _ in ROUTES}
    for rule in sqlite_console.app.url_map.iter_rules():
        path = str(rule.rule)
        if not path.startswith("/admin"):
            continue
        prefix = path.split("<")[0].rstrip("/")
        assert any(k.startswith(prefix) or prefix.startswith(k) for k in known if k), path


def test_forms_without_csrf_token_are_refused(sqlite_console: Console, ids: dict[str, str]) -> None:
    gw = sqlite_console
    client = gw.client_for("admin")
    answer = client.post("/admin/replay", data={"ident": ids["report"]})
    assert answer.status_code == 400
    assert "kedaluwarsa atau tidak sah" in answer.get_data(as_text=True)
    answer = client.post("/admin/replay", data={"ident": ids["report"], "csrf_token": "forged"})
    assert answer.status_code == 400
    anonymous = gw.app.test_client()
    login = anonymous.post("/admin/login", data={"username": "admin", "password": "x"})
    assert login.status_code == 400
    lapor = anonymous.post("/lapor", data={"body": "tanpa token", "nonce": "n1"})
    assert lapor.status_code == 400
    # Webhooks are signed by their providers, not by a session: no CSRF token there.
    assert gw.post("web", {"body": "Lampu jalan mati", "external_id": "w1"}).status_code == 201


def test_operator_never_sees_a_whistleblowers_contact(sqlite_console: Console) -> None:
    from store.models import Report

    gw = sqlite_console
    gw.post(
        "web",
        {
            "body": "Ada pungutan liar dan korupsi di kantor kecamatan",
            "kind": "whistleblowing",
            "name": "Siti Pelapor",
            "phone": "081298765432",
            "email": "siti@contoh.id",
            "external_id": "wbs-1",
        },
    )
    (report,) = [r for r in gw.rows(Report) if r.kind == "whistleblowing"]
    operator = gw.client_for("operator").get(f"/admin/reports/{report.id}")
    text = operator.get_data(as_text=True)
    assert operator.status_code == 200
    for secret in ("Siti Pelapor", "81298765432", "siti@contoh.id"):
        assert secret not in text
    assert "Identitas pelapor disembunyikan" in text
    admin = gw.client_for("admin").get(f"/admin/reports/{report.id}").get_data(as_text=True)
    assert "Siti Pelapor" in admin and "+6281298765432" in admin


def test_operator_sees_no_reporter_until_the_models_have_read_the_report(
    sqlite_console: Console,
) -> None:
    from store.models import Report

    gw = sqlite_console
    bribe = "Petugas kelurahan minta uang kopi supaya surat saya cepat diteken"
    gw.post(
        "web", {"body": bribe, "name": "Budi Saksi", "phone": "081277776666", "external_id": "m1"}
    )
    (report,) = gw.rows(Report)
    assert report.awaiting_models is not None and report.kind == "pengaduan"
    operator = gw.client_for("operator")
    text = operator.get(f"/admin/reports/{report.id}").get_data(as_text=True)
    assert "Budi Saksi" not in text and "81277776666" not in text
    assert "sampai model selesai membaca" in text and "menunggu model" in text
    assert "model belum membaca laporan ini" in text  # the rules' route is provisional
    gw.forwarder.run_once()  # the models read it: a whistleblowing report, confidential
    (report,) = gw.rows(Report)
    assert report.awaiting_models is None and report.kind == "whistleblowing"
    text = operator.get(f"/admin/reports/{report.id}").get_data(as_text=True)
    assert "Budi Saksi" not in text and "menunggu model" not in text
    assert "model belum membaca" not in text
    assert "laporan rahasia atau anonim" in text
    # A plain report is shown to the operator once the models have read it.
    gw.post(
        "web", {"body": "Lampu jalan mati di gang kami", "name": "Ani Warga", "external_id": "m2"}
    )
    gw.forwarder.run_once()
    (plain,) = [r for r in gw.rows(Report) if r.external_id == "m2"]
    assert "Ani Warga" in operator.get(f"/admin/reports/{plain.id}").get_data(as_text=True)


def test_login_is_rate_limited_and_audited(sqlite_console: Console) -> None:
    from store.models import AuditEntry

    gw = sqlite_console
    client = gw.app.test_client()
    codes = []
    for _ in range(6):
        codes.append(
            client.post(
                "/admin/login",
                data={
                    "username": "admin",
                    "password": "salah-sandi-1",
                    "csrf_token": gw.csrf(client),
                },
            ).status_code
        )
    assert codes[:5] == [401] * 5 and codes[5] == 429
    failed = [a for a in gw.rows(AuditEntry) if a.action == "login_failed"]
    assert len(failed) == 5


def test_session_cookie_is_http_only_and_strict(sqlite_console: Console) -> None:
    client = sqlite_console.app.test_client()
    answer = client.post(
        "/admin/login",
        data={
            "username": "admin",
            "password": "admin-sandi-123",
            "csrf_token": sqlite_console.csrf(client),
        },
    )
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/admin/")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
