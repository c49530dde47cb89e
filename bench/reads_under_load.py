"""Intake while status lookups flood the gateway: reads on SQLite must not hold the writer off.

Issue 8.4. Every SQLite transaction used to begin IMMEDIATE, so a `/status` lookup queued
behind the group-commit writer and held it off in turn. Read-only work now begins DEFERRED.
This bench runs web-form intake (a closed loop of Python clients) beside a `wrk` flood of
`/status/<id>` lookups, and beside the same flood on `/healthz` as the control (on two
cores every flood costs CPU; only the difference between the two floods is the lock), for:

- `before`: read sessions begin IMMEDIATE like writes (the old behaviour, patched in);
- `after`: read sessions begin DEFERRED (the gateway as it is).

Run by hand: `.venv/bin/python bench/reads_under_load.py [--seconds 15]`; record the table
in bench/RESULTS.md. Needs `wrk` (Debian package).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import platform
import re
import statistics
import subprocess
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
central: {{url: "http://127.0.0.1:9", token: "${{CENTRAL_TOKEN:-bench}}", timeout: 10s}}
agencies: [{{code: nasional, name: Nasional}}]
routing: {{default: nasional}}
channels:
  - {{name: web, type: webform}}
"""


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(mode: str, config_path: str, port: int) -> None:
    import logging

    import store.db

    if mode == "before":  # the old behaviour: reads take the write lock like writes
        store.db.make_read_sessionmaker = store.db.make_sessionmaker
    from waitress import serve

    from config.loader import load_config
    from gateway.app import create_app
    from gateway.logging_setup import configure_logging
    from gateway.runtime import build_runtime

    configure_logging("WARNING")
    logging.getLogger("waitress").setLevel(logging.ERROR)
    app = create_app(build_runtime(load_config(config_path)))
    serve(app, host="127.0.0.1", port=port, threads=16, _quiet=True)


def _start(mode: str, tmp: Path) -> tuple[multiprocessing.Process, str]:
    config = tmp / f"{mode}.yaml"
    config.write_text(CONFIG.format(db=tmp / f"{mode}.db", data=tmp / f"data-{mode}"))
    port = _free_port()
    proc = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(mode, str(config), port), daemon=True
    )
    proc.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"{base}/healthz", timeout=1)
            return proc, base
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError("gateway did not start")


def _intake(base: str, seconds: float, clients: int, tag: str) -> dict[str, float]:
    """Closed-loop web-form posts for `seconds`: requests/s, p50, p99."""
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    counter = iter(range(10**9))
    errors = 0

    def client() -> None:
        nonlocal errors
        session = requests.Session()
        while time.monotonic() < deadline:
            with lock:
                i = next(counter)
            body = json.dumps({"body": f"Jalan rusak nomor {i}", "external_id": f"{tag}-{i}"})
            t0 = time.perf_counter()
            response = session.post(
                f"{base}/channels/web/inbound",
                data=body,
                headers={"Content-Type": "application/json"},
                timeout=60,
            )
            elapsed = time.perf_counter() - t0
            with lock:
                latencies.append(elapsed)
                errors += response.status_code != 201

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "rps": len(ordered) / wall,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[int(len(ordered) * 0.99)] * 1000,
        "errors": errors,
    }


def _flood(url: str, seconds: float, connections: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{int(seconds) + 2}s",
            "-H",
            "Accept: application/json",
            url,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wrk_rate(output: str) -> float:
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    return float(match.group(1)) if match else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    print(
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC  {platform.node()}  "
        f"{multiprocessing.cpu_count()} cores  python {platform.python_version()}"
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("before", "after"):
            proc, base = _start(mode, Path(tmp))
            seed = requests.post(
                f"{base}/channels/web/inbound",
                json={"body": "Lampu jalan mati", "external_id": "seed"},
                timeout=30,
            ).json()["id"]
            for flood in ("none", "healthz", "status"):
                target = {"healthz": f"{base}/healthz", "status": f"{base}/status/{seed}"}
                wrk = (
                    _flood(target[flood], args.seconds, args.connections)
                    if flood != "none"
                    else None
                )
                time.sleep(1 if wrk else 0)
                result = _intake(base, args.seconds, args.clients, f"{mode}-{flood}")
                flood_rate = _wrk_rate(wrk.communicate()[0]) if wrk else 0.0
                rows.append((mode, flood, result, flood_rate))
                print(
                    f"{mode:7} flood={flood:8} intake {result['rps']:7.1f} req/s"
                    f"  p50 {result['p50_ms']:7.1f} ms  p99 {result['p99_ms']:8.1f} ms"
                    f"  errors {result['errors']}  flood {flood_rate:8.1f} req/s",
                    flush=True,
                )
            proc.terminate()
    print("\n| reads | flood | intake req/s | p50 ms | p99 ms | flood req/s |")
    print("|---|---|---|---|---|---|")
    for mode, flood, result, flood_rate in rows:
        print(
            f"| {mode} | {flood} | {result['rps']:.0f} | {result['p50_ms']:.1f} |"
            f" {result['p99_ms']:.1f} | {flood_rate:.0f} |"
        )


if __name__ == "__main__":
    main()
