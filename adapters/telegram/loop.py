"""A dedicated asyncio loop thread for python-telegram-bot calls made from worker threads.

The library is asyncio-only; the gateway's web requests, pollers and reply senders are plain
threads. Each call is submitted to one long-lived loop (one per channel) and waited for with
a timeout, so the library's HTTP connection pool is reused across calls. `bench/telegram_bot.py`
measured this against `asyncio.run` per call (a fresh client each time): see bench/RESULTS.md.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

# httpx logs every request URL at INFO, and a Bot API URL holds the bot token; the library
# logs its base URL at DEBUG. Personal data and secrets never reach a log (README): these
# loggers say nothing below WARNING, whatever level an admin sets.
for _name in ("httpx", "httpcore", "telegram"):
    logging.getLogger(_name).setLevel(logging.WARNING)


class LoopThread:
    """One event loop running in a daemon thread; `run` executes a coroutine on it."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _ensure(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._thread is None or not self._thread.is_alive():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name=f"telegram-{self._name}", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def run(self, make: Callable[[], Awaitable[T]], timeout: float) -> T:
        """Run `make()` on the loop and wait at most `timeout` seconds for its result."""
        loop = self._ensure()

        async def call() -> T:
            return await make()

        future = asyncio.run_coroutine_threadsafe(call(), loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"Telegram call took longer than {timeout:.0f}s") from None

    def close(self, finish: Callable[[], Awaitable[object]] | None = None) -> None:
        """Run `finish` (closing the library's client) and stop the loop."""
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None or thread is None:
            return
        if finish is not None and thread.is_alive():

            async def wrap() -> object:
                return await finish()

            try:
                asyncio.run_coroutine_threadsafe(wrap(), loop).result(5)
            except Exception:  # noqa: BLE001 (closing: nothing to do about a failure)
                logging.getLogger(__name__).debug("closing the Telegram client failed")
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
