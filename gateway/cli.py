"""The `sp4n-gateway` command line: run, web, worker, sandbox, config, channels, replay, letter."""

from __future__ import annotations

import datetime as dt
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click

from adapters.errors import PayloadInvalid
from config.loader import Config, ConfigError, load_config

log = logging.getLogger("sp4n")

CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The gateway's YAML config file.",
)


def _load(config_path: Path) -> Config:
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        click.echo(f"{config_path}: the config has {len(exc.issues)} problem(s):", err=True)
        for issue in exc.issues:
            click.echo(f"  {issue}", err=True)
        sys.exit(1)
    for warning in config.warnings:
        click.echo(f"warning: {warning}", err=True)
    return config


def _runtime(config: Config) -> Any:
    from gateway.logging_setup import configure_logging  # noqa: PLC0415
    from gateway.runtime import build_runtime  # noqa: PLC0415

    configure_logging(config.model.gateway.log_level)
    return build_runtime(config)


@click.group()
@click.version_option(package_name="sp4n-gateway")
def main() -> None:
    """SP4N Gateway: every complaint channel into one LAPOR!-style central."""


def _sandbox_settings(config: Config, base: Path) -> Any:
    from forwarder.sandbox import SandboxSettings  # noqa: PLC0415

    sb = config.model.central.sandbox
    db = Path(sb.db) if Path(sb.db).is_absolute() else base / sb.db
    return SandboxSettings(
        token=config.model.central.token.get_secret_value(),
        db_path=str(db),
        fail_rate=sb.fail_rate,
        latency_ms=sb.latency_ms,
        return_agency=sb.return_agency,
        agencies=[a.model_dump() for a in config.model.agencies],
    )


def _wait_for_signal() -> None:
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    done.wait()


@main.command()
@CONFIG_OPTION
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def run(config_path: Path, host: str, port: int) -> None:
    """Web, workers and schedulers in one process (and the sandbox central if configured)."""
    from forwarder.outbox import release_all_leases  # noqa: PLC0415
    from gateway.app import create_app  # noqa: PLC0415
    from gateway.runner import Jobs, serve_web  # noqa: PLC0415
    from gateway.store.db import is_sqlite  # noqa: PLC0415

    config = _load(config_path)
    runtime = _runtime(config)
    if is_sqlite(runtime.engine):
        # One process owns an embedded database: leases left by a crash are ours to free.
        with runtime.sessions.begin() as session:
            freed = release_all_leases(session)
        if freed:
            log.info("freed %d outbox lease(s) left by an earlier run", freed)
    sandbox = None
    if config.model.central.uses_sandbox:
        from forwarder.sandbox import SandboxServer  # noqa: PLC0415

        sb = config.model.central.sandbox
        sandbox = SandboxServer(
            _sandbox_settings(config, runtime.base_dir), host=sb.host, port=sb.port
        )
        sandbox.start()
        log.info("sandbox central listening on %s", sandbox.url)
    jobs = Jobs(runtime)
    jobs.start()
    stale = max(60.0, 3 * config.model.forwarder.interval)
    app = create_app(runtime, scheduler_stale_after=stale)
    log.info("gateway listening on http://%s:%d (%d channel(s))", host, port, len(runtime.adapters))
    try:
        serve_web(app, host, port)
    finally:
        jobs.stop()
        if sandbox is not None:
            sandbox.stop()
        runtime.close()


@main.command()
@CONFIG_OPTION
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
def web(config_path: Path, host: str, port: int, threads: int) -> None:
    """Only the web half (webhooks, status, health): run several behind a proxy."""
    from gateway.app import create_app  # noqa: PLC0415
    from gateway.runner import serve_web  # noqa: PLC0415

    runtime = _runtime(_load(config_path))
    try:
        serve_web(create_app(runtime), host, port, threads)
    finally:
        runtime.close()


@main.command()
@CONFIG_OPTION
@click.option(
    "--metrics-port",
    type=int,
    default=None,
    help="Serve this worker's /metrics on 127.0.0.1 at this port.",
)
def worker(config_path: Path, metrics_port: int | None) -> None:
    """Only the scheduled jobs (forward, replies, sync): run one or more beside `web`."""
    from gateway.runner import Jobs  # noqa: PLC0415

    runtime = _runtime(_load(config_path))
    if metrics_port:
        from prometheus_client import start_http_server  # noqa: PLC0415

        start_http_server(metrics_port, addr="127.0.0.1", registry=runtime.metrics.registry)
    jobs = Jobs(runtime)
    jobs.start()
    try:
        _wait_for_signal()
    finally:
        jobs.stop()
        runtime.close()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8700, show_default=True, type=int)
@click.option("--token", default="sandbox", show_default=True, help="Bearer token it expects.")
@click.option("--db", "db_path", default="data/sandbox.db", show_default=True)
@click.option(
    "--fail-rate",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Share of submissions answered 503/429 (half of them after storing).",
)
@click.option("--latency-ms", default=0, show_default=True, type=click.IntRange(0))
@click.option(
    "--return-agency",
    default=None,
    help="Answer out_of_authority for reports addressed to this agency code.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Take the agency tree from this gateway config.",
)
def sandbox(
    host: str,
    port: int,
    token: str,
    db_path: str,
    fail_rate: float,
    latency_ms: int,
    return_agency: str | None,
    config_path: Path | None,
) -> None:
    """The reference central (contracts/central-api.yaml) on its own SQLite."""
    from forwarder.sandbox import SandboxSettings  # noqa: PLC0415
    from forwarder.sandbox.server import serve  # noqa: PLC0415
    from gateway.logging_setup import configure_logging  # noqa: PLC0415

    configure_logging("INFO")
    settings = SandboxSettings(
        token=token,
        db_path=db_path,
        fail_rate=fail_rate,
        latency_ms=latency_ms,
        return_agency=return_agency,
    )
    if config_path is not None:
        settings.agencies = [a.model_dump() for a in _load(config_path).model.agencies]
    click.echo(f"sandbox central on http://{host}:{port} (token {token!r})")
    serve(settings, host, port)


