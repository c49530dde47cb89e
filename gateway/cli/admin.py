"""Commands for the admin: config check, channels, replay, quarantine, letters."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from gateway.cli.base import CONFIG_OPTION, load_or_exit, main, open_runtime
from vocabulary.errors import PayloadInvalid
from vocabulary.kinds import KIND_NAMES


@main.group("config")
def config_group() -> None:
    """Periksa berkas konfigurasi."""


@config_group.command("check")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="SP4N_CONFIG",
    default=None,
    help="Berkas konfigurasi YAML gateway.",
)
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
def config_check(config_path: Path | None, file: Path | None) -> None:
    """Keluar 0 bila konfigurasi dapat dipakai; 1 dengan setiap masalahnya bila tidak."""
    if config_path is not None and file is not None and config_path != file:
        raise click.UsageError("berikan berkas lewat --config atau sebagai argumen, bukan keduanya")
    target = config_path or file
    if target is None:
        raise click.UsageError("berikan berkas konfigurasi dengan --config FILE")
    config = load_or_exit(target)
    click.echo(
        f"{target}: OK ({len(config.channels)} kanal, {len(config.model.agencies)} instansi,"
        f" {len(config.model.routing.rules)} aturan rute)"
    )


@main.group(invoke_without_command=True)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="SP4N_CONFIG",
    default=None,
    help="Berkas konfigurasi YAML gateway (atau variabel lingkungan SP4N_CONFIG).",
)
@click.pass_context
def channels(ctx: click.Context, config_path: Path | None) -> None:
    """Daftar kanal yang dikonfigurasi dan alamat webhook-nya."""
    from adapters.registry import load_adapter_class  # noqa: PLC0415

    if ctx.invoked_subcommand is not None:
        return
    if config_path is None:
        raise click.UsageError("berikan berkas konfigurasi dengan --config FILE")
    config = load_or_exit(config_path)
    for ch in config.channels:
        cls = load_adapter_class(ch.type)
        url = cls.inbound_url_for(config.model.gateway.public_url, ch.name)
        shown = url if "push" in cls.modes else "-"
        state = "aktif" if ch.enabled else "nonaktif"
        modes = ",".join(sorted(cls.modes))
        click.echo(f"{ch.name:24} {ch.type:14} {modes:8} {state:9} {shown}")


@main.command()
@CONFIG_OPTION
@click.argument("report_ids", nargs=-1)
@click.option("--dead", is_flag=True, help="Antrekan ulang setiap laporan gagal (dead letter).")
def replay(config_path: Path, report_ids: tuple[str, ...], dead: bool) -> None:
    """Antrekan ulang laporan untuk diteruskan (kunci idempotensi sama: tidak pernah ganda).

    REPORT_IDS boleh id laporan gateway atau nomor lacak.
    """
    from forwarder.outbox import requeue_dead, requeue_report  # noqa: PLC0415

    if not report_ids and not dead:
        raise click.UsageError("berikan REPORT_ID atau --dead")
    with open_runtime(load_or_exit(config_path)) as runtime, runtime.sessions.begin() as session:
        ids = requeue_dead(session) if dead else []
        for ident in report_ids:
            try:
                ids.append(requeue_report(session, ident))
            except LookupError:
                raise click.ClickException(
                    f"tidak ada laporan dengan id atau nomor lacak {ident}"
                ) from None
    listed = ": " + ", ".join(ids) if ids else ""
    click.echo(f"{len(ids)} laporan diantrekan ulang{listed}")


@main.group()
def quarantine() -> None:
    """Pesan yang ditahan (balasan otomatis, bounce, kosong) dan masukan yang ditolak."""


@quarantine.command("list")
@CONFIG_OPTION
@click.option("--rejected", is_flag=True, help="Tampilkan masukan yang ditolak.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
def quarantine_list(config_path: Path, rejected: bool, limit: int) -> None:
    """Terbaru dulu: id, kanal, waktu, dan alasan ditahan (tidak pernah isi pesannya)."""
    from gateway.console.labels import HOLD_LABELS  # noqa: PLC0415
    from gateway.localtime import format_local  # noqa: PLC0415
    from store.inbound import held_messages  # noqa: PLC0415
    from store.states import InboundState  # noqa: PLC0415

    config = load_or_exit(config_path)
    zone = config.model.gateway.timezone
    with open_runtime(config) as runtime, runtime.sessions() as session:
        state = InboundState.REJECTED if rejected else InboundState.QUARANTINED
        rows = held_messages(session, state, limit)
    for row in rows:
        when = format_local(row.received_at, zone)
        why = row.error if rejected else HOLD_LABELS.get(row.hold_reason or "", row.hold_reason)
        click.echo(f"{row.id}  {row.channel:20} {when}  {why or '-'}")
    click.echo(f"{len(rows)} pesan {'ditolak' if rejected else 'dalam karantina'}")


@quarantine.command("release")
@CONFIG_OPTION
@click.argument("inbound_ids", nargs=-1, required=True)
def quarantine_release(config_path: Path, inbound_ids: tuple[str, ...]) -> None:
    """Jadikan pesan yang ditahan sebagai laporan (gateway yang berjalan meneruskannya)."""
    from store.models import InboundMessage  # noqa: PLC0415

    with open_runtime(load_or_exit(config_path)) as runtime:
        for inbound_id in inbound_ids:
            with runtime.sessions.begin() as session:
                row = session.get(InboundMessage, inbound_id)
                adapter = runtime.adapters.get(row.channel) if row else None
                if row is None or adapter is None:
                    raise click.ClickException(
                        f"{inbound_id}: tidak ada pesan karantina dengan id ini (atau kanalnya"
                        " tidak aktif)"
                    )
                try:
                    report_id = runtime.intake.release(session, inbound_id, adapter)
                except (LookupError, PayloadInvalid) as exc:
                    raise click.ClickException(f"{inbound_id}: {exc}") from None
            click.echo(f"{inbound_id} dilepas sebagai laporan {report_id}")


@quarantine.command("reprocess")
@CONFIG_OPTION
@click.option(
    "--rejected",
    is_flag=True,
    default=True,
    help="Baca ulang masukan yang ditolak (satu-satunya jenis yang dapat dibaca ulang).",
)
@click.argument("inbound_ids", nargs=-1, required=True)
def quarantine_reprocess(config_path: Path, rejected: bool, inbound_ids: tuple[str, ...]) -> None:
    """Baca ulang masukan yang ditolak setelah konfigurasi diperbaiki."""
    from store.models import InboundMessage  # noqa: PLC0415

    failed = 0
    with open_runtime(load_or_exit(config_path)) as runtime:
        for inbound_id in inbound_ids:
            with runtime.reads() as session:
                row = session.get(InboundMessage, inbound_id)
            adapter = runtime.adapters.get(row.channel) if row else None
            if row is None or adapter is None:
                click.echo(
                    f"{inbound_id}: tidak ada masukan ditolak dengan id ini (atau kanalnya"
                    " tidak aktif)",
                    err=True,
                )
                failed += 1
                continue
            try:
                outcomes = runtime.intake.reprocess(inbound_id, adapter)
            except LookupError:
                click.echo(f"{inbound_id}: bukan masukan yang ditolak", err=True)
                failed += 1
            except NotImplementedError:
                click.echo(
                    f"{inbound_id}: kanal {row.channel} tidak dapat membaca ulang masukannya",
                    err=True,
                )
                failed += 1
            except PayloadInvalid as exc:
                click.echo(f"{inbound_id}: masih ditolak: {exc}", err=True)
                failed += 1
            else:
                ids = ", ".join(o.report_id for o in outcomes) or "-"
                click.echo(f"{inbound_id} dibaca ulang: laporan {ids}")
    if failed:
        raise SystemExit(1)


@main.group()
def letter() -> None:
    """Surat kertas yang diketik oleh petugas."""


@letter.command("add")
@CONFIG_OPTION
@click.option(
    "--channel",
    "channel_name",
    default=None,
    help="Kanal surat (bawaan: satu-satunya yang dikonfigurasi).",
)
@click.option("--sender-name", default=None, help="Nama pengirim.")
@click.option("--organisation", "sender_organisation", default=None, help="Organisasi pengirim.")
@click.option("--address", default=None, help="Alamat pengirim.")
@click.option("--phone", default=None, help="Nomor telepon pengirim.")
@click.option("--email", default=None, help="Email pengirim.")
@click.option("--number", default=None, help="Nomor surat.")
@click.option(
    "--date",
    "letter_date",
    default=None,
    type=click.DateTime(["%Y-%m-%d"]),
    help="Tanggal surat (YYYY-MM-DD).",
)
@click.option("--title", default=None, help="Judul laporan.")
@click.option("--body", default=None, help="Isi surat.")
@click.option("--body-file", default=None, type=click.File("r", encoding="utf-8"))
@click.option("--kind", default=None, type=click.Choice(KIND_NAMES), help="Jenis laporan.")
@click.option("--anonymous", is_flag=True, help="Rahasiakan identitas pengirim.")
@click.option("--entered-by", default=None, help="Petugas yang mengetik.")
def letter_add(
    config_path: Path,
    channel_name: str | None,
    body: str | None,
    body_file: Any,
    letter_date: dt.datetime | None,
    **fields: Any,
) -> None:
    """Catat satu surat kertas sebagai laporan; gateway yang berjalan meneruskannya."""
    from adapters.letter.adapter import LetterAdapter, LetterEntry  # noqa: PLC0415

    if (body is None) == (body_file is None):
        raise click.UsageError("berikan tepat satu dari --body atau --body-file")
    text = body if body is not None else body_file.read()
    with open_runtime(load_or_exit(config_path)) as runtime:
        letters = [a for a in runtime.adapters.values() if isinstance(a, LetterAdapter)]
        if channel_name:
            letters = [a for a in letters if a.name == channel_name]
        if len(letters) != 1:
            raise click.ClickException(
                "tidak ada kanal surat (type: letter) yang cocok di konfigurasi"
                if not letters
                else "ada beberapa kanal surat; pilih dengan --channel"
            )
        adapter = letters[0]
        entry = LetterEntry(
            body=text,
            received_at=dt.datetime.now(dt.UTC),
            date=letter_date.date() if letter_date else None,
            **fields,
        )
        try:
            outcome = runtime.intake.accept(adapter, [adapter.message_from_entry(entry)])[0]
        except PayloadInvalid as exc:
            raise click.ClickException(f"surat tidak dapat dicatat: {exc}") from None
    if outcome.created:
        click.echo(
            f"Surat dicatat sebagai laporan {outcome.report_id}; gateway yang"
            " berjalan akan meneruskannya ke LAPOR!."
        )
    else:
        click.echo(
            f"Surat ini sudah pernah dicatat sebagai laporan {outcome.report_id}"
            f" (status: {outcome.status})."
        )
