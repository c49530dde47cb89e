"""YAML fields of a `twitter` channel (checked by `config check`)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from adapters.base import PollOptions
from adapters.sms.grammar import DEFAULT_STATUS_KEYWORDS, DEFAULT_TRACKING_PATTERN
from vocabulary.durations import Duration

X_API = "https://api.twitter.com"
MEDIA_HOSTS = ("pbs.twimg.com", "ton.twimg.com", "video.twimg.com")


class TwitterOptions(PollOptions):
    """One X account: its app's keys, the account's own access token, how to read it."""

    type: Literal["twitter"] = "twitter"
    # OAuth 1.0a: the app's consumer key/secret and the account's access token/secret.
    consumer_key: SecretStr
    consumer_secret: SecretStr
    access_token: SecretStr
    access_token_secret: SecretStr
    # The account's numeric id; looked up once with GET /2/users/me when not given.
    user_id: str | None = Field(default=None, pattern=r"^[0-9]{1,20}$")
    # Public handle without "@", for documentation and the DM link in public replies.
    account: str | None = Field(default=None, pattern=r"^@?[A-Za-z0-9_]{1,15}$")
    poll: Duration = 60.0
    mentions: bool = True
    direct_messages: bool = True
    # How far back the very first poll reads (later polls start where the last one ended).
    first_poll_lookback: Duration = 86400.0
    # How long to leave X alone after it refused the app's access level (tier 403).
    forbidden_retry: Duration = 3600.0
    max_media_bytes: int = Field(default=5 * 1024 * 1024, ge=0, le=64 * 1024 * 1024)
    media_hosts: list[str] = Field(default_factory=lambda: list(MEDIA_HOSTS))
    timeout: Duration = 15.0
    tracking_id_pattern: str = DEFAULT_TRACKING_PATTERN
    status_keywords: list[str] = Field(default_factory=lambda: list(DEFAULT_STATUS_KEYWORDS))
    # Where tweepy's requests go: X itself; tests and an egress proxy point it elsewhere.
    api_base_url: str = Field(default=X_API, pattern=r"^https?://[^/\s]+$")
    # The optional Account Activity webhook (`GET` CRC and signed `POST` events).
    webhook: bool = False

    @field_validator("tracking_id_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return value

    @field_validator("account")
    @classmethod
    def _no_at(cls, value: str | None) -> str | None:
        return value.lstrip("@") if value else value

    @model_validator(mode="after")
    def _reads_something(self) -> TwitterOptions:
        if not (self.mentions or self.direct_messages or self.webhook):
            raise ValueError(
                "the channel reads nothing: enable mentions, direct_messages or webhook"
            )
        if self.webhook and not self.user_id:
            raise ValueError("webhook: true needs user_id (the account's numeric id)")
        return self
