"""`twitter` entries in the YAML config: each mistake is named with its path and line."""

from __future__ import annotations

from typing import Any

import pytest

from config.errors import ConfigError
from config.loader import parse_config
from tests.adapters.twitter.conftest import X_ENV
from tests.helpers import WEB_SECRET, config_text

KEYS = (
    ' consumer_key: "${X_CONSUMER_KEY}", consumer_secret: "${X_CONSUMER_SECRET}",'
    ' access_token: "${X_ACCESS_TOKEN}", access_token_secret: "${X_ACCESS_TOKEN_SECRET}"'
)
ENV = {"WEB_SECRET": WEB_SECRET, "CENTRAL_TOKEN": "t", **X_ENV}


def _parse(entry: str) -> object:
    text = config_text("sqlite:///x.db", "http://127.0.0.1:9") + entry
    return parse_config(text, "gateway.yaml", ENV)


def test_a_complete_entry_is_accepted() -> None:
    config = _parse("  - {name: x-lapor, type: twitter," + KEYS + "}\n")
    (channel,) = [c for c in config.channels if c.type == "twitter"]  # type: ignore[attr-defined]
    assert channel.poll == 60.0 and channel.mentions and channel.direct_messages


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "{name: x, type: twitter, consumer_key: k, consumer_secret: s,"
            " access_token: a, access_token_secret: b}",
            "variabel lingkungan",
        ),
        ("{name: x, type: twitter}", "consumer_secret"),
        ("{name: x, type: twitter, user_id: '@lapor'," + KEYS + "}", "user_id"),
        ("{name: x, type: twitter, webhook: true," + KEYS + "}", "needs user_id"),
        (
            "{name: x, type: twitter, mentions: false, direct_messages: false," + KEYS + "}",
            "reads nothing",
        ),
        ("{name: x, type: twitter, tracking_id_pattern: 'LPR(', " + KEYS + "}", "regular"),
        ("{name: x, type: twitter, api_base_url: ftp://x," + KEYS + "}", "api_base_url"),
    ],
    ids=[
        "plain secrets",
        "no keys",
        "bad user id",
        "webhook without id",
        "reads nothing",
        "bad pattern",
        "bad url",
    ],
)
def test_mistakes_are_refused_with_their_place(entry: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        _parse(f"  - {entry}\n")
    text = str(error.value)
    assert message in text and "channels[x]" in text and "gateway.yaml:" in text


def test_only_the_webhook_needs_an_https_public_url() -> None:
    """X registers only https webhook URLs; polling mentions and DMs needs no public URL."""

    def warned(entry: str) -> list[str]:
        config: Any = _parse(entry)
        return [str(w) for w in config.warnings if "menerima webhook" in str(w)]

    assert warned("  - {name: x, type: twitter," + KEYS + "}\n") == []
    (warning,) = warned("  - {name: x, type: twitter, webhook: true, user_id: '1'," + KEYS + "}\n")
    assert warning.startswith("channels[x]: kanal x menerima webhook")
