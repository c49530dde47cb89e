"""What every command shares: the `main` group, `--config`, loading it, opening a runtime.

Messages to the admin are in Bahasa Indonesia; logs stay in English.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from config.errors import ConfigError
from config.loader import Config, load_config

if TYPE_CHECKING:
    from gateway.runtime import Runtime

log = logging.getLogger(__name__)

CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="SP4N_CONFIG",
    help="Berkas konfigurasi YAML gateway (atau variabel lingkungan SP4N_CONFIG).",
)


@click.group()
@click.version_option(package_name="sp4n-gateway")
def main() -> None:
    """SP4N Gateway: semua kanal pengaduan menuju satu pusat LAPOR!."""


def load_or_exit(config_path: Path) -> Config:
    """The checked config, or every problem listed and exit status 1."""
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        click.echo(
            f"{config_path}: konfigurasi memiliki {len(exc.issues)} masalah:",
            err=True,
        )
        for issue in exc.issues:
            click.echo(f"  {issue}", err=True)
        sys.exit(1)
    for warning in config.warnings:
        click.echo(f"peringatan: {warning}", err=True)
    return config


@contextmanager
def open_runtime(config: Config, *, model_process: bool = False) -> Iterator[Runtime]:
    """A runtime on the config's database, logging configured, closed on the way out.

    `model_process`: the serving commands score reports with the models in a child process
    (`gateway.scoring`); one-off commands read them in their own.
    """
    from gateway.logging_setup import configure_logging  # noqa: PLC0415
    from gateway.runtime import build_runtime  # noqa: PLC0415

    configure_logging(config.model.gateway.log_level)
    for warning in config.warnings:  # also in the service's own log, not only on the terminal
        log.warning("config: %s", warning)
    runtime = build_runtime(config, model_process=model_process)
    try:
        yield runtime
    finally:
        runtime.close()
