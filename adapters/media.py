"""Files a message only points at (Twilio, Meta, X media): fetched within a size cap.

A file that cannot be fetched, is refused by its host, or is over the channel's cap becomes
a note on the report (`MediaProblem`), never an error: the message itself is never lost
over an attachment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

CHUNK = 64 * 1024


class MediaProblem(Exception):
    """Why one media file was not attached (becomes a note on the report; no personal data)."""


@dataclass(frozen=True)
class Downloaded:
    """A fetched file and the type its host declared."""

    content: bytes
    content_type: str


def download_capped(
    http: requests.Session,
    url: str,
    *,
    limit: int,
    timeout: float,
    provider: str,
    **request: Any,
) -> Downloaded:
    """GET `url` (extra `request` arguments: auth, headers), refusing more than `limit` bytes.

    The declared length is checked first and the stream is cut the moment it passes the cap,
    so a hostile or broken host cannot make the gateway hold more than `limit` bytes.
    """
    try:
        with http.get(url, timeout=timeout, stream=True, **request) as response:
            if response.status_code != 200:
                raise MediaProblem(f"{provider} menjawab {response.status_code}")
            declared = int(response.headers.get("Content-Length") or 0)
            if declared > limit:
                raise MediaProblem(f"{declared} bita, lebih dari batas {limit} bita")
            content = bytearray()
            for chunk in response.iter_content(CHUNK):
                content += chunk
                if len(content) > limit:
                    raise MediaProblem(f"lebih dari batas {limit} bita")
            kind = response.headers.get("Content-Type", "application/octet-stream")
            return Downloaded(bytes(content), kind.split(";")[0].strip())
    except requests.RequestException as exc:
        raise MediaProblem(f"tidak terjangkau ({type(exc).__name__})") from None
    except ValueError:  # a Content-Length that is not a number
        raise MediaProblem(f"{provider} menyebut panjang yang tidak terbaca") from None
