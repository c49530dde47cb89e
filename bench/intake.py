"""Intake and forwarder throughput, printed as figures (run by hand: `make bench`).

1. Web-form intake vs a bare Flask endpoint on the same server settings (waitress, same
   threads), each in its own process, under the same closed-loop concurrent load on
   loopback: requests/s, p50 and p99 latency, and the ratio of the two rates.
2. Paced load at a fixed rate (default 100 requests/s) against the intake: p50/p99.
3. Forwarder drain: N reports queued, then drained into the sandbox central over HTTP.

Targets (issue 2): intake at least half the bare endpoint's rate; p99 under 50 ms at
100 requests/s. Record each run in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONFIG = """\
gateway: {{demo: true, database: "sqlite:///{db}", data_dir: "{data}", log_level: WARNING}}
central: {{url: "{central}", token: "${{CENTRAL_TOKEN:-bench}}", timeout: 10s}}
agencies:
  - {{code: nasional, name: Nasional}}
  - {{code: dinas, name: Dinas, parent: nasional}}
routing:
  default: nasional
  rules:
    - {{when: {{keywords: [jalan]}}, agency: dinas}}
forwarder: {{concurrency: {concurrency}, batch_size: 100}}
channels:
  - {{name: web, type: webform}}
"""


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _quiet() -> None:
    """Per-request lines, waitress's queue-depth warnings and the scheduler's notes that a
    busy forward job skipped a tick would bury the figures."""
    import logging

    for name in ("werkzeug", "waitress.queue", "apscheduler"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _serve(kind: str, config_path: str, port: int, threads: int) -> None:
    from waitress import serve

    _quiet()

    if kind == "bare":
        from flask import Flask, jsonify, request

        app = Flask("bare")

        @app.post("/channels/web/inbound")
        def bare() -> object:
            request.get_data()
            return jsonify({"id": "0" * 26, "status": "queued"}), 201
    else:
        from config.loader import load_config
        from gateway.app import create_app
        from gateway.logging_setup import configure_logging
        from gateway.runtime import build_runtime

        configure_logging("WARNING")
        _quiet()
        # "gateway": as `sp4n-gateway web` serves (the models decide in the worker, not here);
        # "gateway-run": as `run` serves, the scheduled jobs (the forward worker, with the
        # models in their own process) beside the web; "gateway-in-process": `run`'s jobs
        # with the models in the gateway's process, as when their process has failed.
        runtime = build_runtime(load_config(config_path), model_process=kind == "gateway-run")
        if kind in ("gateway-run", "gateway-in-process"):
            from gateway.runner import ScheduledJobs

            ScheduledJobs(runtime).start()
        app = create_app(runtime)
    serve(app, host="127.0.0.1", port=port, threads=threads, _quiet=True)


def _start(kind: str, config_path: str, threads: int) -> tuple[multiprocessing.Process, str]:
    port = _free_port()
    proc = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(kind, config_path, port, threads)
    )  # not daemonic: a gateway serving models starts a child process of its own
    proc.start()
    url = f"http://127.0.0.1:{port}/channels/web/inbound"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(url.replace("/channels/web/inbound", "/healthz"), timeout=1)
            return proc, url
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"{kind} server did not start")


def _payload(i: int, tag: str) -> bytes:
    return json.dumps(
        {
            "body": f"Jalan rusak di RT {i % 50}, mohon diperbaiki ({tag}).",
            "name": "Warga",
            "phone": "081234567890",
            "external_id": f"{tag}-{i}",
        }
    ).encode()


def closed_loop(url: str, total: int, concurrency: int, tag: str) -> dict[str, float]:
    """`concurrency` clients each sending back-to-back until `total` requests are done."""
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(total))
    errors = 0

    def client() -> None:
        nonlocal errors
        session = requests.Session()
        headers = {"Content-Type": "application/json"}
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            t0 = time.perf_counter()
            response = session.post(url, data=_payload(i, tag), headers=headers, timeout=30)
            elapsed = time.perf_counter() - t0
            with lock:
                latencies.append(elapsed)
                errors += response.status_code not in (200, 201)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return _summary(latencies, wall, errors)


def paced(url: str, rate: float, seconds: float, tag: str) -> dict[str, float]:
    """Requests started at a fixed rate (open loop) from a pool of senders."""
    import concurrent.futures

    latencies: list[float] = []
    errors = 0
    session_local = threading.local()

    def send(i: int) -> None:
        nonlocal errors
        session = getattr(session_local, "s", None) or requests.Session()
        session_local.s = session
        t0 = time.perf_counter()
        response = session.post(
            url, data=_payload(i, tag), timeout=30, headers={"Content-Type": "application/json"}
        )
        latencies.append(time.perf_counter() - t0)
        errors += response.status_code not in (200, 201)

    n = int(rate * seconds)
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        for i in range(n):
            delay = started + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, i)
    return _summary(latencies, time.perf_counter() - started, errors)


def _summary(latencies: list[float], wall: float, errors: int) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "errors": errors,
        "rps": len(ordered) / wall,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    }


def drain(tmp: Path, count: int, concurrency: int) -> dict[str, float]:
    """Queue `count` reports, then time the forwarder draining them into the sandbox."""
    from adapters.webform.adapter import WebformAdapter
    from config.loader import load_config
    from forwarder.sandbox import SandboxServer, SandboxSettings
    from gateway.runtime import build_runtime
    from vocabulary.drafts import MessageDraft, RawMessage

    sandbox = SandboxServer(
        SandboxSettings(token="bench", db_path=str(tmp / "sb.db")), host="127.0.0.1", port=0
    )
    sandbox.start()
    cfg = tmp / "drain.yaml"
    cfg.write_text(
        CONFIG.format(
            db=tmp / "drain.db", data=tmp / "data", central=sandbox.url, concurrency=concurrency
        ),
        encoding="utf-8",
    )
    runtime = build_runtime(load_config(cfg))
    adapter = runtime.adapters["web"]
    assert isinstance(adapter, WebformAdapter)
    now = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    for start in range(0, count, 500):
        batch = [
            RawMessage(
                f"d-{i}",
                now,
                {"bench": i},
                MessageDraft(
                    external_id=f"d-{i}",
                    received_at=now,
                    body=f"Jalan rusak nomor {i}, mohon diperbaiki.",
                ),
            )
            for i in range(start, min(count, start + 500))
        ]
        runtime.intake.accept(adapter, batch)
    queued = time.perf_counter() - t0
    forwarder = runtime.forwarder()
    t0 = time.perf_counter()
    done = 0
    while done < count:
        done += forwarder.drain(600)
    wall = time.perf_counter() - t0
    forwarder.close()
    central = len(requests.get(f"{sandbox.url}/sandbox/reports.json", timeout=60).json())
    sandbox.stop()
    return {
        "reports": count,
        "queue_s": queued,
        "drain_s": wall,
        "per_s": count / wall,
        "at_central": central,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--paced-seconds", type=float, default=15.0)
    parser.add_argument("--drain", type=int, default=5000)
    parser.add_argument("--forward-concurrency", type=int, default=8)
    args = parser.parse_args()
    _quiet()

    print(
        f"# {dt.date.today()} on {platform.node()} ({platform.machine()},"
        f" {os.cpu_count()} CPUs, Python {platform.python_version()})"
    )
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        cfg = tmp / "intake.yaml"
        # The intake's central is never called here: nothing forwards in this process.
        cfg.write_text(
            CONFIG.format(
                db=tmp / "intake.db", data=tmp / "data", central="http://127.0.0.1:9", concurrency=1
            ),
            encoding="utf-8",
        )
        results = {}
        for kind in ("bare", "gateway"):
            proc, url = _start(kind, str(cfg), args.threads)
            closed_loop(url, 200, args.concurrency, f"warm-{kind}")
            results[kind] = closed_loop(url, args.requests, args.concurrency, kind)
            if kind == "gateway":
                results["paced"] = paced(url, args.rate, args.paced_seconds, "paced")
            proc.terminate()
            proc.join()
        for kind in ("bare", "gateway"):
            r = results[kind]
            print(
                f"{kind:8} closed loop, {args.concurrency} clients: {r['rps']:8.1f} req/s"
                f"  p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms"
                f"  ({r['requests']:.0f} requests, {r['errors']:.0f} errors)"
            )
        print(f"ratio intake/bare: {results['gateway']['rps'] / results['bare']['rps']:.2f}")
        r = results["paced"]
        print(
            f"intake paced at {args.rate:.0f} req/s: achieved {r['rps']:.1f} req/s"
            f"  p50 {r['p50_ms']:.1f} ms  p99 {r['p99_ms']:.1f} ms"
            f"  ({r['errors']:.0f} errors)"
        )
        d = drain(tmp, args.drain, args.forward_concurrency)
        print(
            f"forwarder drain: {d['reports']:.0f} reports in {d['drain_s']:.1f} s ="
            f" {d['per_s']:.1f} reports/s (queueing took {d['queue_s']:.1f} s;"
            f" {d['at_central']:.0f} at the central)"
        )


if __name__ == "__main__":
    main()
