"""Webhook intake of batched WhatsApp notifications beside the web form, in the same run.

One real gateway process (waitress, as `bench/intake.py` starts it) with a `webform` channel
and a `whatsapp_cloud` channel (defaults: guided conversation on). `wrk` sends, closed loop:

- web form: one complaint per request, each with a new external id (`bench/wrk/webform.lua`);
- WhatsApp: one notification per request holding `--per` (50) text messages from as many
  citizens, every message id new, each request signed with the app secret as Meta signs
  them (`bench/wrk/whatsapp_batch.lua`, HMAC-SHA256 in LuaJIT, checked against Python's
  before the run).

Printed per run: requests/s, messages/s, p50/p99 (wrk's latency distribution), non-2xx
answers, and the CPU the load generator and the gateway used (the load generator must not
be the bottleneck). At the end the inbound log is counted: every message of every answered
request stored once. Record the figures in bench/RESULTS.md.

    .venv/bin/python bench/whatsapp_batch.py [--duration 20] [--connections 1,16]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import hmac
import os
import platform
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.intake import _start  # noqa: E402 (after the path is set)

SECRET = "meta-app-secret-bench-0123456789"
CONFIG = """\
gateway: {{demo: true, database: "sqlite:///{db}", data_dir: "{data}", log_level: WARNING}}
central: {{url: "http://127.0.0.1:9", token: "${{CENTRAL_TOKEN:-bench}}", timeout: 10s}}
agencies:
  - {{code: nasional, name: Nasional}}
  - {{code: dinas, name: Dinas, parent: nasional}}
routing:
  default: nasional
  rules:
    - {{when: {{keywords: [jalan]}}, agency: dinas}}
forwarder: {{concurrency: 1, batch_size: 100}}
channels:
  - {{name: web, type: webform}}
  - {{name: wa, type: whatsapp_cloud, phone_number_id: "106540352242922",
      app_secret: "${{BENCH_META_APP_SECRET}}", verify_token: "${{BENCH_META_VERIFY}}",
      access_token: "${{BENCH_WA_TOKEN}}", graph_url: "http://127.0.0.1:9"}}
"""
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _ms(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if not found:
        raise ValueError(f"not a wrk time: {text}")
    return float(found.group(1)) * UNITS[found.group(2)]


def wrk(url: str, script: str, args: list[str], seconds: float, connections: int) -> dict:
    """Run wrk once; its figures plus the CPU wrk itself used."""
    threads = max(1, min(2, connections))
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:.0f}s",
        "--latency",
        "--timeout",
        "30s",
        "-s",
        str(ROOT / "bench" / "wrk" / script),
        url,
        "--",
        *args,
    ]
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    out, err = proc.stdout, proc.stderr
    if proc.returncode:
        raise RuntimeError(f"wrk failed: {err.strip()}")
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    latency = dict(re.findall(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+(?:us|ms|s))\s*$", out, re.M))
    if len(latency) != 2:
        raise RuntimeError(f"wrk printed no latency distribution:\n{out}")
    return {
        "requests": requests,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": _ms(latency["50"]),
        "p99": _ms(latency["99"]),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1) if errors else "none",
    }


def measured(url: str, script: str, args: list[str], seconds: float, conns: int, pid: int) -> dict:
    """wrk plus the CPU both sides used while it ran."""
    import resource

    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before, started = _cpu_seconds(pid), time.monotonic()
    result = wrk(url, script, args, seconds, conns)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_cpu = (after.ru_utime - before_children.ru_utime) + (
        after.ru_stime - before_children.ru_stime
    )
    result["wrk_cpu"] = load_cpu / wall
    result["server_cpu"] = (_cpu_seconds(pid) - server_before) / wall
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per run")
    parser.add_argument("--connections", default="1,16", help="wrk connections, per run")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    parser.add_argument("--per", type=int, default=50, help="messages per WhatsApp request")
    args = parser.parse_args()
    os.environ.update(
        BENCH_META_APP_SECRET=SECRET,
        BENCH_META_VERIFY="bench-verify-token-0123456789",
        BENCH_WA_TOKEN="bench",
    )
    check = "bench self-check ÿ " * 20
    mac = hmac.new(SECRET.encode(), check.encode(), hashlib.sha256).hexdigest()
    print(
        f"# {dt.date.today()} on {platform.node()} ({platform.machine()},"
        f" {os.cpu_count()} CPUs, Python {platform.python_version()});"
        f" load average before: {os.getloadavg()[0]:.2f}"
    )
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        db = tmp / "gateway.db"
        cfg = tmp / "gateway.yaml"
        cfg.write_text(CONFIG.format(db=db, data=tmp / "data"), encoding="utf-8")
        proc, web_url = _start("gateway", str(cfg), args.threads)
        wa_url = web_url.replace("/channels/web/", "/channels/wa/")
        assert proc.pid is not None
        runs = {
            "web form": (web_url, "webform.lua", lambda tag: [tag], 1),
            f"WhatsApp, {args.per} messages": (
                wa_url,
                "whatsapp_batch.lua",
                lambda tag: [SECRET, str(args.per), tag, check, mac],
                args.per,
            ),
        }
        sent = {"web": 0, "wa": 0}
        try:
            for url, script, make, per in runs.values():  # warm-up
                wrk(url, script, make(f"warm{per}"), 3, 4)
            for conns in (int(c) for c in args.connections.split(",")):
                for label, (url, script, make, per) in runs.items():
                    r = measured(url, script, make(f"c{conns}"), args.duration, conns, proc.pid)
                    sent["wa" if per > 1 else "web"] += r["requests"] - r["non2xx"]
                    print(
                        f"{label:24} {conns:2} conn: {r['rps']:7.1f} req/s"
                        f" = {r['rps'] * per:7.1f} messages/s  p50 {r['p50']:7.1f} ms"
                        f"  p99 {r['p99']:7.1f} ms  non-2xx {r['non2xx']}"
                        f"  socket errors {r['socket_errors']}"
                        f"  | wrk CPU {r['wrk_cpu'] * 100:4.1f}%  gateway CPU"
                        f" {r['server_cpu'] * 100:5.1f}%"
                    )
        finally:
            proc.terminate()
            proc.join()
        with sqlite3.connect(db) as conn:
            stored = dict(
                conn.execute("SELECT channel, count(*) FROM inbound_messages GROUP BY channel")
            )
            dupes = conn.execute(
                "SELECT count(*) FROM (SELECT channel, external_id FROM inbound_messages"
                " GROUP BY channel, external_id HAVING count(*) > 1)"
            ).fetchone()[0]
    print(
        f"stored: {stored.get('wa', 0)} WhatsApp messages (at least {sent['wa'] * args.per}"
        f" from answered measured requests, plus warm-up), {stored.get('web', 0)} web-form"
        f" complaints; keys stored twice: {dupes}"
    )


if __name__ == "__main__":
    main()
