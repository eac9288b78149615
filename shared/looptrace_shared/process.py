"""The state one running service process shares: its runtime and what its probes look at.

Its own module so that the HTTP and health edges and the assembly in ``runtime`` can all name
these types without importing each other.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from looptrace_shared.db import Plumbing, UnitOfWork
from looptrace_shared.lag import LagProbe
from looptrace_shared.messaging.consumer import BatchProcessor
from looptrace_shared.messaging.outbox import OutboxRelay
from looptrace_shared.settings import ServiceSettings


@dataclass
class Health:
    """What the probes look at; kept on ``app.state.health``."""

    schema: str
    heads: set[str] = field(default_factory=set)
    draining: bool = False
    lag: LagProbe | None = None


S = TypeVar("S", bound=ServiceSettings)
T = TypeVar("T")


@dataclass
class Runtime(Generic[S, T]):
    """What a running service shares between its HTTP routes, handlers and sweepers.

    ``settings`` are the service's own (typed); ``state`` is what the service keeps for the
    life of the process (production's planning and plan cache, predictions' model), made by
    the service's ``create_app`` before anything consumes.
    """

    settings: S
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    plumbing: Plumbing
    state: T = None  # type: ignore[assignment]  # services without state of their own
    relay: OutboxRelay | None = None
    processors: list[BatchProcessor] = field(default_factory=list)
    producer: AIOKafkaProducer | None = None
    health: Health | None = None

    def uow(self, session: AsyncSession) -> UnitOfWork:
        return UnitOfWork(session, self.plumbing, on_commit=self.wake_relay)

    @contextlib.asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        async with self.sessions() as session:
            yield self.uow(session)

    def wake_relay(self) -> None:
        if self.relay:
            self.relay.wake()
