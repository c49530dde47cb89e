"""Indonesian words for what the console and the citizen pages show (codes stay in English)."""

from __future__ import annotations

from forwarder.replies import LOCAL_LABELS, STATUS_LABELS

KIND_LABELS = {
    "pengaduan": "Pengaduan",
    "aspirasi": "Aspirasi",
    "permintaan_informasi": "Permintaan informasi",
    "whistleblowing": "Pelaporan pelanggaran (WBS)",
}

EVENT_LABELS = {
    "received": "Diterima gateway",
    "routed": "Diarahkan ke instansi",
    "normalizer_note": "Catatan normalisasi",
    "forwarded": "Diteruskan ke LAPOR!",
    "status": "Status berubah",
    "response": "Tanggapan instansi",
    "rerouted": "Dialihkan",
    "reroute_impossible": "Tidak dapat dialihkan",
    "reroute_sent": "Pengalihan dikirim",
    "followup": "Tambahan dari pelapor",
    "followup_sent": "Tambahan diteruskan",
    "dead_letter": "Gagal diteruskan (dead letter)",
    "released": "Dilepas dari karantina",
    "replayed": "Dikirim ulang oleh admin",
    "edited": "Data diubah oleh admin",
    "reprocessed": "Diproses ulang",
    "reply_sent_by_hand": "Balasan dikirim manual",
}

REPLY_STATE_LABELS = {
    "pending": "menunggu dikirim",
    "sent": "terkirim",
    "dead": "gagal",
    "manual": "perlu dikirim manual",
    "limited": "ditahan (batas per penerima)",
}

INBOUND_STATE_LABELS = {
    "accepted": "diterima",
    "followup": "tambahan laporan",
    "query": "pertanyaan status",
    "quarantined": "dikarantina",
    "released": "dilepas",
    "rejected": "ditolak",
}

HOLD_LABELS = {
    "auto_reply": "balasan otomatis",
    "bounce": "pesan pantulan (bounce)",
    "mailing_list": "milis",
    "bulk": "pesan massal",
    "empty": "kosong",
    "too_large": "terlalu besar",
    "unreadable": "tidak terbaca",
}

HEALTH_LABELS = {
    "alive": "hidup",
    "failing": "gagal",
    "silent": "sepi",
    "idle": "belum ada pesan",
    "disabled": "nonaktif",
}

# What the public sees without the private link: one of three words, nothing more.
COARSE_STATUS = {
    "queued": "diterima",
    "dead": "diterima",
    "received": "diterima",
    "verified": "diterima",
    "dispositioned": "diproses",
    "in_progress": "diproses",
    "returned": "diproses",
    "completed": "selesai",
    "closed": "selesai",
    "archived": "selesai",
}
COARSE_LABELS = {
    "diterima": "Laporan sudah diterima dan menunggu tindak lanjut.",
    "diproses": "Laporan sedang diproses oleh instansi.",
    "selesai": "Laporan sudah selesai ditindaklanjuti.",
}
DONE_STATUSES = ("completed", "closed", "archived")


def status_label(status: str | None) -> str:
    """`sedang ditindaklanjuti` for `in_progress`, and so on."""
    if not status:
        return "-"
    return STATUS_LABELS.get(status) or LOCAL_LABELS.get(status) or status


def kind_label(kind: str | None) -> str:
    """The kind in words."""
    return KIND_LABELS.get(kind or "", kind or "-")


# The statuses the list can filter by, in the order a report passes them.
STATUS_CHOICES = {
    "queued": "menunggu diteruskan",
    "dead": "gagal diteruskan",
    "received": "diterima LAPOR!",
    "verified": "diverifikasi",
    "dispositioned": "didisposisikan",
    "in_progress": "ditindaklanjuti",
    "returned": "dikembalikan",
    "completed": "selesai",
    "closed": "ditutup",
    "archived": "diarsipkan",
}