@main.group("config")
def config_group() -> None:
    """Check config files."""


@config_group.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def config_check(file: Path) -> None:
    """Exit 0 when FILE is a usable config, 1 with every problem listed otherwise."""
    config = _load(file)
    click.echo(
        f"{file}: OK ({len(config.channels)} channel(s),"
        f" {len(config.model.agencies)} agencies, {len(config.model.routing.rules)}"
        " routing rule(s))"
    )


@main.command()
@CONFIG_OPTION
def channels(config_path: Path) -> None:
    """List the configured channels and where their webhooks go."""
    from adapters.registry import load_adapter_class  # noqa: PLC0415

    config = _load(config_path)
    public = config.model.gateway.public_url
    for ch in config.channels:
        cls = load_adapter_class(ch.type)
        url = f"{public}/channels/{ch.name}/inbound" if "push" in cls.modes else "-"
        state = "enabled" if ch.enabled else "disabled"
        click.echo(f"{ch.name:24} {ch.type:14} {','.join(sorted(cls.modes)):8} {state:9} {url}")


@main.command()
@CONFIG_OPTION
@click.argument("report_ids", nargs=-1)
@click.option("--dead", is_flag=True, help="Requeue every dead-lettered report.")
def replay(config_path: Path, report_ids: tuple[str, ...], dead: bool) -> None:
    """Requeue reports for forwarding (same idempotency key: never a duplicate)."""
    from forwarder.outbox import requeue_dead, requeue_report  # noqa: PLC0415

    if not report_ids and not dead:
        raise click.UsageError("give REPORT_ID(s) or --dead")
    runtime = _runtime(_load(config_path))
    try:
        with runtime.sessions.begin() as session:
            ids = requeue_dead(session) if dead else []
            for report_id in report_ids:
                try:
                    requeue_report(session, report_id)
                except LookupError as exc:
                    raise click.ClickException(str(exc)) from None
                ids.append(report_id)
        click.echo(f"requeued {len(ids)} report(s)" + (": " + ", ".join(ids) if ids else ""))
    finally:
        runtime.close()


@main.group()
def quarantine() -> None:
    """Messages held back (auto-replies, bounces, empty) and input that could not be read."""


@quarantine.command("list")
@CONFIG_OPTION
@click.option("--rejected", is_flag=True, help="List unreadable input instead of held messages.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
def quarantine_list(config_path: Path, rejected: bool, limit: int) -> None:
    """Newest first: id, channel, when, and why it was held (never the message itself)."""
    from sqlalchemy import select  # noqa: PLC0415

    from gateway.store.models import InboundMessage  # noqa: PLC0415

    state = "rejected" if rejected else "quarantined"
    runtime = _runtime(_load(config_path))
    try:
        with runtime.sessions() as session:
            rows = list(
                session.scalars(
                    select(InboundMessage)
                    .where(InboundMessage.state == state)
                    .order_by(InboundMessage.stored_at.desc())
                    .limit(limit)
                )
            )
        for row in rows:
            when = row.received_at.strftime("%Y-%m-%d %H:%M")
            click.echo(f"{row.id}  {row.channel:20} {when}  {row.error or '-'}")
        click.echo(f"{len(rows)} message(s) {'rejected' if rejected else 'in quarantine'}")
    finally:
        runtime.close()


@quarantine.command("release")
@CONFIG_OPTION
@click.argument("inbound_ids", nargs=-1, required=True)
def quarantine_release(config_path: Path, inbound_ids: tuple[str, ...]) -> None:
    """Turn held messages into reports after all (the running gateway forwards them)."""
    from gateway.store.models import InboundMessage  # noqa: PLC0415

    runtime = _runtime(_load(config_path))
    try:
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
    finally:
        runtime.close()


@main.group()
def letter() -> None:
    """Paper letters typed in by an admin."""


@letter.command("add")
@CONFIG_OPTION
@click.option(
    "--channel",
    "channel_name",
    default=None,
    help="The letter channel (default: the only one configured).",
)
@click.option("--sender-name", default=None)
@click.option("--organisation", "sender_organisation", default=None)
@click.option("--address", default=None)
@click.option("--phone", default=None)
@click.option("--email", default=None)
@click.option("--number", default=None, help="The letter's own number.")
@click.option(
    "--date",
    "letter_date",
    default=None,
    type=click.DateTime(["%Y-%m-%d"]),
    help="The date on the letter (YYYY-MM-DD).",
)
@click.option("--title", default=None)
@click.option("--body", default=None, help="The letter's text.")
@click.option("--body-file", default=None, type=click.File("r", encoding="utf-8"))
@click.option(
    "--kind",
    default=None,
    type=click.Choice(["pengaduan", "aspirasi", "permintaan_informasi", "whistleblowing"]),
)
@click.option("--anonymous", is_flag=True)
@click.option("--entered-by", default=None, help="Who typed it in.")
def letter_add(
    config_path: Path,
    channel_name: str | None,
    body: str | None,
    body_file: Any,
    letter_date: dt.datetime | None,
    **fields: Any,
) -> None:
    """Record one paper letter as a report; the running gateway forwards it."""
    from adapters.letter.adapter import LetterAdapter, LetterEntry  # noqa: PLC0415

    if (body is None) == (body_file is None):
        raise click.UsageError("give exactly one of --body or --body-file")
    text = body if body is not None else body_file.read()
    runtime = _runtime(_load(config_path))
    try:
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
    finally:
        runtime.close()
