"""Config problems in Bahasa Indonesia: pydantic's error types and YAML's syntax errors.

The admin reads these at `config check` and when the gateway refuses to start; the path and
line come with them (see `config.loader`). Messages our own validators raise are written in
Indonesian where they are raised.
"""

from __future__ import annotations

from typing import Any

import yaml

# pydantic error type -> message; `{...}` names come from the error's context.
PYDANTIC: dict[str, str] = {
    "missing": "wajib diisi",
    "extra_forbidden": "kunci tidak dikenal",
    "string_type": "harus berupa teks",
    "string_too_short": "terlalu pendek (minimal {min_length} karakter)",
    "string_too_long": "terlalu panjang (maksimal {max_length} karakter)",
    "string_pattern_mismatch": "formatnya tidak sesuai (pola {pattern})",
    "int_type": "harus berupa bilangan bulat",
    "int_parsing": "harus berupa bilangan bulat",
    "int_from_float": "harus berupa bilangan bulat",
    "float_type": "harus berupa angka",
    "float_parsing": "harus berupa angka",
    "bool_type": "harus ya atau tidak (true/false)",
    "bool_parsing": "harus ya atau tidak (true/false)",
    "literal_error": "harus salah satu dari {expected}",
    "enum": "harus salah satu dari {expected}",
    "greater_than": "harus lebih besar dari {gt}",
    "greater_than_equal": "minimal {ge}",
    "less_than": "harus lebih kecil dari {lt}",
    "less_than_equal": "maksimal {le}",
    "list_type": "harus berupa daftar",
    "dict_type": "harus berupa pemetaan (kunci: nilai)",
    "model_type": "harus berupa pemetaan (kunci: nilai)",
    "model_attributes_type": "harus berupa pemetaan (kunci: nilai)",
    "too_short": "terlalu sedikit isinya (minimal {min_length})",
    "too_long": "terlalu banyak isinya (maksimal {max_length})",
    "url_parsing": "bukan URL yang sah",
    "date_from_datetime_parsing": "harus tanggal YYYY-MM-DD",
    "date_parsing": "harus tanggal YYYY-MM-DD",
    "date_type": "harus tanggal YYYY-MM-DD",
}


def pydantic_message(error: Any) -> str:
    """One pydantic error as the admin should read it."""
    kind = error["type"]
    if kind in ("value_error", "assertion_error"):
        message = str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        return message[:1].lower() + message[1:]
    template = PYDANTIC.get(kind)
    if template is None:
        return str(error["msg"])
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError):
        return template


# Fragments of YAML's own problem texts -> what they mean for someone editing the file.
YAML_PROBLEMS: list[tuple[str, str]] = [
    ("found character '\\t'", "ada karakter TAB; gunakan spasi untuk indentasi"),
    (
        "mapping values are not allowed here",
        "tanda titik dua (:) tidak pada tempatnya; beri tanda kutip pada nilai yang memuat"
        " titik dua, atau periksa indentasi",
    ),
    ("could not find expected ':'", "tanda titik dua (:) setelah nama kunci tidak ditemukan"),
    ("did not find expected key", "indentasi tidak konsisten: kunci tidak sejajar"),
    ("did not find expected '-' indicator", "indentasi daftar (-) tidak konsisten"),
    ("expected <block end>", "indentasi tidak konsisten"),
    ("found unexpected end of stream", "berkas berakhir sebelum tanda kutip atau kurung ditutup"),
    ("did not find expected ',' or ']'", "kurung siku [ ] tidak ditutup atau koma kurang"),
    ("did not find expected ',' or '}'", "kurung kurawal { } tidak ditutup atau koma kurang"),
    ("found undefined alias", "alias (*nama) yang dipakai belum didefinisikan"),
    ("found unknown escape character", "urutan escape (\\) tidak dikenal di dalam tanda kutip"),
    ("unacceptable character", "berkas memuat karakter kendali yang tidak diizinkan"),
    (
        "could not determine a constructor for the tag",
        "tag YAML khusus (!!...) tidak diizinkan; tulis nilai biasa",
    ),
    ("expected ',' or ']'", "kurung siku [ ] tidak ditutup atau koma kurang"),
    ("expected ',' or '}'", "kurung kurawal { } tidak ditutup atau koma kurang"),
    ("expected a single document", "berkas memuat lebih dari satu dokumen YAML (---)"),
]


def yaml_message(exc: yaml.YAMLError, text: str) -> tuple[str, int | None]:
    """A YAML syntax error in plain Indonesian, with the line it is on."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = str(getattr(exc, "problem", None) or exc)
    plain = next((words for key, words in YAML_PROBLEMS if key in problem), None)
    line = mark.line + 1 if mark is not None else None
    message = f"YAML tidak sah: {plain or problem}"
    if mark is not None:
        lines = text.splitlines()
        if 0 <= mark.line < len(lines):
            message += f" (kolom {mark.column + 1}: {lines[mark.line].strip()[:80]!r})"
    return message, line
