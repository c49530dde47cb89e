"""Indonesian words for what the console and the citizen pages show (codes stay in English)."""

from __future__ import annotations

from forwarder.replies import LOCAL_LABELS, STATUS_LABELS
from store.states import ReportState
from vocabulary.central import CentralStatus
from vocabulary.holds import HoldReason

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

HOLD_LABELS: dict[str, str] = {
    HoldReason.AUTO_REPLY: "balasan otomatis",
    HoldReason.BOUNCE: "pesan pantulan (bounce)",
    HoldReason.MAILING_LIST: "milis",
    HoldReason.BULK: "pesan massal",
    HoldReason.EMPTY: "kosong",
    HoldReason.UNREADABLE: "tidak terbaca",
    HoldReason.TOO_LARGE: "terlalu besar",
    HoldReason.COMMAND: "perintah bot",
    HoldReason.BINARY: "SMS biner",
    HoldReason.UNSUPPORTED: "jenis pesan tidak didukung",
}

HEALTH_LABELS = {
    "alive": "hidup",
    "failing": "gagal",
    "silent": "sepi",
    "idle": "belum ada pesan",
    "disabled": "nonaktif",
}

# What the public sees without the private link: one of three words, nothing more.
COARSE_STATUS: dict[str, str] = {
    ReportState.QUEUED: "diterima",
    ReportState.DEAD: "diterima",
    CentralStatus.RECEIVED: "diterima",
    CentralStatus.VERIFIED: "diterima",
    CentralStatus.DISPOSITIONED: "diproses",
    CentralStatus.IN_PROGRESS: "diproses",
    CentralStatus.RETURNED: "diproses",
    CentralStatus.COMPLETED: "selesai",
    CentralStatus.CLOSED: "selesai",
    CentralStatus.ARCHIVED: "selesai",
}
COARSE_LABELS = {
    "diterima": "Laporan sudah diterima dan menunggu tindak lanjut.",
    "diproses": "Laporan sedang diproses oleh instansi.",
    "selesai": "Laporan sudah selesai ditindaklanjuti.",
}
DONE_STATUSES = (CentralStatus.COMPLETED, CentralStatus.CLOSED, CentralStatus.ARCHIVED)


def status_label(status: str | None) -> str:
    """`sedang ditindaklanjuti` for `in_progress`, and so on."""
    if not status:
        return "-"
    return STATUS_LABELS.get(status) or LOCAL_LABELS.get(status) or status


def kind_label(kind: str | None) -> str:
    """The kind in words."""
    return KIND_LABELS.get(kind or "", kind or "-")


# The statuses the list can filter by, in the order a report passes them.
STATUS_CHOICES: dict[str, str] = {
    ReportState.QUEUED: "menunggu diteruskan",
    ReportState.DEAD: "gagal diteruskan",
    CentralStatus.RECEIVED: "diterima LAPOR!",
    CentralStatus.VERIFIED: "diverifikasi",
    CentralStatus.DISPOSITIONED: "didisposisikan",
    CentralStatus.IN_PROGRESS: "ditindaklanjuti",
    CentralStatus.RETURNED: "dikembalikan",
    CentralStatus.COMPLETED: "selesai",
    CentralStatus.CLOSED: "ditutup",
    CentralStatus.ARCHIVED: "diarsipkan",
}
