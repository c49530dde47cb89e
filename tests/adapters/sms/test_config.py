"""SMS channel entries in the YAML config: secrets only from the environment, loud errors."""

from __future__ import annotations

import pytest

from config.errors import ConfigError
from config.loader import parse_config
from tests.helpers import WEB_SECRET, config_text

ACCOUNT = "AC00000000000000000000000000000000"
ENTRIES = {
    "twilio_sms": (
        "  - {{name: sms, type: twilio_sms, account_sid: "
        + ACCOUNT
        + ", auth_token: {secret}, number: '+621708'}}\n"
    ),
    "kannel_sms": (
        "  - {{name: sms, type: kannel_sms, secret: {secret}, username: gw,"
        ' password: "${{KANNEL_PASSWORD}}"}}\n'
    ),
    "gammu_smsd": (
        "  - {{name: sms, type: gammu_smsd, database: 'mysql+pymysql://gammu@127.0.0.1/smsd',"
        " password: {secret}}}\n"
    ),
}
ENV = {
    "WEB_SECRET": WEB_SECRET,
    "CENTRAL_TOKEN": "central-token-0123",
    "SMS_SECRET": "sms-shared-secret-0123",
    "KANNEL_PASSWORD": "kannel-password",
}


def _parse(entry: str) -> object:
    return parse_config(
        config_text("sqlite:///x.db", "http://127.0.0.1:9") + entry, "gateway.yaml", ENV
    )


@pytest.mark.parametrize("kind", sorted(ENTRIES))
def test_secret_from_the_environment_is_accepted(kind: str) -> None:
    config = _parse(ENTRIES[kind].format(secret='"${SMS_SECRET}"'))
    (options,) = [c for c in config.channels if c.name == "sms"]  # type: ignore[attr-defined]
    assert options.type == kind


@pytest.mark.parametrize("kind", sorted(ENTRIES))
def test_secret_written_in_the_file_is_refused(kind: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _parse(ENTRIES[kind].format(secret="written-in-the-file"))
    assert "rahasia harus diambil dari variabel lingkungan" in str(caught.value)
    assert "written-in-the-file" not in str(caught.value)


@pytest.mark.parametrize(
    "entry, message",
    [
        ('  - {name: sms, type: kannel_sms, secret: "${SMS_SECRET}"}\n', "username"),
        ("  - {name: sms, type: gammu_smsd, database: 'not a url'}\n", "SQLAlchemy URL"),
        (
            "  - {name: sms, type: twilio_sms, account_sid: "
            + ACCOUNT
            + ", auth_token: \"${SMS_SECRET}\", number: '1708', templates: ['ADUAN#umur']}\n",
            "unknown field",
        ),
        (
            '  - {name: sms, type: kannel_sms, secret: "${SMS_SECRET}", replies: false,'
            " tracking_id_pattern: 'LPR[0-9'}\n",
            "regular expression",
        ),
    ],
)
def test_bad_sms_entries_are_refused_with_the_reason(entry: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _parse(entry)
