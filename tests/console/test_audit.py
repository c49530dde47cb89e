"""Audit completeness: every form of the console that acts writes an audit row.

The console's POST routes are read from the app itself; each one must have a case in
`CASES` (a new route without one fails `test_every_console_post_route_has_a_case`), and
each case posts it as a signed-in user and checks that a new audit row names the action,
the user and the target, whether the action was done or refused. A refused action is
audited too (`ok: false` and the reason shown to the admin): who tried what is part of the
record. The account commands (`sp4n-gateway user ...`) are checked the same way below.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.console.conftest import Console
from tests.helpers import free_port
from vocabulary.holds import HoldReason

ANY_REPORT = "<report id>"  # the target is the report the action made or touched
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class Post:
    """One POST to make: its path and form, the audit action and target it must write."""

    path: str
    form: dict[str, Any]
    action: str
    target: str | None
    ok: bool = True
    role: str = "admin"


@dataclass
class World:
    """The rows the cases act on."""

    queued: str  # a report not yet at the central (editable, replayable)
    quarantined: str  # a held inbound message
    rejected: str  # an inbound request refused for a missing body
    manual_reply: str
    dead_reply: str


def _world(gw: Console) -> World:
    from adapters.letter.adapter import LetterEntry
    from store.models import InboundMessage, ReplyItem, Report

    gw.post("web", {"body": "Lampu jalan mati di gang 3", "external_id": "a-1"})
    letter = gw.runtime.adapters["surat"]
    for n, hold in enumerate((None, HoldReason.AUTO_REPLY)):
        message = letter.message_from_entry(
            LetterEntry(
                body=f"Mohon perbaikan saluran air nomor {n}",
                received_at=dt.datetime.now(dt.UTC),
                sender_name="Pak Joko",
                number=f"{n}/RT/2026",
            )
        )
        message.hold = hold
        gw.runtime.intake.accept(letter, [message])
    assert gw.post("web", {"external_id": "a-2"}).status_code == 400  # no body: rejected
    gw.drain()  # the letter goes to the central; its acknowledgement waits as `manual`
    gw.post("web", {"body": "Sampah menumpuk di pasar", "external_id": "a-3"})
    reports = {r.external_id: r for r in gw.rows(Report)}
    inbound = {r.state: r.id for r in gw.rows(InboundMessage)}
    manual, other = [r.id for r in gw.rows(ReplyItem) if r.state == "manual"][:2]
    with gw.runtime.sessions.begin() as session:
        dead = session.get(ReplyItem, other)
        assert dead is not None
        dead.state = "dead"
    return World(
        queued=reports["a-3"].id,
        quarantined=inbound["quarantined"],
        rejected=inbound["rejected"],
        manual_reply=manual,
        dead_reply=other,
    )


def _done(w: World) -> dict[str, list[Post]]:
    """Each route, done."""
    letter = {
        "action": "submit",
        "sender_name": "Ketua RT 02",
        "number": "005/RT02/XI/2026",
        "body": "Drainase tersumbat di RT 02.",
        "scan": (io.BytesIO(PDF), "surat.pdf"),
    }
    edit = {"title": "Sampah menumpuk di Pasar Baru", "location_text": "Pasar Baru"}
    return {
        "/admin/reports/<ident>/edit": [
            Post(f"/admin/reports/{w.queued}/edit", edit, "edit", w.queued)
        ],
        "/admin/replay": [Post("/admin/replay", {"ident": w.queued}, "replay", w.queued)],
        "/admin/inbound/<inbound_id>/release": [
            Post(f"/admin/inbound/{w.quarantined}/release", {}, "release", ANY_REPORT)
        ],
        "/admin/replies/<reply_id>/sent": [
            Post(f"/admin/replies/{w.manual_reply}/sent", {}, "reply_sent_by_hand", ANY_REPORT)
        ],
        "/admin/replies/<reply_id>/release": [
            Post(f"/admin/replies/{w.dead_reply}/release", {}, "reply_release", ANY_REPORT)
        ],
        "/admin/entry/<name>": [
            Post("/admin/entry/surat", letter, "entry", ANY_REPORT, role="operator")
        ],
        "/admin/channels/<name>/test": [
            # Sent to a webhook nobody listens on: the attempt is audited, failed or not.
            Post(
                "/admin/channels/web/test",
                {"recipient": f"http://127.0.0.1:{free_port()}/balasan"},
                "test_message",
                "web",
                ok=False,
            )
        ],
        "/admin/inbound/<inbound_id>/reprocess": [],  # done: see the browser test
        "/admin/login": [],  # every sign-in: test_access.py
        "/admin/logout": [Post("/admin/logout", {}, "logout", None)],
    }


def _refused(w: World) -> dict[str, list[Post]]:
    """Each route, refused."""
    missing = "01JXXXXXXXXXXXXXXXXXXXXXXX"
    return {
        "/admin/reports/<ident>/edit": [
            Post(
                f"/admin/reports/{w.queued}/edit", {"kind": "bukan-jenis"}, "edit", w.queued, False
            ),
            Post(f"/admin/reports/{missing}/edit", {"title": "x"}, "edit", missing, False),
        ],
        "/admin/replay": [Post("/admin/replay", {"ident": "LPR0000000"}, "replay", None, False)],
        "/admin/inbound/<inbound_id>/release": [
            Post(f"/admin/inbound/{w.rejected}/release", {}, "release", None, False)
        ],
        "/admin/inbound/<inbound_id>/reprocess": [
            # The config is unchanged: the request still has no body.
            Post(f"/admin/inbound/{w.rejected}/reprocess", {}, "reprocess", w.rejected, False),
            Post(f"/admin/inbound/{missing}/reprocess", {}, "reprocess", missing, False),
        ],
        "/admin/replies/<reply_id>/sent": [
            Post(f"/admin/replies/{missing}/sent", {}, "reply_sent_by_hand", None, False)
        ],
        "/admin/replies/<reply_id>/release": [
            Post(f"/admin/replies/{w.manual_reply}/release", {}, "reply_release", None, False)
        ],
        "/admin/entry/<name>": [
            Post(
                "/admin/entry/surat",
                {"action": "submit", "sender_name": "Ketua RT 02", "body": ""},
                "entry",
                None,
                False,
                role="operator",
            )
        ],
        "/admin/channels/<name>/test": [
            Post(
                "/admin/channels/web/test",
                {"recipient": "bukan alamat"},
                "test_message",
                "web",
                False,
            )
        ],
        "/admin/login": [],  # a failed sign-in: test_access.py
        "/admin/logout": [],  # nothing to refuse
    }


def _post_routes(gw: Console) -> set[str]:
    return {
        str(rule.rule)
        for rule in gw.app.url_map.iter_rules()
        if str(rule.rule).startswith("/admin") and "POST" in (rule.methods or ())
    }


def test_every_console_post_route_has_a_case(sqlite_console: Console) -> None:
    world = World("r", "q", "x", "m", "d")
    routes = _post_routes(sqlite_console)
    assert routes == set(_done(world)) == set(_refused(world))
    for route in routes - {"/admin/login", "/admin/logout"}:
        assert _done(world)[route] or _refused(world)[route], route


def _check(gw: Console, cases: Callable[[World], dict[str, list[Post]]]) -> list[str]:
    from gateway.console.audit import ACTION_LABELS
    from store.models import AuditEntry

    world = _world(gw)
    clients = {role: gw.client_for(role) for role in ("admin", "operator")}
    wrong = []
    for route, posts in sorted(cases(world).items()):
        for post in posts:
            seen = {a.id for a in gw.rows(AuditEntry)}
            client = clients[post.role]
            answer = gw.post_form(client, post.path, post.form, page="/lapor")
            if answer.status_code >= 500 or answer.status_code == 403:
                wrong.append(f"{route} {post.path}: answered {answer.status_code}")
                continue
            new = [a for a in gw.rows(AuditEntry) if a.id not in seen]
            rows = [
                (
                    a.actor,
                    a.action,
                    ANY_REPORT if post.target == ANY_REPORT and a.target else a.target,
                    a.detail.get("ok", True),
                )
                for a in new
            ]
            expected = (post.role, post.action, post.target, post.ok)
            if expected not in rows:
                wrong.append(f"{route} {post.path}: wrote {rows or 'no audit row'}, not {expected}")
            if post.action not in ACTION_LABELS:
                wrong.append(f"{route}: action {post.action!r} has no label on the audit page")
            if post.path == "/admin/logout":
                clients[post.role] = gw.client_for(post.role)
    return wrong


def test_every_console_action_done_is_audited(sqlite_console: Console) -> None:
    wrong = _check(sqlite_console, _done)
    assert not wrong, "\n".join(wrong)


def test_every_console_action_refused_is_audited(sqlite_console: Console) -> None:
    wrong = _check(sqlite_console, _refused)
    assert not wrong, "\n".join(wrong)


def test_the_audit_page_names_actions_in_indonesian(sqlite_console: Console) -> None:
    gw = sqlite_console
    client = gw.client_for("admin")
    gw.post_form(client, "/admin/replay", {"ident": "LPR0000000"}, page="/lapor")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "kirim ulang laporan <strong>(ditolak)</strong>" in page
    assert "tidak ada laporan dengan id atau nomor lacak LPR0000000" in page


def test_exports_and_reading_personal_data_are_audited(sqlite_console: Console) -> None:
    from store.models import AuditEntry, Report

    gw = sqlite_console
    gw.post(
        "web",
        {"body": "Ada pungutan liar", "kind": "whistleblowing", "name": "Siti", "external_id": "w"},
    )
    (report,) = gw.rows(Report)
    client = gw.client_for("admin")
    client.get("/admin/reports/export.csv?kind=whistleblowing").get_data()
    client.get(f"/admin/reports/{report.id}")
    actions = [(a.action, a.target) for a in gw.rows(AuditEntry) if a.actor == "admin"]
    assert ("export", None) in actions and ("view_personal_data", report.id) in actions


@pytest.mark.parametrize(
    ("args", "action"),
    [
        (["add", "budi", "--role", "operator"], "user_add"),
        (["passwd", "admin"], "user_passwd"),
        (["disable", "operator"], "user_disable"),
        (["enable", "operator"], "user_enable"),
    ],
    ids=["add", "passwd", "disable", "enable"],
)
def test_account_commands_are_audited(
    sqlite_console: Console, tmp_path: Path, args: list[str], action: str
) -> None:
    from gateway.cli import main
    from store.models import AuditEntry
    from tests.console.conftest import CHANNELS
    from tests.helpers import config_text

    gw = sqlite_console
    config = tmp_path / "gateway.yaml"
    config.write_text(
        config_text(str(gw.runtime.engine.url), "http://127.0.0.1:9", channels=CHANNELS)
    )
    env = {
        "CENTRAL_TOKEN": "t",
        "WEB_SECRET": "test-web-secret-0123456789",
        "SP4N_NEW_PASSWORD": "sandi-baru-4321",
    }
    done = CliRunner().invoke(main, ["user", args[0], "--config", str(config), *args[1:]], env=env)
    assert done.exit_code == 0, done.output
    rows = [(a.actor, a.action, a.target) for a in gw.rows(AuditEntry)]
    assert ("cli", action, args[1]) in rows
