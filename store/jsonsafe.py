"""JSON that every database takes: text with NUL or lone surrogates kept losslessly aside.

PostgreSQL refuses the NUL escape in JSONB and neither database stores a lone surrogate (a JSON
body may carry one as an escape). Such a string is kept as `{"__base64__": ...}` of its UTF-8
bytes (surrogates passed through), so raw input is stored whatever it holds and can be
restored exactly for replay.
"""

from __future__ import annotations

import base64
from typing import Any

MARKER = "__base64__"


def _unsafe(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def storable(value: Any) -> Any:
    """`value` with every unstorable string (as key or value) replaced by its marker form."""
    if isinstance(value, str):
        if _unsafe(value):
            raw = value.encode("utf-8", "surrogatepass")
            return {MARKER: base64.b64encode(raw).decode("ascii")}
        return value
    if isinstance(value, dict):
        return {
            (k if not (isinstance(k, str) and _unsafe(k)) else _key(k)): storable(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [storable(v) for v in value]
    return value


def _key(key: str) -> str:
    raw = key.encode("utf-8", "surrogatepass")
    return f"{MARKER}:{base64.b64encode(raw).decode('ascii')}"


def restored(value: Any) -> Any:
    """The exact value `storable` was given."""
    if isinstance(value, dict):
        if set(value) == {MARKER} and isinstance(value[MARKER], str):
            return base64.b64decode(value[MARKER]).decode("utf-8", "surrogatepass")
        return {_unkey(k): restored(v) for k, v in value.items()}
    if isinstance(value, list):
        return [restored(v) for v in value]
    return value


def _unkey(key: str) -> str:
    if key.startswith(MARKER + ":"):
        return base64.b64decode(key[len(MARKER) + 1 :]).decode("utf-8", "surrogatepass")
    return key


def unstorable_text(text: str) -> bool:
    """Whether a string could not go into a text column as it is."""
    return _unsafe(text)
