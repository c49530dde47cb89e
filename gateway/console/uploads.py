"""Files uploaded through the console or `/lapor`: type checked by content, size capped."""

from __future__ import annotations

import re
from typing import IO

from vocabulary.drafts import AttachmentData

# Judged by the first bytes, never by the name or the browser's word.
SIGNATURES = {
    b"%PDF-": ("application/pdf", ".pdf"),
    b"\xff\xd8\xff": ("image/jpeg", ".jpg"),
    b"\x89PNG\r\n\x1a\n": ("image/png", ".png"),
}


class UploadRefused(ValueError):
    """A file that cannot be taken; the message (Indonesian) says why."""


def safe_name(name: str, extension: str) -> str:
    """A plain file name: no path, no odd characters, the right extension."""
    base = re.sub(r"[^\w.\- ]+", "_", name.replace("\\", "/").rsplit("/", 1)[-1]).strip(" ._")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return f"{(stem or 'lampiran')[:80]}{extension}"


def read_upload(stream: IO[bytes], filename: str, limit: int) -> AttachmentData:
    """The file as an attachment, or UploadRefused (too large, not PDF/JPEG/PNG)."""
    content = stream.read(limit + 1)
    if len(content) > limit:
        raise UploadRefused(
            f"berkas {filename!r} lebih dari {limit // (1024 * 1024)} MB; perkecil lalu coba lagi"
        )
    if not content:
        raise UploadRefused(f"berkas {filename!r} kosong")
    for magic, (content_type, extension) in SIGNATURES.items():
        if content.startswith(magic):
            return AttachmentData(safe_name(filename, extension), content_type, content)
    raise UploadRefused(f"berkas {filename!r} bukan PDF, JPEG, atau PNG")
