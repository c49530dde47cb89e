"""Commands for chat channels: `channels register-webhook NAME` (Telegram's setWebhook)."""

from __future__ import annotations

from pathlib import Path

import click

from gateway.cli.admin import channels
from gateway.cli.base import CONFIG_OPTION, load_or_exit
from vocabulary.errors import AdapterUnavailable


@channels.command("register-webhook")
@CONFIG_OPTION
@click.argument("name")
def register_webhook(config_path: Path, name: str) -> None:
    """Daftarkan alamat webhook kanal NAME pada penyedianya (Telegram: setWebhook).

    Telegram diberi alamat `<public_url>/channels/NAME/inbound` dan secret_token kanal,
    yang dikirimnya kembali pada setiap permintaan.
    """
    from adapters.registry import load_adapter_class  # noqa: PLC0415

    config = load_or_exit(config_path)
    options = config.channel(name)
    if options is None:
        raise click.ClickException(f"tidak ada kanal aktif bernama {name!r}")
    adapter = load_adapter_class(options.type)(options, public_url=config.model.gateway.public_url)
    register = getattr(adapter, "register_webhook", None)
    if register is None:
        raise click.ClickException(
            f"kanal {name!r} ({options.type}) tidak didaftarkan lewat perintah ini; lihat README"
        )
    try:
        url = register()
    except AdapterUnavailable as exc:
        raise click.ClickException(f"pendaftaran webhook gagal: {exc}") from None
    finally:
        adapter.close()
    click.echo(f"{name}: webhook terdaftar di {url}")
