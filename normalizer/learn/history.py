"""Reading a labelled history (CSV) for training or evaluation: what is used, what is skipped.

A pemda's export is rarely clean. Rows are skipped, and counted by reason, when
- the text is empty (`empty_text`),
- the label is empty (`empty_label`),
- the label maps to no known agency or kind (`unknown_label`; the names are listed),
- the text (folded as the classifier sees it) was already seen (`duplicate`).

The delimiter (comma, semicolon or tab, as spreadsheet exports differ) is detected; the file
must be UTF-8 (a byte-order mark is fine). Agency names are matched to the mapping ignoring
case and repeated spaces.
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from normalizer.learn.features import prepare
from normalizer.learn.model import ModelError

SKIP_REASONS = ("empty_text", "empty_label", "unknown_label", "duplicate")


@dataclass
class History:
    """The usable rows of a history file and what was left out."""

    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    unknown_labels: Counter[str] = field(default_factory=Counter)

    def summary(self) -> dict[str, Any]:
        """Counts for people and for `--json`."""
        return {
            "used": len(self.texts),
            "skipped": {reason: self.skipped.get(reason, 0) for reason in SKIP_REASONS},
            "unknown_labels": dict(self.unknown_labels.most_common(20)),
        }


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def read_mapping(path: Path) -> dict[str, str]:
    """A YAML mapping of the pemda's agency names to config codes."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ModelError(f"berkas pemetaan {path} tidak dapat dibaca: {exc}") from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str | int) and isinstance(v, str) for k, v in data.items()
    ):
        raise ModelError(
            f"berkas pemetaan {path} harus berisi pasangan 'nama instansi: kode', satu per baris"
        )
    return {_key(str(name)): code for name, code in data.items()}


def label_resolver(
    mapping: Mapping[str, str] | None, known: set[str] | None
) -> Callable[[str], str | None]:
    """Label text -> the code used for training, or None when it is unknown."""

    def resolve(raw: str) -> str | None:
        code = mapping.get(_key(raw)) if mapping is not None else raw.strip()
        if code is None or (known is not None and code not in known):
            return None
        return code

    return resolve


def _open_rows(path: Path) -> tuple[list[str], Any, Any]:
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
        sample = handle.read(65536)
    except OSError as exc:
        raise ModelError(f"berkas {path} tidak dapat dibaca: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ModelError(
            f"berkas {path} bukan teks UTF-8; simpan ulang sebagai CSV UTF-8"
        ) from None
    handle.seek(0)
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(handle, dialect)
    header = next(reader, None)
    if header is None:
        handle.close()
        raise ModelError(f"berkas {path} kosong")
    return [h.strip() for h in header], reader, handle


def read_history(
    path: Path,
    text_column: str,
    label_column: str,
    resolve: Callable[[str], str | None],
) -> History:
    """The usable (text, label) rows of a CSV file; see the module docstring for skips."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # long complaints are real
    header, reader, handle = _open_rows(path)
    with handle:
        for column in (text_column, label_column):
            if column not in header:
                raise ModelError(
                    f"kolom {column!r} tidak ada di {path}; kolom yang ada: {', '.join(header)}"
                )
        t, lab = header.index(text_column), header.index(label_column)
        history = History()
        seen: set[str] = set()
        try:
            for row in reader:
                _add_row(history, seen, row, t, lab, resolve)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise ModelError(f"berkas {path} rusak di baris {reader.line_num}: {exc}") from None
    return history


def _add_row(
    history: History,
    seen: set[str],
    row: list[str],
    t: int,
    lab: int,
    resolve: Callable[[str], str | None],
) -> None:
    text = row[t].strip() if t < len(row) else ""
    raw_label = row[lab].strip() if lab < len(row) else ""
    if not prepare(text):
        history.skipped["empty_text"] += 1
        return
    if not raw_label:
        history.skipped["empty_label"] += 1
        return
    label = resolve(raw_label)
    if label is None:
        history.skipped["unknown_label"] += 1
        history.unknown_labels[raw_label] += 1
        return
    key = prepare(text)
    if key in seen:
        history.skipped["duplicate"] += 1
        return
    seen.add(key)
    history.texts.append(text)
    history.labels.append(label)
