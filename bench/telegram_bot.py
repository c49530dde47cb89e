"""Telegram replies through python-telegram-bot's `Bot`: the loop thread vs `asyncio.run` per call.

The library is asyncio-only and the reply sender runs plain threads. Two ways to bridge them:

- **loop thread** (what `adapters/telegram/loop.py` ships): one event loop per channel in a
  daemon thread, one long-lived `Bot` whose HTTP connection pool every call reuses; worker
  threads submit coroutines to it. Measured through `TelegramAdapter.send_reply` itself.
- **asyncio.run per call**: each reply makes its own event loop and a fresh `Bot` (an httpx
  client belongs to the loop that made it, so it cannot be shared), sends, shuts it down.

Both send the same `sendMessage` to the local Bot API of the tests
(`tests/adapters/telegram/fake_api.py`), run in its own process so that its work is not
counted against the client; its CPU use is printed (it must not be the bottleneck). Three
server settings: as the tests run it (HTTP/1.0, a connection per request), with keep-alive
(HTTP/1.1, as api.telegram.org), and HTTPS with keep-alive (a self-signed certificate made
with `openssl`; what a real bot pays: a TLS handshake per new connection). Record the
figures in bench/RESULTS.md.

    .venv/bin/python bench/telegram_bot.py [--replies 1000] [--concurrency 1,4]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import multiprocessing
import os
import platform
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TEXT = "SP4N-LAPOR!: Laporan Anda diterima dengan nomor LPR1234567. Terima kasih."
CHAT_ID = "1111111"


def _serve(conn: Connection, setting: str, cert: str, key: str) -> None:
    """The fake Bot API in this process until told to stop; answers CPU-time questions."""
    from tests.adapters.telegram.fake_api import FakeTelegram

    api = FakeTelegram()
    httpd = api.server.httpd
    url = api.url
    if setting != "close":
        handler = httpd.RequestHandlerClass
        handler.protocol_version = "HTTP/1.1"  # type: ignore[attr-defined]
        # Headers and body are two writes: without TCP_NODELAY a kept-alive connection
        # waits out the client's delayed ACK (40 ms) on every answer.
        handler.disable_nagle_algorithm = True  # type: ignore[attr-defined]
    if setting == "https":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        httpd.socket = context.wrap_socket(
            httpd.socket, server_side=True, do_handshake_on_connect=False
        )
        url = url.replace("http://", "https://")
    conn.send(url)
    while (message := conn.recv()) != "stop":
        if message == "cpu":
            times = os.times()
            conn.send((times.user + times.system, len(api.sent)))
    api.stop()


class Server:
    """The fake Bot API in a child process."""

    def __init__(self, setting: str, cert: str, key: str) -> None:
        self.conn, child = multiprocessing.get_context("spawn").Pipe()
        self.process = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(child, setting, cert, key), daemon=True
        )
        self.process.start()
        self.url = str(self.conn.recv())

    def cpu(self) -> tuple[float, int]:
        """CPU seconds the server used so far, and the messages it took."""
        self.conn.send("cpu")
        cpu, sent = self.conn.recv()
        return float(cpu), int(sent)

    def stop(self) -> None:
        """Stop the child."""
        self.conn.send("stop")
        self.process.join(10)


def loop_thread_sender(url: str) -> tuple[Callable[[], None], Callable[[], None]]:
    """Replies through the shipped adapter (its loop thread and long-lived Bot)."""
    from adapters.base import OutgoingReply
    from adapters.telegram.adapter import TelegramAdapter, TelegramOptions
    from tests.adapters.telegram.fake_api import TOKEN

    adapter = TelegramAdapter(
        TelegramOptions(name="tg", token=TOKEN, receive="polling", api_url=url, timeout=30)
    )
    reply = OutgoingReply(
        reply_id="r",
        report_id="rep",
        tracking_id="LPR1234567",
        event="ack",
        text=TEXT,
        reply_to={"chat_id": CHAT_ID},
        external_id="1",
    )

    def send() -> None:
        adapter.send_reply(reply)

    return send, adapter.close


def fresh_sender(url: str) -> tuple[Callable[[], None], Callable[[], None]]:
    """Replies each with `asyncio.run` and a fresh Bot, as a bridge without a loop thread."""
    from telegram import Bot
    from telegram.request import HTTPXRequest

    from tests.adapters.telegram.fake_api import TOKEN

    async def once() -> None:
        bot = Bot(
            TOKEN,
            base_url=f"{url}/bot",
            base_file_url=f"{url}/file/bot",
            request=HTTPXRequest(connection_pool_size=8, read_timeout=30, connect_timeout=30),
        )
        try:
            await bot.send_message(chat_id=CHAT_ID, text=TEXT)
        finally:
            await bot.shutdown()

    def send() -> None:
        asyncio.run(once())

    return send, lambda: None


def measure(send: Callable[[], None], total: int, concurrency: int) -> dict[str, float]:
    """`total` replies from `concurrency` worker threads: rate, latency, client CPU."""
    latencies: list[float] = []
    lock = threading.Lock()

    def one(_: int) -> None:
        started = time.perf_counter()
        send()
        elapsed = time.perf_counter() - started
        with lock:
            latencies.append(elapsed)

    cpu_before, started = os.times(), time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(total)))
    wall = time.perf_counter() - started
    cpu_after = os.times()
    used = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
    ordered = sorted(latencies)
    return {
        "rate": total / wall,
        "wall": wall,
        "p50": statistics.median(ordered) * 1000,
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        "client_cpu": used / wall,
        "cpu_ms": used / total * 1000,
    }


def certificate(tmp: Path) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (openssl); trusted through SSL_CERT_FILE."""
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return str(cert), str(key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=1000, help="replies per measurement")
    parser.add_argument("--concurrency", default="1,4", help="worker threads (reply sender)")
    parser.add_argument("--settings", default="close,keepalive,https")
    args = parser.parse_args()
    import logging

    for name in ("httpx", "httpcore", "telegram"):
        logging.getLogger(name).setLevel(logging.WARNING)
    print(
        f"# {dt.date.today()} on {platform.node()} ({platform.machine()},"
        f" {os.cpu_count()} CPUs, Python {platform.python_version()});"
        f" load average before: {os.getloadavg()[0]:.2f}"
    )
    bridges = {"loop thread": loop_thread_sender, "asyncio.run/call": fresh_sender}
    with tempfile.TemporaryDirectory() as tmpdir:
        cert, key = certificate(Path(tmpdir))
        os.environ["SSL_CERT_FILE"] = cert  # httpx trusts it (trust_env)
        for setting in args.settings.split(","):
            server = Server(setting, cert, key)
            try:
                for conc in (int(c) for c in args.concurrency.split(",")):
                    for name, make in bridges.items():
                        send, close = make(server.url)
                        try:
                            measure(send, 50, conc)  # warm-up
                            cpu0, sent0 = server.cpu()
                            r = measure(send, args.replies, conc)
                            cpu1, sent1 = server.cpu()
                        finally:
                            close()
                        assert sent1 - sent0 == args.replies, "every reply reached the server"
                        print(
                            f"{setting:9} {conc} thread(s) {name:17}: {r['rate']:7.1f} replies/s"
                            f"  p50 {r['p50']:6.1f} ms  p99 {r['p99']:6.1f} ms"
                            f"  | client CPU {r['cpu_ms']:5.2f} ms/reply"
                            f" ({r['client_cpu'] * 100:5.1f}%), server CPU"
                            f" {(cpu1 - cpu0) / r['wall'] * 100:5.1f}%"
                        )
            finally:
                server.stop()


if __name__ == "__main__":
    main()
