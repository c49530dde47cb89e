"""An `imap` channel in the YAML config: secrets from the environment only, errors located."""

from __future__ import annotations

import pytest

from adapters.email.imap import ImapOptions
from config.errors import ConfigError
from config.loader import parse_config
from tests.helpers import config_text

ENV = {
    "CENTRAL_TOKEN": "central-token-0123",
    "WEB_SECRET": "web-secret-0123456789",
    "IMAP_PASSWORD": "imap-secret-value",
    "SMTP_PASSWORD": "smtp-secret-value",
}
CHANNEL = """\
- name: email-aduan
  type: imap
  host: imap.kab-contoh.example.com
  user: aduan@kab-contoh.example.com
  password: {password}
  folders: [INBOX, Aduan]
  processed_folder: Diproses
  smtp_host: smtp.kab-contoh.example.com
  smtp_password: {smtp_password}
"""


def config(password: str = "${IMAP_PASSWORD}", smtp_password: str = "${SMTP_PASSWORD}") -> str:
    return config_text(
        "sqlite:///x.db",
        "http://127.0.0.1:8700",
        channels=CHANNEL.format(password=password, smtp_password=smtp_password),
    )


def test_imap_channel_loads_with_secrets_from_env() -> None:
    loaded = parse_config(config(), "gw.yaml", ENV)
    [options] = [c for c in loaded.channels if c.name == "email-aduan"]
    assert isinstance(options, ImapOptions)
    assert options.password.get_secret_value() == "imap-secret-value"
    assert options.folders == ["INBOX", "Aduan"]
    assert "imap-secret-value" not in repr(options)


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"password": "terbuka"}, "password"),
        ({"smtp_password": "terbuka"}, "smtp_password"),
    ],
    ids=["IMAP password in clear", "SMTP password in clear"],
)
def test_secret_in_clear_is_refused(kwargs: dict[str, str], path: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(config(**kwargs), "gw.yaml", ENV)
    text = str(caught.value)
    assert f".{path}: rahasia harus diambil dari variabel lingkungan" in text
    assert "gw.yaml:" in text


def test_processed_folder_among_polled_folders_is_refused() -> None:
    bad = config().replace("processed_folder: Diproses", "processed_folder: Aduan")
    with pytest.raises(ConfigError, match="processed_folder must not be one of the polled"):
        parse_config(bad, "gw.yaml", ENV)
