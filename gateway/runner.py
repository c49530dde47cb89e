"""The service runner: web server plus scheduled jobs (forward, replies, status sync).

`run` starts everything in one process (the embedded-SQLite default); `web` and `worker`
split the two halves for scale-out on PostgreSQL. Scheduled jobs never run inside web
request threads.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from forwarder.outbox import release_all_leases
from forwarder.targets.lapor import SubmitError
from gateway.runtime import Runtime
from store.db import is_sqlite

log = logging.getLogger(__name__)


class ScheduledJobs:
    """The scheduled jobs of one worker process."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.forwarder = runtime.forwarder()
        self.reply_sender = runtime.reply_sender()
        self.sync = runtime.status_sync()
        self.sla = runtime.sla_watch()
        self.pollers = runtime.pollers()
        self.scheduler = BackgroundScheduler(timezone="UTC")
        self._stopped = threading.Event()

    def _job(self, name: str, fn: Callable[[], Any]) -> Callable[[], None]:
        def run() -> None:
            self.runtime.heartbeats["scheduler"] = time.monotonic()
            self.runtime.heartbeats[name] = time.monotonic()
            try:
                fn()
            except SubmitError as exc:
                log.warning("%s: central unavailable: %s", name, exc.describe())
            except Exception:
                log.exception("%s failed; it runs again at its next interval", name)

        return run

    def start(self) -> None:
        """Schedule the jobs (each never overlaps itself) and start ticking."""
        cfg = self.runtime.config.model.forwarder
        common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
        self.scheduler.add_job(
            self._job("forward", lambda: self.forwarder.drain(30.0)),
            "interval",
            seconds=cfg.interval,
            id="forward",
            **common,
        )
        self.scheduler.add_job(
            self._job("replies", self.reply_sender.run_once),
            "interval",
            seconds=cfg.reply_interval,
            id="replies",
            **common,
        )
        self.scheduler.add_job(
            self._job("sync", self.sync.run_once),
            "interval",
            seconds=cfg.sync_interval,
            id="sync",
            **common,
        )
        self.scheduler.add_job(
            self._job("sla", self.sla.run_once),
            "interval",
            seconds=self.runtime.config.model.sla.watch_interval,
            id="sla",
            next_run_time=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30),
            **common,
        )
        self.scheduler.add_job(
            self._job("heartbeat", lambda: None), "interval", seconds=5, id="heartbeat", **common
        )
        flow = self.runtime.intake.chat_flow
        if flow is not None:
            intake, adapters = self.runtime.intake, self.runtime.adapters
            self.scheduler.add_job(
                self._job(
                    "conversations",
                    lambda: flow.expire(self.runtime.sessions, adapters, intake.accept),
                ),
                "interval",
                seconds=60,
                id="conversations",
                **common,
            )
        for poller in self.pollers:
            every = poller.options.poll
            self.scheduler.add_job(
                self._job(f"poll:{poller.adapter.name}", poller.run_once),
                "interval",
                seconds=every,
                id=f"poll:{poller.adapter.name}",
                next_run_time=dt.datetime.now(dt.UTC),
                **common,
            )
        self.runtime.heartbeats["scheduler"] = time.monotonic()
        self.scheduler.start()
        log.info(
            "scheduled jobs started: forward every %.1fs, replies every %.1fs,"
            " status sync every %.1fs, %d polled channel(s)",
            cfg.interval,
            cfg.reply_interval,
            cfg.sync_interval,
            len(self.pollers),
        )

    def stop(self) -> None:
        """Stop ticking and let calls in flight finish (their rows stay leased otherwise)."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self.forwarder.stopping.set()
        self.reply_sender.stopping.set()
        for poller in self.pollers:
            poller.stopping.set()
        self.scheduler.shutdown(wait=True)
        self.forwarder.close()
        self.reply_sender.close()
        for poller in self.pollers:
            poller.adapter.close()


def _free_own_leases(runtime: Runtime) -> None:
    """On an embedded database one process owns every lease: free what a crash left."""
    if not is_sqlite(runtime.engine):
        return
    with runtime.sessions.begin() as session:
        freed = release_all_leases(session)
    if freed:
        log.info("freed %d outbox lease(s) left by an earlier run", freed)


def _start_sandbox(runtime: Runtime) -> Any:
    """The built-in sandbox central when `central.url` is `sandbox` (else None)."""
    central = runtime.config.model.central
    if not central.uses_sandbox:
        return None
    from forwarder.sandbox import SandboxServer, SandboxSettings  # noqa: PLC0415

    sb = central.sandbox
    db = Path(sb.db) if Path(sb.db).is_absolute() else runtime.base_dir / sb.db
    settings = SandboxSettings(
        token=central.token.get_secret_value(),
        db_path=str(db),
        fail_rate=sb.fail_rate,
        latency_ms=sb.latency_ms,
        return_agency=sb.return_agency,
        agencies=[a.model_dump() for a in runtime.config.model.agencies],
    )
    server = SandboxServer(settings, host=sb.host, port=sb.port)
    server.start()
    log.info("sandbox central listening on %s", server.url)
    return server


def run_all(runtime: Runtime, host: str, port: int) -> None:
    """Everything in one process: web, scheduled jobs, and the sandbox when configured."""
    from gateway.app import create_app  # noqa: PLC0415

    _free_own_leases(runtime)
    sandbox = _start_sandbox(runtime)
    jobs = ScheduledJobs(runtime)
    jobs.start()
    stale = max(60.0, 3 * runtime.config.model.forwarder.interval)
    app = create_app(runtime, scheduler_stale_after=stale)
    log.info("gateway listening on http://%s:%d (%d channel(s))", host, port, len(runtime.adapters))
    try:
        serve_web(app, host, port)
    finally:
        jobs.stop()
        if sandbox is not None:
            sandbox.stop()


def run_worker(runtime: Runtime, metrics_port: int | None = None) -> None:
    """Only the scheduled jobs, until SIGINT or SIGTERM."""
    if metrics_port:
        from prometheus_client import start_http_server  # noqa: PLC0415

        start_http_server(metrics_port, addr="127.0.0.1", registry=runtime.metrics.registry)
    jobs = ScheduledJobs(runtime)
    jobs.start()
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    try:
        done.wait()
    finally:
        jobs.stop()


def serve_web(app: Any, host: str, port: int, threads: int = 8) -> None:
    """Serve the app with waitress until interrupted.

    Waitress reads a whole body before the app sees it, so it gets a cap of its own, a few
    times the largest channel cap: a body announced bigger than that is refused (413) before
    any of it is buffered; anything between gets the channel's JSON 413 from the app.
    """
    from waitress import serve  # noqa: PLC0415 (only the serving processes need it)

    runtime: Runtime = app.extensions["sp4n"]
    caps = [a.options.max_body_bytes for a in runtime.adapters.values()] or [1024 * 1024]
    serve(
        app,
        host=host,
        port=port,
        threads=threads,
        ident="sp4n-gateway",
        clear_untrusted_proxy_headers=True,
        max_request_body_size=4 * max(caps),
    )
