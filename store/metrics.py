"""Prometheus metrics: counters and histograms kept in-process, queue gauges read at scrape.

Queue depth and dead letters come from the database when scraped, so they are right whichever
process (`run`, `web` or `worker`) answers `/metrics`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector


class QueueCollector(Collector):
    """Outbox rows per queue and state, counted when scraped."""

    def __init__(self, read: Callable[[], dict[str, dict[str, int]]]) -> None:
        self.read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Yield the gauges (nothing when the database is unreachable)."""
        depth = GaugeMetricFamily(
            "sp4n_outbox_depth", "Outbox rows by queue and state", labels=["queue", "state"]
        )
        dead = GaugeMetricFamily(
            "sp4n_dead_letters", "Dead-lettered rows by queue", labels=["queue"]
        )
        try:
            counts = self.read()
        except Exception:  # noqa: BLE001 (a scrape must not fail because the DB is down)
            return
        for queue, states in counts.items():
            if queue == "inbound":  # messages held back for an admin, not a queue to drain
                for state in ("quarantined", "rejected"):
                    depth.add_metric([queue, state], states.get(state, 0))
                continue
            for state in ("pending", "done", "sent", "dead", "manual", "limited"):
                if state in states or state == "pending":
                    depth.add_metric([queue, state], states.get(state, 0))
            dead.add_metric([queue], states.get("dead", 0))
        yield depth
        yield dead


class ChannelWarningCollector(Collector):
    """Channel warnings (gaps in what a source still serves...) counted by the adapters."""

    def __init__(self, read: Callable[[], dict[str, dict[str, int]]]) -> None:
        self.read = read

    def collect(self) -> Iterator[CounterMetricFamily]:
        """Yield the counter family."""
        family = CounterMetricFamily(
            "sp4n_channel_warnings",
            "Channel warnings by channel and code (e.g. gap: the source no longer serves"
            " some messages)",
            labels=["channel", "code"],
        )
        for channel, codes in self.read().items():
            for code, count in codes.items():
                family.add_metric([channel, code], count)
        yield family


class SlaCollector(Collector):
    """Running SLA clocks overdue and due soon per agency and stage, from the watch's last pass.

    The counts are what the watch job (any worker) kept in the database, so every process
    answering /metrics shows the same; a scrape never computes clocks itself.
    """

    def __init__(self, read: Callable[[], dict[str, Any] | None]) -> None:
        self.read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Yield the gauges (nothing before the first watch or when the DB is down)."""
        try:
            snapshot = self.read()
        except Exception:  # noqa: BLE001 (a scrape must not fail because the DB is down)
            return
        if snapshot is None:
            return
        for name, key, what in (
            ("sp4n_sla_overdue", "overdue", "past their due day"),
            ("sp4n_sla_due_soon", "due_soon", "due soon"),
        ):
            family = GaugeMetricFamily(
                name,
                f"Running SLA stage clocks {what}, by agency and stage (last watch pass)",
                labels=["agency", "stage"],
            )
            for agency, stage, count in snapshot.get(key, []):
                family.add_metric([str(agency), str(stage)], float(count))
            yield family


class Metrics:
    """The gateway's metric objects, on their own registry (one per app, tests stay apart)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.inbound = Counter(
            "sp4n_inbound_messages",
            "Inbound messages by channel and result",
            ["channel", "result"],
            registry=self.registry,
        )
        self.forwarded = Counter(
            "sp4n_forward_attempts",
            "Calls to the central by result",
            ["action", "result"],
            registry=self.registry,
        )
        self.forward_latency = Histogram(
            "sp4n_forward_latency_seconds",
            "Time from intake to the central's receipt",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600),
            registry=self.registry,
        )
        self.call_latency = Histogram(
            "sp4n_central_call_seconds",
            "Duration of one HTTP call to the central",
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "sp4n_dead_lettered",
            "Rows moved to the dead letters",
            ["queue"],
            registry=self.registry,
        )
        self.replies = Counter(
            "sp4n_replies_sent",
            "Replies sent to citizens by channel",
            ["channel", "result"],
            registry=self.registry,
        )
        self.poll_errors = Counter(
            "sp4n_poll_errors",
            "Polls that could not reach the source",
            ["channel"],
            registry=self.registry,
        )

    def watch_channels(self, read: Callable[[], dict[str, dict[str, int]]]) -> None:
        """Register the scrape-time channel warning counts (channel -> code -> count)."""
        self.registry.register(ChannelWarningCollector(read))

    def watch_sla(self, read: Callable[[], dict[str, Any] | None]) -> None:
        """Register the SLA gauges (read from the watch's last pass)."""
        self.registry.register(SlaCollector(read))

    def watch_queues(self, read: Callable[[], dict[str, dict[str, int]]]) -> None:
        """Register the scrape-time queue gauges."""
        self.registry.register(QueueCollector(read))
