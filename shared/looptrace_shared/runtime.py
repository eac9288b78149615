"""Assembling one service process: DB, broker, subscribers, outbox relay, sweepers, HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from fastapi import APIRouter, FastAPI
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from looptrace_shared.db import Plumbing, make_engine, make_sessionmaker
from looptrace_shared.events import EVENT_TYPES
from looptrace_shared.health import install_health
from looptrace_shared.http import install_http
from looptrace_shared.messaging.consumer import BatchProcessor
from looptrace_shared.messaging.dispatch import ConsumerGroup
from looptrace_shared.messaging.incoming import Record
from looptrace_shared.messaging.kafka import consumer_options, ensure_topics, make_producer
from looptrace_shared.messaging.outbox import OutboxRelay
from looptrace_shared.messaging.subscriber import waiting_on_the_fetch
from looptrace_shared.migrations import migrate
from looptrace_shared.observability.logs import configure_logging
from looptrace_shared.process import Runtime as Runtime  # re-exported: the services' import
from looptrace_shared.settings import ServiceSettings

log = logging.getLogger(__name__)


Periodic = Callable[[Runtime[Any, Any]], Awaitable[Any]]


@dataclass
class ServiceSpec:
    """What makes one service's process: ``name`` is its package's (``looptrace_<name>``,
    whose ``migrations`` folder holds its Alembic revisions) and its envelopes' source."""

    name: str
    plumbing: Plumbing
    groups: Callable[[Runtime[Any, Any]], Sequence[ConsumerGroup[Any]]] = lambda rt: ()
    routers: Sequence[APIRouter] = ()
    periodic: Sequence[tuple[float, Periodic]] = ()
    on_start: Callable[[Runtime[Any, Any]], Awaitable[None]] | None = None
    # once the process is up (broker started): e.g. production's GC tuning, which must come
    # after start-up allocated what it keeps
    on_started: Callable[[Runtime[Any, Any]], None] | None = None
    publishes: Sequence[str] = ()

    @property
    def migrations(self) -> Path:
        package = importlib.import_module(f"looptrace_{self.name}")
        return Path(package.__path__[0]) / "migrations"


def build_broker(settings: ServiceSettings, spec: ServiceSpec) -> KafkaBroker:
    broker = KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=f"looptrace-{spec.name}",
        acks="all",
        enable_idempotence=settings.kafka_idempotence,
        logger=logging.getLogger(f"faststream.{spec.name}"),
        # on stop, a batch in flight is finished and its offsets committed (bounded)
        graceful_timeout=settings.shutdown_timeout_s,
    )
    for topic in sorted({EVENT_TYPES[t].topic for t in spec.publishes}):
        types = [t for t in spec.publishes if EVENT_TYPES[t].topic == topic]
        broker.publisher(
            topic,
            title=f"{spec.name}:{topic}",
            description="Envelope with data of type: "
            + ", ".join(types)
            + " (published by the outbox relay; key = order id)",
            schema=EVENT_TYPES[types[0]].model if len(types) == 1 else None,
        )
    return broker


async def _undecoded(message: KafkaMessage) -> Any:
    """The batch's values as they are: the handler parses each record itself (BatchProcessor),
    so FastStream's own JSON decoding of every message would be wasted work."""
    return message.body


def subscribe(broker: KafkaBroker, processor: BatchProcessor, settings: ServiceSettings) -> None:
    group = processor.group

    subscriber = waiting_on_the_fetch(  # its loop does not sleep after an empty fetch
        broker.subscriber(
            *group.topics,
            group_id=group.name,
            batch=True,
            ack_policy=AckPolicy.MANUAL,
            title=group.name,
            decoder=_undecoded,
            **consumer_options(settings),
        )
    )

    @subscriber  # type: ignore[untyped-decorator]
    async def consume(message: KafkaMessage) -> None:
        raw = message.raw_message
        records = [Record(r.topic, r.partition, r.offset, r.key, r.value or b"") for r in raw]
        try:
            await processor.process(records)
        except Exception:
            log.exception(
                "batch of %d from %s not processed; it will be redelivered",
                len(records),
                group.topics,
            )
            await asyncio.sleep(settings.retry_backoff_cap_s)
            await message.nack()
        else:
            await message.ack()


async def _every(
    seconds: float, job: Periodic, rt: Runtime[Any, Any], stopping: asyncio.Event
) -> None:
    """Run ``job`` every ``seconds`` until ``stopping``; a run in progress is finished."""
    while not stopping.is_set():
        try:
            await job(rt)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("periodic job %s failed", getattr(job, "__name__", job))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), seconds)


