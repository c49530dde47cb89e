"""Fixtures of the X channel tests: a local X server and a gateway with a `twitter` channel."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.adapters.twitter.fake_x import ACCOUNT_ID, FakeX, serve
from tests.helpers import WEB_SECRET, config_text, free_port

X_ENV = {
    "X_CONSUMER_KEY": "ck-test-0123456789",
    "X_CONSUMER_SECRET": "cs-test-secret-0123456789abcdef",
    "X_ACCESS_TOKEN": "800000000000000001-at-test-0123456789",
    "X_ACCESS_TOKEN_SECRET": "ats-test-secret-0123456789abcdef",
}
LONGEST_AGENCY = (
    "Unit Pelaksana Teknis Daerah Pengelolaan Jalan, Jembatan, Drainase dan Penerangan"
    " Jalan Umum Wilayah Pelayanan Kecamatan Sukamaju Kabupaten Contoh Provinsi Jawa Barat"
)


def channel_yaml(x: FakeX, **extra: Any) -> str:
    """The channel entry, pointed at the local X server."""
    host = x.base_url.split("//", 1)[1]
    options = {
        "name": "x-lapor",
        "type": "twitter",
        "consumer_key": '"${X_CONSUMER_KEY}"',
        "consumer_secret": '"${X_CONSUMER_SECRET}"',
        "access_token": '"${X_ACCESS_TOKEN}"',
        "access_token_secret": '"${X_ACCESS_TOKEN_SECRET}"',
        "user_id": f'"{ACCOUNT_ID}"',
        "account": "LAPOR1708",
        "api_base_url": f'"{x.base_url}"',
        "media_hosts": f'["{host}"]',
        "poll": "0.2s",
        "first_poll_lookback": "400d",
        "batch_size": "50",
        **{k: str(v) for k, v in extra.items()},
    }
    return "  - {" + ", ".join(f"{k}: {v}" for k, v in options.items()) + "}\n"


def x_runtime(tmp_path: Path, x: FakeX, db_url: str | None = None, **extra: Any) -> Any:
    """A runtime (no central) with the `twitter` channel."""
    from config.loader import parse_config
    from gateway.runtime import build_runtime

    text = config_text(
        db_url or f"sqlite:///{tmp_path / 'gateway.db'}", f"http://127.0.0.1:{free_port()}"
    ) + channel_yaml(x, **extra)
    env = {"WEB_SECRET": WEB_SECRET, "CENTRAL_TOKEN": "test-token", **X_ENV}
    return build_runtime(parse_config(text, "test.yaml", env), base_dir=tmp_path)


@pytest.fixture
def fake_x() -> Iterator[FakeX]:
    """A local X API on a free loopback port."""
    yield from serve()


@pytest.fixture
def runtime(fake_x: FakeX, tmp_path: Path) -> Iterator[Any]:
    """A gateway on SQLite with the `twitter` channel."""
    rt = x_runtime(tmp_path, fake_x)
    yield rt
    for adapter in rt.adapters.values():
        adapter.close()
    rt.close()
