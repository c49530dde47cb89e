"""The only module that talks to X: tweepy's v2 `Client`, rate limits, refusals, media.

Every call goes through `XApi.call`, which reads `x-rate-limit-remaining`/`-reset` from each
answer and remembers, per endpoint, until when X must be left alone (a 429, or a window
used up). A 403 saying the app's access level (tier) or permissions do not cover an
endpoint becomes `ChannelRefused`, remembered for `forbidden_retry`: the channel shows the
error in its health and logs without asking X again at every poll. Nothing here sleeps.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
import tweepy
from requests.adapters import HTTPAdapter

from adapters.media import MediaProblem, download_capped
from adapters.twitter.options import X_API, TwitterOptions
from vocabulary.errors import AdapterUnavailable, ChannelRefused

log = logging.getLogger(__name__)
# tweepy and the OAuth libraries log whole requests and answers at DEBUG: message bodies
# and the account's access token. Never below INFO, whatever the gateway's log level.
for _name in ("tweepy", "requests_oauthlib", "oauthlib"):
    logging.getLogger(_name).setLevel(logging.INFO)

DEFAULT_WAIT = 15 * 60.0  # X's rate-limit window, when an answer names no reset time


class RateLimited(Exception):
    """X asked us to wait: no call to this endpoint before `until` (epoch seconds)."""

    def __init__(self, endpoint: str, until: float) -> None:
        super().__init__(f"{endpoint}: X membatasi laju permintaan; dicoba lagi nanti")
        self.endpoint = endpoint
        self.until = until


class BadRequest(Exception):
    """X refused the request's parameters (an expired pagination token, say)."""


class Rebase(HTTPAdapter):
    """A transport adapter sending tweepy's `https://api.twitter.com` calls to another base."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        """Rewrite the URL's scheme and host; path and query stay."""
        url = str(request.url)
        if url.startswith(X_API):
            request.url = self.base_url + url[len(X_API) :]
        return super().send(request, *args, **kwargs)


class XApi:
    """tweepy's v2 client for one account, with the channel's waiting rules."""

    def __init__(self, options: TwitterOptions, clock: Callable[[], float] = time.time) -> None:
        self.options = options
        self.clock = clock
        self.client = tweepy.Client(
            consumer_key=options.consumer_key.get_secret_value(),
            consumer_secret=options.consumer_secret.get_secret_value(),
            access_token=options.access_token.get_secret_value(),
            access_token_secret=options.access_token_secret.get_secret_value(),
            return_type=requests.Response,
            wait_on_rate_limit=False,  # never sleep in a job: other channels must go on
        )
        if options.api_base_url.rstrip("/") != X_API:
            self.client.session.mount(X_API + "/", Rebase(options.api_base_url))
        self.waits: dict[str, float] = {}
        self.refusals: dict[str, ChannelRefused] = {}

    def call(self, endpoint: str, method: Callable[..., Any], **params: Any) -> dict[str, Any]:
        """One read; raises RateLimited, ChannelRefused, BadRequest, AdapterUnavailable.

        A 403 is the channel's problem (tier, permissions): remembered for the endpoint.
        """
        now = self.clock()
        refused = self.refusals.get(endpoint)
        if refused is not None and (refused.retry_at or 0) > now:
            raise refused
        try:
            data = self.send(endpoint, method, **params)
        except tweepy.Forbidden as exc:
            self.refusals[endpoint] = refusal(endpoint, exc.response, now, self.options)
            log.error("channel %s: %s", self.options.name, self.refusals[endpoint])
            raise self.refusals[endpoint] from None
        self.refusals.pop(endpoint, None)
        return data

    def send(self, endpoint: str, method: Callable[..., Any], **params: Any) -> dict[str, Any]:
        """One call as the account; a 403 (tweepy.Forbidden) is left to the caller to judge."""
        now = self.clock()
        if self.waits.get(endpoint, 0) > now:
            raise RateLimited(endpoint, self.waits[endpoint])
        try:
            response = method(user_auth=True, **params)
        except tweepy.TooManyRequests as exc:
            until = _reset_of(exc.response, now) or now + DEFAULT_WAIT
            self.waits[endpoint] = until
            raise RateLimited(endpoint, until) from None
        except tweepy.Unauthorized:
            raise AdapterUnavailable(
                f"X menolak kunci kanal untuk {endpoint} (401): periksa `consumer_key`,"
                " `consumer_secret`, `access_token` dan `access_token_secret`"
            ) from None
        except tweepy.BadRequest as exc:
            raise BadRequest(
                f"{endpoint}: {'; '.join(exc.api_messages) or 'bad request'}"
            ) from None
        except tweepy.Forbidden:
            raise
        except tweepy.HTTPException as exc:
            status = getattr(exc.response, "status_code", "?")
            raise AdapterUnavailable(f"X menjawab {status} untuk {endpoint}") from None
        except requests.RequestException as exc:
            raise AdapterUnavailable(f"X tidak terjangkau ({type(exc).__name__})") from None
        if response.headers.get("x-rate-limit-remaining") == "0":
            self.waits[endpoint] = _reset_of(response, now) or now + DEFAULT_WAIT
        return _json_object(endpoint, response)

    def download(self, url: str, limit: int) -> tuple[bytes, str]:
        """A media file from an allowed host, signed like API calls (DM media need it)."""
        host = urlsplit(url).netloc.lower()
        if host not in {h.lower() for h in self.options.media_hosts}:
            raise MediaProblem("bukan di host media X")
        auth = tweepy.OAuth1UserHandler(
            self.client.consumer_key,
            self.client.consumer_secret,
            self.client.access_token,
            self.client.access_token_secret,
        ).apply_auth()
        got = download_capped(
            self.client.session,
            url,
            limit=limit,
            timeout=self.options.timeout,
            provider="X",
            auth=auth,
        )
        return got.content, got.content_type