async def _finish(tasks: Sequence[asyncio.Task[Any]], timeout: float, what: str) -> None:
    """Wait for ``tasks`` to end by themselves; cancel what is still running after ``timeout``."""
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=timeout)
    for t in pending:
        log.warning("%s still running after %.0fs: cancelled", what, timeout)
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def shut_down(rt: Runtime[Any, Any], broker: KafkaBroker, tasks: _Tasks) -> None:
    """Stop fetching and finish the batch in flight (offsets committed), let the periodic jobs
    finish their round, publish what is left in the outbox, then close the clients and pools."""
    timeout = rt.settings.shutdown_timeout_s
    log.info("%s stopping: finishing the batch in flight", rt.settings.service_name)
    await broker.stop()
    tasks.stopping.set()
    await _finish(tasks.periodic, timeout, "periodic job")
    if rt.relay is not None:
        rt.relay.stop()
    await _finish(tasks.relay, timeout, "outbox relay")
    if rt.health is not None and rt.health.lag is not None:
        await rt.health.lag.close()
    if rt.producer is not None:
        await rt.producer.stop()
    await rt.engine.dispose()
    log.info("%s stopped", rt.settings.service_name)


@dataclass
class _Tasks:
    stopping: asyncio.Event
    relay: list[asyncio.Task[Any]]
    periodic: list[asyncio.Task[Any]]


async def _retry_all_parked(rt: Runtime[Any, Any]) -> None:
    for processor in rt.processors:
        await processor.retry_parked()


def _processors(rt: Runtime[Any, Any], spec: ServiceSpec, broker: KafkaBroker) -> None:
    """One batch processor per consumer group of the service, each subscribed on ``broker``."""
    for group in spec.groups(rt):
        processor = BatchProcessor(
            group, rt.sessions, spec.plumbing, rt.settings, on_commit=rt.wake_relay
        )
        rt.processors.append(processor)
        subscribe(broker, processor, rt.settings)


async def _start(rt: Runtime[Any, Any], spec: ServiceSpec) -> _Tasks:
    """Schema, topics, producer and outbox relay, the service's own start, then the relay and
    the periodic jobs as tasks (the broker is started after, by the caller)."""
    settings = rt.settings
    configure_logging(spec.name, settings.log_level)
    await asyncio.to_thread(migrate, settings.database_url, spec.migrations)
    await ensure_topics(settings)
    rt.producer = make_producer(settings)
    await rt.producer.start()
    rt.relay = OutboxRelay(
        rt.sessions, spec.plumbing, rt.producer, spec.name, settings.outbox_poll_s
    )
    if spec.on_start:
        await spec.on_start(rt)
    stopping = asyncio.Event()
    jobs = [(settings.parking_retry_s, _retry_all_parked), *spec.periodic]
    return _Tasks(
        stopping,
        [asyncio.create_task(rt.relay.run(), name="outbox-relay")],
        [asyncio.create_task(_every(s, job, rt, stopping)) for s, job in jobs],
    )


def _lifespan(
    rt: Runtime[Any, Any], spec: ServiceSpec, broker: KafkaBroker
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks = await _start(rt, spec)
        await broker.start()
        app.state.broker_started = True
        if spec.on_started:
            spec.on_started(rt)
        log.info("%s started on %s", spec.name, rt.settings.http_address)
        try:
            yield
        finally:
            app.state.broker_started = False
            await shut_down(rt, broker, tasks)

    return lifespan


def create_service_app(settings: ServiceSettings, spec: ServiceSpec, state: Any = None) -> FastAPI:
    broker = build_broker(settings, spec)
    engine = make_engine(settings.database_url, settings.db_pool_size)
    rt = Runtime(settings, engine, make_sessionmaker(engine), spec.plumbing, state)
    _processors(rt, spec, broker)
    app = FastAPI(
        title=f"LoopTrace {spec.name}", version="1.0.0", lifespan=_lifespan(rt, spec, broker)
    )
    app.state.runtime = rt
    app.state.broker = broker
    app.state.broker_started = False
    install_http(app, rt)
    install_health(app, spec.plumbing.schema, spec.migrations)
    rt.health = app.state.health
    for router in spec.routers:
        app.include_router(router)
    return app


S = TypeVar("S", bound=ServiceSettings)


def app_factories(
    settings_type: type[S], build: ServiceSpec | Callable[[S], FastAPI]
) -> tuple[Callable[[], S], Callable[..., FastAPI]]:
    """``load_settings`` and ``create_app(settings=None)`` of a service (the CLI and the tests
    start every service through these two): its app is its spec alone, or what ``build``
    makes of the settings (a spec that depends on them, state of its own)."""

    def load_settings() -> S:
        return settings_type()

    def create_app(settings: S | None = None) -> FastAPI:
        settings = settings or load_settings()
        if isinstance(build, ServiceSpec):
            return create_service_app(settings, build)
        return build(settings)

    return load_settings, create_app
