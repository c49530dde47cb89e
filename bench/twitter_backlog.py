"""X backlog catch-up: mentions and DMs waiting after an outage, drained through the real poll
runner against the local X API server (tests/adapters/twitter/fake_x.py) into the sandbox
central, acknowledgements posted back to X. Prints figures (run by hand; record them in
bench/RESULTS.md).

    .venv/bin/python bench/twitter_backlog.py [--mentions 2000] [--dms 500]

As in `sp4n-gateway run`, three loops run at once: the poll runner (a batch of messages and
the cursor in one transaction), the forwarder and the reply sender. The X server keeps
serving the newest 800 mentions only, as X does: a backlog over 800 is drained as far as X
allows and the gap is counted (`gap` channel warning). Each message has its own author, so
the per-recipient reply limit holds nothing back.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONFIG = """\
gateway: {{database: "sqlite:///{db}", data_dir: "{data}", log_level: WARNING}}
central: {{url: "{central}", token: "${{CENTRAL_TOKEN:-bench}}", timeout: 10s}}
agencies:
  - {{code: nasional, name: Admin Nasional LAPOR!}}
  - {{code: dinas, name: Dinas PUPR, parent: nasional}}
routing:
  default: nasional
  rules:
    - {{when: {{keywords: [jalan]}}, agency: dinas}}
forwarder: {{concurrency: 8, batch_size: 100, interval: 0.2s}}
channels:
"""


def run(mentions: int, dms: int, reach: int) -> None:
    """Fill, drain, print."""
    from config.loader import parse_config
    from forwarder.sandbox import SandboxServer, SandboxSettings
    from gateway.logging_setup import configure_logging
    from gateway.runtime import build_runtime
    from tests.adapters.twitter import fake_x
    from tests.adapters.twitter.conftest import X_ENV, channel_yaml

    configure_logging("WARNING")
    fake_x.REACH = reach
    serving = fake_x.serve()
    x = next(serving)
    for i in range(mentions):
        x.add_mention(f"@LAPOR1708 jalan rusak nomor {i} di kecamatan contoh", f"9{i:017d}")
    for i in range(dms):
        x.add_dm(f"Lampu penerangan mati di gang {i}, mohon diperbaiki.", f"7{i:017d}")
    expected = min(mentions, reach) + dms
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        sandbox = SandboxServer(
            SandboxSettings(token="bench", db_path=str(tmp / "sb.db")), host="127.0.0.1", port=0
        )
        sandbox.start()
        text = CONFIG.format(db=tmp / "gw.db", data=tmp / "data", central=sandbox.url)
        text += channel_yaml(x, batch_size=500)
        env = {"CENTRAL_TOKEN": "bench", **X_ENV}
        runtime = build_runtime(parse_config(text, "bench.yaml", env), base_dir=tmp)
        forwarder, replies = runtime.forwarder(), runtime.reply_sender()
        replies.limits.max_per_recipient_hour = replies.limits.max_per_recipient_day = 10**6
        stop = threading.Event()
        stored: list[float] = []
        (runner,) = runtime.pollers()

        def poller() -> None:
            while len(stored) < expected and not stop.is_set():
                handled = runner.run_once()
                stored.extend([time.perf_counter()] * handled)
                if handled == 0:
                    time.sleep(0.05)

        def loop(step: object) -> None:
            while not stop.is_set():
                if step() == 0:  # type: ignore[operator]
                    time.sleep(0.05)

        t0 = time.perf_counter()
        threads = [
            threading.Thread(target=poller),
            threading.Thread(target=loop, args=(forwarder.run_once,)),
            threading.Thread(target=loop, args=(replies.run_once,)),
        ]
        for t in threads:
            t.start()
        while len(x.sent_posts) + len(x.sent_dms) < expected and time.perf_counter() - t0 < 1800:
            time.sleep(0.2)
        last_ack = time.perf_counter() - t0
        stop.set()
        for t in threads:
            t.join()
        forwarder.close()
        replies.close()
        intake_s = stored[-1] - t0
        print(
            f"# {dt.date.today()} on {platform.node()} ({platform.machine()},"
            f" {os.cpu_count()} CPUs, Python {platform.python_version()}), gateway on SQLite"
        )
        print(f"waiting at X: {mentions} mentions (X serves the newest {reach}), {dms} DMs")
        print(
            f"intake (poll runner): {len(stored)} messages in {intake_s:.1f} s ="
            f" {len(stored) / intake_s:.1f} messages/s;"
            f" {x.calls.get('mentions', 0)} mention pages, {x.calls.get('dm_events', 0)} DM pages,"
            f" gap warnings: {dict(runtime.adapters['x-lapor'].warnings)}"
        )
        print(
            f"last acknowledgement at X after {last_ack:.1f} s ({len(x.sent_posts)} public"
            f" replies, {len(x.sent_dms)} DMs; {expected / last_ack:.1f} messages/s end to end)"
        )
        runtime.adapters["x-lapor"].close()
        runtime.close()
        sandbox.stop()
    serving.close()


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=2000)
    parser.add_argument("--dms", type=int, default=500)
    parser.add_argument(
        "--reach", type=int, default=2000, help="newest mentions X serves (X itself: 800)"
    )
    args = parser.parse_args()
    run(args.mentions, args.dms, args.reach)


if __name__ == "__main__":
    main()
