"""The four kinds of report the central knows (contracts/report.schema.json `kind`)."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """What a citizen's message is; whistleblowing is always confidential."""

    PENGADUAN = "pengaduan"
    ASPIRASI = "aspirasi"
    PERMINTAAN_INFORMASI = "permintaan_informasi"
    WHISTLEBLOWING = "whistleblowing"


KIND_NAMES: tuple[str, ...] = tuple(kind.value for kind in Kind)
