"""Gammu SMSD hotline throughput: N SMS in Gammu's inbox (MariaDB) drained through the
`gammu_smsd` adapter and the intake into the sandbox central, acknowledgements written back
to Gammu's outbox. Prints figures (run by hand; record them in bench/RESULTS.md).

    .venv/bin/python bench/sms_gammu.py [--messages 5000] [--multipart-share 0.2]

Three loops run at once, as in `sp4n-gateway run`: the gateway's poll runner (a batch of
messages and the cursor in one transaction, then Gammu's rows marked Processed), the
forwarder and the reply sender. Figures: intake messages/s, and the time from the first
poll until the last acknowledgement row is in Gammu's outbox.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONFIG = """\
gateway: {{demo: true, database: "sqlite:///{db}", data_dir: "{data}", log_level: WARNING}}
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
  - {{name: hotline, type: gammu_smsd, database: "{gammu}", time_zone: UTC,
      batch_size: 500, window: 20000}}
"""


def fill_inbox(url: str, count: int, multipart_share: float) -> int:
    """Insert `count` SMS (a share of them as 3-part long SMS, parts shuffled); rows made."""
    from adapters.sms.gsm import build_udh, split_parts

    rnd = random.Random(42)
    rows: list[dict[str, object]] = []
    at = dt.datetime(2026, 11, 22, 3, 0, 0)
    for i in range(count):
        sender = f"+62812{i % 100000:08d}"
        if rnd.random() < multipart_share:
            text = (
                f"LAPOR nomor {i}: jalan rusak dan berlubang di depan balai desa, air"
                " menggenang setiap hujan dan membahayakan pengendara motor. "
            ) * 3
            parts = split_parts(text)[:3]
            seqs = list(range(1, len(parts) + 1))
            rnd.shuffle(seqs)
            rows += [
                {
                    "SenderNumber": sender,
                    "TextDecoded": parts[s - 1],
                    "UDH": build_udh(i % 256, len(parts), s),
                    "ReceivingDateTime": at,
                }
                for s in seqs
            ]
        else:
            rows.append(
                {
                    "SenderNumber": sender,
                    "TextDecoded": f"Jalan rusak di RT {i % 50}",
                    "UDH": "",
                    "ReceivingDateTime": at,
                }
            )
    columns = [
        "SenderNumber",
        "TextDecoded",
        "UDH",
        "ReceivingDateTime",
        "Text",
        "RecipientID",
        "Coding",
    ]
    inbox = sa.table("inbox", *(sa.column(c) for c in columns))
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for start in range(0, len(rows), 1000):
            conn.execute(
                sa.insert(inbox),
                [
                    {**r, "Text": "", "RecipientID": "modem1", "Coding": "Default_No_Compression"}
                    for r in rows[start : start + 1000]
                ],
            )
    engine.dispose()
    return len(rows)


def run(count: int, multipart_share: float) -> None:
    """Fill, drain, print."""
    from config.loader import parse_config
    from forwarder.sandbox import SandboxServer, SandboxSettings
    from gateway.logging_setup import configure_logging
    from gateway.runtime import build_runtime
    from tests.adapters.sms.gammu_db import gammu_database

    configure_logging("WARNING")
    with (
        tempfile.TemporaryDirectory() as tmpdir,
        gammu_database("mariadb-v17", Path(tmpdir)) as gammu,
    ):
        tmp = Path(tmpdir)
        rows = fill_inbox(gammu.url, count, multipart_share)
        sandbox = SandboxServer(
            SandboxSettings(token="bench", db_path=str(tmp / "sb.db")), host="127.0.0.1", port=0
        )
        sandbox.start()
        text = CONFIG.format(
            db=tmp / "gw.db", data=tmp / "data", central=sandbox.url, gammu=gammu.url
        )
        runtime = build_runtime(parse_config(text, "bench.yaml", {}), base_dir=tmp)
        adapter = runtime.adapters["hotline"]
        forwarder, replies = runtime.forwarder(), runtime.reply_sender()
        outbox = sa.table("outbox", sa.column("ID"))
        engine = sa.create_engine(gammu.url)
        stop = threading.Event()
        stored: list[float] = []
        (runner,) = runtime.pollers()

        def poller() -> None:
            while len(stored) < count and not stop.is_set():
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
        acked = 0
        while acked < count and time.perf_counter() - t0 < 1800:
            time.sleep(0.2)
            with engine.connect() as conn:
                acked = conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar()
        last_ack = time.perf_counter() - t0
        stop.set()
        for t in threads:
            t.join()
        forwarder.close()
        engine.dispose()
        intake_s = stored[-1] - t0
        print(
            f"# {dt.date.today()} on {platform.node()} ({platform.machine()},"
            f" {os.cpu_count()} CPUs, Python {platform.python_version()}),"
            f" Gammu schema {adapter.schema_version} on MariaDB, gateway on SQLite"
        )
        print(
            f"inbox: {count} SMS in {rows} rows ({multipart_share:.0%} as 3-part long SMS,"
            " parts shuffled)"
        )
        print(
            f"intake (poll + accept + confirm): {len(stored)} messages in {intake_s:.1f} s ="
            f" {len(stored) / intake_s:.1f} messages/s"
        )
        print(
            f"last acknowledgement in Gammu's outbox after {last_ack:.1f} s"
            f" ({acked} outbox rows; {count / last_ack:.1f} messages/s end to end)"
        )
        adapter.close()
        runtime.close()
        sandbox.stop()


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--multipart-share", type=float, default=0.2)
    args = parser.parse_args()
    run(args.messages, args.multipart_share)


if __name__ == "__main__":
    main()
