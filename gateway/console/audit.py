"""The audit log: every admin action, who did it, on what, when (never personal data)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import AuditEntry, utcnow

ACTION_LABELS = {
    "login": "masuk",
    "login_failed": "gagal masuk",
    "logout": "keluar",
    "replay": "kirim ulang laporan",
    "edit": "ubah data laporan",
    "release": "lepas dari karantina",
    "reprocess": "proses ulang masukan ditolak",
    "reply_sent_by_hand": "tandai balasan terkirim manual",
    "reply_release": "lepas balasan yang dibatasi",
    "export": "ekspor daftar laporan",
    "export_sla": "ekspor tabel koordinasi SLA",
    "entry": "catat laporan konvensional",
    "test_message": "kirim pesan uji",
    "view_personal_data": "lihat data pribadi",
    "user_add": "tambah pengguna",
    "user_passwd": "ganti kata sandi",
    "user_disable": "nonaktifkan pengguna",
    "user_enable": "aktifkan pengguna",
}


def audit(
    session: Session, actor: str, action: str, target: str | None = None, **detail: Any
) -> AuditEntry:
    """Record one action in the caller's transaction."""
    entry = AuditEntry(at=utcnow(), actor=actor, action=action, target=target, detail=detail)
    session.add(entry)
    return entry


def recent(session: Session, limit: int = 200, target: str | None = None) -> list[AuditEntry]:
    """Newest first; only those about `target` when given."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if target is not None:
        query = query.where(AuditEntry.target == target)
    return list(session.scalars(query))
