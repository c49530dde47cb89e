"""Everything a gateway process needs, built once from a checked config (no globals).

`run`, `web`, `worker` and the CLI helpers build a `Runtime` and take the parts they need;
tests build one against a temporary database.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from threadpoolctl import threadpool_limits

from adapters.base import Adapter, DeliveryReceipt
from adapters.registry import load_adapter_class
from config.loader import Config
from config.models import kind_model_path, learned_kinds
from forwarder.model_pass import ModelPass
from forwarder.replies import ReplyQueue, ReplyTemplates
from forwarder.reply_sender import ReplySender
from forwarder.routing import Router
from forwarder.sla.clocks import SlaRules
from forwarder.sla.digest import DigestTemplates, SlaDigest, agency_contacts, smtp_settings
from forwarder.sla.watch import SlaWatch
from forwarder.sync import StatusSync
from forwarder.targets.lapor import LaporClient
from forwarder.worker import Forwarder
from gateway.conversation import ChatFlow, enabled
from gateway.intake import Intake
from gateway.links import FileLinks, load_or_create_secret
from gateway.poller import Poller
from gateway.scoring import ScoringProcess, start_scoring
from normalizer.learn.reading import share_reading
from normalizer.pipeline import NormalizerSettings
from store import migrate
from store.db import make_engine, make_read_sessionmaker, make_sessionmaker
from store.files import AttachmentStore
from store.health import ChannelHealth
from store.metrics import Metrics
from store.models import ForwardItem, InboundMessage, ReplyItem
from store.receipts import record_receipts
from store.sla import load_watch
from store.states import InboundState
from vocabulary.errors import AdapterUnavailable

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """The wired-up parts of one gateway process."""

    config: Config
    base_dir: Path
    engine: Engine
    sessions: sessionmaker[Session]
    # Read-only work (status pages, health, metrics, admin lists): never takes the write lock.
    reads: sessionmaker[Session]
    adapters: dict[str, Adapter[Any]]
    router: Router
    metrics: Metrics
    replies: ReplyQueue
    intake: Intake
    client: LaporClient
    links: FileLinks
    health: ChannelHealth
    heartbeats: dict[str, float] = field(default_factory=dict)
    scoring: ScoringProcess | None = None  # the models' child process, when serving
    model_pass: ModelPass | None = None  # the models' decision before forwarding

    def data_dir(self) -> Path:
        """The directory for attachments and the embedded databases."""
        path = Path(self.config.model.gateway.data_dir)
        return path if path.is_absolute() else self.base_dir / path

    def forwarder(self) -> Forwarder:
        """A forward worker on this runtime."""
        return Forwarder(
            self.sessions,
            self.client,
            self.router,
            self.replies,
            self.config.model.forwarder,
            metrics=self.metrics,
            model_pass=self.model_pass,
        )

    def reply_sender(self) -> ReplySender:
        """A reply sender on this runtime."""
        return ReplySender(
            self.sessions,
            self.adapters,
            self.config.model.forwarder,
            self.config.model.replies,
            metrics=self.metrics,
            health=self.health,
        )

    def status_sync(self) -> StatusSync:
        """A status sync on this runtime."""
        return StatusSync(self.sessions, self.client, self.router, self.replies)

    def sla_watch(self) -> SlaWatch:
        """The SLA watch job on this runtime (with the daily digest when configured)."""
        model = self.config.model
        rules = SlaRules.from_config(model)
        settings = smtp_settings(model)
        digest = None
        if settings is not None and model.sla.digest is not None:
            digest = SlaDigest(
                self.sessions,
                settings,
                agency_contacts(model),
                rules,
                DigestTemplates(model.replies.templates_dir),
                send_at=model.sla.digest.send_at,
                public_url=model.gateway.public_url,
            )
        return SlaWatch(
            self.sessions,
            rules,
            self.replies,
            notify_citizen=model.sla.notify_citizen,
            digest=digest,
        )

    def sla_counts(self) -> dict[str, Any] | None:
        """The SLA watch's last counts (for /metrics)."""
        with self.reads() as session:
            return load_watch(session)

    def pollers(self) -> list[Poller]:
        """One poller per enabled polled channel."""
        return [
            Poller(adapter, self.engine, self.sessions, self.intake, self.metrics, self.health)
            for adapter in self.adapters.values()
            if "poll" in adapter.modes
        ]

    def record_receipts(self, channel: str, receipts: Sequence[DeliveryReceipt]) -> int:
        """Record providers' delivery statuses on the reply rows (one transaction)."""
        with self.sessions.begin() as session:
            return record_receipts(session, channel, receipts)

    def queue_counts(self) -> dict[str, dict[str, int]]:
        """Rows per state in both outboxes (for /metrics)."""
        counts: dict[str, dict[str, int]] = {}
        with self.reads() as session:
            for name, model in (("forward", ForwardItem), ("reply", ReplyItem)):
                rows = session.execute(select(model.state, func.count()).group_by(model.state))
                counts[name] = {state: int(n) for state, n in rows}
            held = session.execute(
                select(InboundMessage.state, func.count())
                .where(InboundMessage.state.in_((InboundState.QUARANTINED, InboundState.REJECTED)))
                .group_by(InboundMessage.state)
            )
            counts["inbound"] = {state: int(n) for state, n in held}
        return counts

    def close(self) -> None:
        """Release the database pool and stop the models' process."""
        self.engine.dispose()
        if self.scoring is not None:
            self.scoring.close()


