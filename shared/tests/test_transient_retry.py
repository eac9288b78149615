"""A transient failure is retried with backoff and the message is never lost."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from looptrace_shared.db import make_sessionmaker, plumbing_tables, service_metadata
from looptrace_shared.envelope import new_envelope
from looptrace_shared.messaging.consumer import BatchProcessor
from looptrace_shared.messaging.dispatch import ConsumerGroup, Context
from looptrace_shared.messaging.incoming import Record
from looptrace_shared.settings import ServiceSettings
from looptrace_shared.testing import fresh_schema

pytestmark = pytest.mark.integration
SCHEMA = "retry_test"
metadata = service_metadata(SCHEMA)
plumbing = plumbing_tables(metadata)


class FlakyDatabase:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.applied: list[str] = []

    async def react(self, ctx, item) -> None:  # type: ignore[no-untyped-def]
        if self.failures:
            self.failures -= 1
            raise ConnectionResetError("connection to the database was lost")
        self.applied.append(item.subject)


@pytest.fixture
async def sessions(database_url: str):  # type: ignore[no-untyped-def]
    engine = await fresh_schema(database_url, metadata)
    yield make_sessionmaker(engine)
    await engine.dispose()


def message(order_id: str) -> Record:
    env = new_envelope("OrderCancelled", "t", order_id, {"order_id": order_id, "reason": "r"})
    return Record("orders.inbound.v1", 0, 1, order_id.encode(), env.to_bytes())


def processor(sessions, flaky: FlakyDatabase, attempts: int) -> BatchProcessor:  # type: ignore[no-untyped-def]
    settings = ServiceSettings(
        retry_max_attempts=attempts, retry_backoff_base_s=0.01, retry_backoff_cap_s=0.02
    )
    return BatchProcessor(
        ConsumerGroup("g", ("orders.inbound.v1",), {"OrderCancelled": flaky.react}, Context),
        sessions,
        plumbing,
        settings,
    )


async def test_transient_failures_are_retried_until_they_pass(sessions) -> None:  # type: ignore[no-untyped-def]
    flaky = FlakyDatabase(failures=2)
    await processor(sessions, flaky, attempts=5).process([message("o-1")])
    assert flaky.applied == ["o-1"]


async def test_exhausted_retries_raise_so_the_batch_is_redelivered(sessions) -> None:  # type: ignore[no-untyped-def]
    flaky = FlakyDatabase(failures=3)
    p = processor(sessions, flaky, attempts=2)
    with pytest.raises(ConnectionResetError):
        await p.process([message("o-2")])  # the consumer nacks: the offset is not committed
    await p.process([message("o-2")])  # the redelivery
    assert flaky.applied == ["o-2"]
    async with sessions() as s:  # nothing was dead-lettered
        assert await s.scalar(text(f"SELECT count(*) FROM {SCHEMA}.outbox")) == 0
