"""A parked message that Kafka delivers again (the consumer stopped before committing its
offsets, or a commit's answer was lost and the batch was retried): the types this consumer
reacts to skip the inbox, so the repeat reaches the parking again. It must not leave a row
behind once its order is known. Real PostgreSQL, the real SMTP server, two lanes."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from looptrace_notifications.handlers import consumer_group
from looptrace_notifications.models import plumbing
from looptrace_shared.messaging.consumer import BatchProcessor

pytestmark = pytest.mark.integration


@pytest.fixture
def lanes(runtime):  # type: ignore[no-untyped-def]
    s = runtime.settings.model_copy(update={"kafka_batch_lanes": 2})
    return BatchProcessor(consumer_group(s), runtime.sessions, plumbing, s)


async def parked(runtime) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    async with runtime.sessions() as s:
        q = text('select topic, "offset" from notifications.parked_messages order by id')
        return [(r.topic, r.offset) for r in await s.execute(q)]


async def test_a_parked_message_delivered_twice_is_parked_once_and_settled(
    runtime, lanes, smtp, story, mailer_drain
):  # type: ignore[no-untyped-def]
    server, _ = smtp
    o, other = story(), story("other@buyer.example")
    other.offset = 1000  # records of one topic and partition: offsets of their own
    early = o.records(o.qc_passed())  # before its order: it waits
    await lanes.process(early + other.records(other.created()))
    await lanes.process(early)  # the same record again, as after a crash before the offsets
    assert await parked(runtime) == [("orders.events.v1", early[0].offset)]

    await lanes.process(o.records(o.created()))  # the order: the parked one is retried
    assert await parked(runtime) == []
    await lanes.retry_parked()  # the periodic retry finds nothing left to do
    await mailer_drain(runtime)
    subjects = sorted(m["Subject"] for m in server.to("buyer@nordic.example"))
    assert len(subjects) == 2 and any("passed" in s for s in subjects), subjects
    assert len(server.to("other@buyer.example")) == 1


async def test_rows_already_parked_twice_are_all_settled(runtime, lanes, story):  # type: ignore[no-untyped-def]
    """Two rows for one message (two consumers of a rebalance parking it at once): both go
    when it is handled; none is left to be retried forever."""
    o = story()
    early = o.records(o.qc_passed())
    await lanes.process(early)
    async with runtime.sessions() as s:
        await s.execute(
            text(
                "insert into notifications.parked_messages"
                ' (consumer_group, topic, partition, "offset", subject, value, reason)'
                ' select consumer_group, topic, partition, "offset", subject, value, reason'
                " from notifications.parked_messages"
            )
        )
        await s.commit()
    assert len(await parked(runtime)) == 2
    await lanes.process(o.records(o.created()))
    assert await parked(runtime) == []
    assert await lanes.retry_parked() == 0
