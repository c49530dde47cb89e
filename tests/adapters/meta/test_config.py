"""Chat channel entries (`telegram` and the Meta family) in the YAML config: each mistake is a
loud error naming the key and line; secrets only from the environment."""

from __future__ import annotations

import pytest

from config.errors import ConfigError
from config.loader import parse_config
from tests.helpers import WEB_SECRET, config_text

ENV = {
    "WEB_SECRET": WEB_SECRET,
    "CENTRAL_TOKEN": "central-token-0123",
    "S": "secret-value-0123456789",
}
META = 'app_secret: "${S}", verify_token: "${S}", access_token: "${S}"'
GOOD = {
    "telegram": '{name: c, type: telegram, token: "${S}", secret_token: "${S}"}',
    "telegram polling": '{name: c, type: telegram, token: "${S}", receive: polling}',
    "whatsapp_cloud": '{name: c, type: whatsapp_cloud, phone_number_id: "1065403522", '
    + META
    + "}",
    "facebook_messenger": "{name: c, type: facebook_messenger, " + META + "}",
    "instagram_dm": "{name: c, type: instagram_dm, " + META + "}",
}
BAD = [
    ("telegram webhook without secret", '{name: c, type: telegram, token: "${S}"}', "secret_token"),
    (
        "telegram token written in clear",
        "{name: c, type: telegram, token: abc, receive: polling}",
        "channels[c].token",
    ),
    (
        "telegram unknown receive",
        '{name: c, type: telegram, token: "${S}", receive: push}',
        "channels[c].receive",
    ),
    (
        "whatsapp without phone number id",
        "{name: c, type: whatsapp_cloud, " + META + "}",
        "channels[c].phone_number_id",
    ),
    (
        "whatsapp template name with spaces",
        '{name: c, type: whatsapp_cloud, phone_number_id: "1065403522", template_name: "a b", '
        + META
        + "}",
        "channels[c].template_name",
    ),
    (
        "messenger without app secret",
        '{name: c, type: facebook_messenger, verify_token: "${S}", access_token: "${S}"}',
        "channels[c].app_secret",
    ),
    (
        "instagram unknown key",
        "{name: c, type: instagram_dm, page: 1, " + META + "}",
        "channels[c].page",
    ),
]


def _parse(entry: str) -> object:
    text = config_text("sqlite:///x.db", "http://127.0.0.1:9") + f"  - {entry}\n"
    return parse_config(text, "gateway.yaml", ENV)


@pytest.mark.parametrize("entry", GOOD.values(), ids=list(GOOD))
def test_a_correct_entry_passes(entry: str) -> None:
    _parse(entry)


@pytest.mark.parametrize("label, entry, path", BAD, ids=[b[0] for b in BAD])
def test_a_mistake_names_its_key_and_line(label: str, entry: str, path: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _parse(entry)
    text = str(caught.value)
    assert path in text and "gateway.yaml:" in text, text


def _webhook_warnings(text: str) -> list[str]:
    warnings = parse_config(text, "gateway.yaml", ENV).warnings
    return [str(w) for w in warnings if "menerima webhook" in str(w)]


@pytest.mark.parametrize("entry", GOOD.values(), ids=list(GOOD))
def test_a_webhook_channel_on_an_http_public_url_is_warned_about(entry: str) -> None:
    """Telegram's setWebhook and Meta's callback URL take only https: nothing would arrive."""
    text = config_text("sqlite:///x.db", "http://127.0.0.1:9") + f"  - {entry}\n"
    warned = _webhook_warnings(text)
    if "polling" in entry:  # getUpdates needs no public URL at all
        assert warned == []
        return
    (warning,) = warned
    assert warning.startswith("channels[c]: kanal c menerima webhook") and "https" in warning
    assert "gateway.yaml:" in warning
    https = text.replace('public_url: "http://127.0.0.1:8000"', 'public_url: "https://aduan.go.id"')
    assert https != text and _webhook_warnings(https) == []
    disabled = text.replace("{name: c,", "{name: c, enabled: false,")
    assert disabled != text and _webhook_warnings(disabled) == []