def refusal(endpoint: str, response: Any, now: float, options: TwitterOptions) -> ChannelRefused:
    """A clear error from X's 403 problem document (tier, enrolment or app permissions)."""
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    problem = problem if isinstance(problem, dict) else {}
    reason = str(problem.get("reason") or problem.get("title") or "forbidden")
    detail = str(problem.get("detail") or "")
    if reason == "client-not-enrolled" or "client-forbidden" in str(problem.get("type", "")):
        advice = (
            "tingkat akses aplikasi X (API tier) tidak mencakup endpoint ini:"
            " pindahkan aplikasi ke paket yang dapat membacanya di portal pengembang X"
        )
    elif "oauth1-permissions" in str(problem.get("type", "")):
        advice = (
            "aplikasi X tidak punya izinnya (pilih 'Read and write and Direct message' di"
            " pengaturan aplikasi, lalu buat access token baru)"
        )
    else:
        advice = "X menolak permintaan"
    return ChannelRefused(
        f"{endpoint}: {advice} ({reason}{': ' + detail if detail else ''});"
        f" dicoba lagi dalam {_duration(options.forbidden_retry)}",
        retry_at=now + options.forbidden_retry,
    )


def _reset_of(response: Any, now: float) -> float | None:
    """`x-rate-limit-reset` (epoch seconds) as a time in the future, if the answer has one."""
    try:
        reset = float(response.headers.get("x-rate-limit-reset", ""))
    except (AttributeError, TypeError, ValueError):
        return None
    return max(reset, now + 1.0)


def _duration(seconds: float) -> str:
    """A wait as people say it (no clock time: the adapter does not know the gateway's zone)."""
    if seconds >= 3600:
        return f"{seconds / 3600:g} jam"
    return f"{max(1, round(seconds / 60))} menit"


def _json_object(endpoint: str, response: Any) -> dict[str, Any]:
    """The answer's JSON object; anything else is the API misbehaving (tried again later)."""
    try:
        data = response.json()
    except ValueError:
        raise AdapterUnavailable(f"jawaban X untuk {endpoint} bukan JSON") from None
    if not isinstance(data, dict):
        raise AdapterUnavailable(f"jawaban X untuk {endpoint} berbentuk tak terduga")
    return data
