"""Rules for secrets in the config: from the environment only, never empty, never weak.

- A secret is written as a whole `${VAR}`; `${VAR:-default}` is allowed only in a config
  marked `gateway: {demo: true}` (the `make run` demo), where it is a warning.
- A secret's value may not be empty (`WEB_SECRET=` in an env file is a mistake, and an empty
  HMAC key would accept signatures anyone can make). A secret that verifies what providers
  send us (a webhook's shared secret or signing key) must be at least MIN_SIGNING_LENGTH
  characters.
- `gateway.database` holding a password is a secret too: the password (or the whole URL)
  must come from the environment.
- A push channel whose signing secret is not set at all is legal (some legacy sites cannot
  sign) but warned about, naming the channel.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from config.errors import ConfigIssue

if TYPE_CHECKING:
    from config.loader import PathKey, _Tree

MIN_SIGNING_LENGTH = 16
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
WHOLE_ENV_REF = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$")
FROM_ENV = "rahasia harus diambil dari variabel lingkungan: tulis ${NAMA_VARIABEL}"


class SecretRules:
    """Applies the module's rules, recording problems and warnings on the config tree."""

    def __init__(self, tree: _Tree, warnings: list[ConfigIssue], *, demo: bool) -> None:
        self.tree = tree
        self.warnings = warnings
        self.demo = demo

    def check_source(self, path: PathKey) -> None:
        """The raw YAML value must be a whole `${VAR}` (a default only in the demo)."""
        raw = self.tree.raw.get(path)
        if raw is None:
            if path in self.tree.lines:
                self.tree.issue(path, FROM_ENV)
            return
        if not WHOLE_ENV_REF.match(raw):
            self.tree.issue(path, FROM_ENV)
            return
        match = ENV_REF.match(raw)
        if match is None or match.group(2) is None:
            return
        name = match.group(1)
        if not self.demo:
            self.tree.issue(
                path,
                f"nilai bawaan untuk rahasia (${{{name}:-...}}) hanya boleh di konfigurasi demo"
                f" (gateway.demo: true); tulis ${{{name}}} dan isi {name} di lingkungan",
            )
        elif name not in self.tree.env:
            self.warnings.append(
                self.tree.at(
                    path,
                    f"{name} belum diisi; memakai nilai bawaan dalam berkas (hanya untuk demo,"
                    " jangan di produksi)",
                )
            )

    def check_value(self, path: PathKey, value: Any, *, inbound: bool) -> None:
        """A set secret is not empty; one that verifies providers' requests is not short."""
        if value is None:
            return
        text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        if not text.strip():
            self.tree.issue(path, "rahasia kosong: variabel lingkungannya diisi string kosong")
        elif inbound and len(text) < MIN_SIGNING_LENGTH:
            self.tree.issue(
                path,
                f"rahasia terlalu pendek ({len(text)} karakter); minimal {MIN_SIGNING_LENGTH}"
                " karakter acak, misalnya dari `openssl rand -hex 32`",
            )

    def check_database_url(self, path: PathKey, url: str) -> None:
        """A database URL with a password is a secret: the password comes from the env."""
        try:
            password = make_url(url).password
        except (ArgumentError, ValueError):
            return  # not a URL at all: reported when the engine is made
        if password and "${" not in (self.tree.raw.get(path) or ""):
            self.tree.issue(
                path,
                "kata sandi basis data tertulis langsung di berkas; tulis"
                " postgresql://user:${DB_PASSWORD}@host/db atau seluruh URL sebagai"
                " ${DATABASE_URL}",
            )

    def warn_unsigned(self, path: PathKey, name: str, field: str) -> None:
        """A push channel that takes requests from anyone who knows its URL."""
        self.warnings.append(
            self.tree.at(
                (*path, field),
                f"kanal {name} tidak memakai {field}: siapa pun yang tahu URL-nya dapat"
                f" mengirim laporan; isi {field}: ${{...}} di produksi",
            )
        )
