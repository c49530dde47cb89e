"""A gateway runtime with one extra SMS channel, for tests that drive intake directly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.helpers import WEB_SECRET, config_text, free_port


def sms_runtime(
    tmp_path: Path,
    *,
    channel_yaml: str,
    central_url: str | None = None,
    env: dict[str, str] | None = None,
    db_url: str | None = None,
) -> Any:
    """A Runtime on SQLite (unless `db_url`) with `channel_yaml` appended to `channels:`."""
    from config.loader import parse_config
    from gateway.runtime import build_runtime

    text = (
        config_text(
            db_url or f"sqlite:///{tmp_path / 'gateway.db'}",
            central_url or f"http://127.0.0.1:{free_port()}",
        )
        + channel_yaml
    )
    config = parse_config(
        text, "test.yaml", {"WEB_SECRET": WEB_SECRET, "CENTRAL_TOKEN": "test-token", **(env or {})}
    )
    return build_runtime(config, base_dir=tmp_path)