def build_adapters(config: Config) -> dict[str, Adapter[Any]]:
    """One adapter per enabled channel; a channel that cannot start is skipped, loudly."""
    adapters: dict[str, Adapter[Any]] = {}
    public_url = config.model.gateway.public_url
    for options in config.channels:
        if not options.enabled:
            continue
        try:
            adapters[options.name] = load_adapter_class(options.type)(
                options, public_url=public_url
            )
        except AdapterUnavailable as exc:
            log.error("channel %s is not started: %s", options.name, exc)
    return adapters


def one_blas_thread() -> None:
    """Keep numpy's BLAS to the calling thread while models score reports.

    OpenBLAS starts a thread per core for a model's small vector-matrix products and keeps
    them spinning between calls; in a server whose request threads already share the cores
    they burned as much CPU as the requests and cost a quarter of intake throughput
    (bench/RESULTS.md, 2026-12-01). Process-wide and idempotent.
    """
    threadpool_limits(limits=1, user_api="blas")


def build_runtime(
    config: Config,
    *,
    base_dir: Path | None = None,
    apply_migrations: bool = True,
    model_process: bool = False,
) -> Runtime:
    """Wire a runtime; migrations are applied unless told otherwise.

    With `model_process` the kind and routing models score reports in a child process
    (`gateway.scoring`: a serving gateway's second core); otherwise in this one.
    """
    base = base_dir or Path.cwd()
    model = config.model
    engine = make_engine(model.gateway.database, base_dir=base)
    if apply_migrations:
        migrate.upgrade(engine)
    sessions = make_sessionmaker(engine)
    reads = make_read_sessionmaker(engine)
    adapters = build_adapters(config)
    router = Router(model.routing, config.agency_parents)
    metrics = Metrics()
    templates = ReplyTemplates(model.replies.templates_dir)
    templates.check()

    def can_reply(channel: str, reply_to: Mapping[str, str]) -> bool:
        adapter = adapters.get(channel)
        return bool(adapter and adapter.options.replies and adapter.can_reply(reply_to))

    def recipient_of(channel: str, reply_to: Mapping[str, str]) -> str | None:
        adapter = adapters.get(channel)
        return adapter.recipient_key(reply_to) if adapter else None

    replies = ReplyQueue(
        templates,
        {a.code: a.name for a in model.agencies},
        can_reply,
        {name: adapter.kind for name, adapter in adapters.items()},
        recipient_of,
        public_url=model.gateway.public_url,
    )

    kind_model = learned_kinds(model.normalizer.kind_model)
    # The kind model and the routing rules' models read each report in one pass, in a child
    # process when serving.
    models = [*([kind_model.model] if kind_model else []), *router.models.values()]
    paths = [
        *([kind_model_path(model.normalizer.kind_model)] if kind_model else []),
        *map(Path, router.models),
    ]
    if models:
        one_blas_thread()  # here too: a failed child leaves the models to this process
    scoring = start_scoring(models, paths) if model_process else None
    if scoring is None:
        share_reading(models)

    model_pass = ModelPass(
        router, model.normalizer.kinds, kind_model, scoring.warm if scoring else None
    )

    def settings_for(adapter: Adapter[Any]) -> NormalizerSettings:
        return NormalizerSettings(
            region=model.normalizer.region,
            kinds=model.normalizer.kinds,
            default_kind=adapter.options.kind,
            learned_kinds=kind_model,
            strict=adapter.strict,
        )

    data_dir = Path(model.gateway.data_dir)
    data_dir = data_dir if data_dir.is_absolute() else base / data_dir
    links = FileLinks(
        load_or_create_secret(sessions), model.gateway.public_url, model.gateway.attachment_link_ttl
    )
    intake = Intake(
        sessions,
        router,
        settings_for,
        AttachmentStore(data_dir / "attachments"),
        metrics,
        replies,
        links=links,
        defer_models=model_pass.active,
    )
    if any(enabled(a) for a in adapters.values()):
        intake.chat_flow = ChatFlow(replies, templates, intake.attachments)
    client = LaporClient(
        model.central.base_url,
        model.central.token.get_secret_value(),
        timeout=model.central.timeout,
    )
    runtime = Runtime(
        config=config,
        base_dir=base,
        engine=engine,
        sessions=sessions,
        reads=reads,
        adapters=adapters,
        router=router,
        metrics=metrics,
        replies=replies,
        intake=intake,
        client=client,
        links=links,
        health=ChannelHealth(sessions),
        scoring=scoring,
        model_pass=model_pass,
    )
    metrics.watch_queues(runtime.queue_counts)
    metrics.watch_sla(runtime.sla_counts)
    metrics.watch_channels(lambda: {n: dict(a.warnings) for n, a in adapters.items()})
    _keep_warnings(adapters, runtime.health)
    return runtime


def _keep_warnings(adapters: Mapping[str, Adapter[Any]], health: ChannelHealth) -> None:
    """A channel's warnings go to channel health too: the admin sees them after a restart."""
    for name, adapter in adapters.items():
        adapter.keep_warning = functools.partial(health.warned, name)
