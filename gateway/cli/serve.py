"""Commands that serve: `run` (everything in one process), `web`, `worker`, `sandbox`."""

from __future__ import annotations

from pathlib import Path

import click

from gateway.cli.base import CONFIG_OPTION, load_or_exit, main, open_runtime

HOST_OPTION = click.option("--host", default="127.0.0.1", show_default=True)
PORT_OPTION = click.option("--port", default=8000, show_default=True, type=int)


@main.command()
@CONFIG_OPTION
@HOST_OPTION
@PORT_OPTION
def run(config_path: Path, host: str, port: int) -> None:
    """Web, pekerja dan penjadwal dalam satu proses (juga sandbox pusat bila dikonfigurasi)."""
    from gateway.runner import run_all  # noqa: PLC0415

    with open_runtime(load_or_exit(config_path), model_process=True) as runtime:
        run_all(runtime, host, port)


@main.command()
@CONFIG_OPTION
@HOST_OPTION
@PORT_OPTION
@click.option("--threads", default=8, show_default=True, type=int)
def web(config_path: Path, host: str, port: int, threads: int) -> None:
    """Hanya bagian web (webhook, status, kesehatan): jalankan beberapa di balik proxy."""
    from gateway.app import create_app  # noqa: PLC0415
    from gateway.runner import serve_web  # noqa: PLC0415

    # The models decide before forwarding, in `worker` (forwarder.model_pass): a web process
    # reads with them only for an admin's letter preview, in its own process.
    with open_runtime(load_or_exit(config_path)) as runtime:
        serve_web(create_app(runtime), host, port, threads)


@main.command()
@CONFIG_OPTION
@click.option(
    "--metrics-port",
    type=int,
    default=None,
    help="Sajikan /metrics pekerja ini di 127.0.0.1 pada port ini.",
)
def worker(config_path: Path, metrics_port: int | None) -> None:
    """Hanya tugas terjadwal (penerusan, balasan, sinkronisasi): jalankan di samping `web`."""
    from gateway.runner import run_worker  # noqa: PLC0415

    with open_runtime(load_or_exit(config_path), model_process=True) as runtime:
        run_worker(runtime, metrics_port)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8700, show_default=True, type=int)
@click.option("--token", default="sandbox", show_default=True, help="Token bearer yang diminta.")
@click.option("--db", "db_path", default="data/sandbox.db", show_default=True)
@click.option(
    "--fail-rate",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Bagian kiriman yang dijawab 503/429 (separuhnya setelah disimpan).",
)
@click.option("--latency-ms", default=0, show_default=True, type=click.IntRange(0))
@click.option(
    "--return-agency",
    default=None,
    help="Jawab out_of_authority untuk laporan yang ditujukan ke kode instansi ini.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Ambil pohon instansi dari konfigurasi gateway ini.",
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
    """Pusat rujukan (contracts/central-api.yaml) dengan SQLite sendiri."""
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
        settings.agencies = [a.model_dump() for a in load_or_exit(config_path).model.agencies]
    click.echo(f"sandbox pusat di http://{host}:{port} (token {token!r})")
    serve(settings, host, port)
