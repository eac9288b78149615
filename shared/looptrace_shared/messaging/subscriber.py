"""The batch subscriber every consumer group runs on: FastStream's, without its idle sleep.

FastStream 0.7's ``BatchSubscriber.get_msg`` calls ``getmany(timeout_ms=batch_timeout_ms)``
and, when that found nothing, sleeps ``batch_timeout_ms`` more before the next ``getmany``. A
record that reaches a quiet consumer during that sleep waits for it: up to 100 ms at every
hop of the pipeline (report → production → its event → predictions → the alert). aiokafka's
``getmany`` already waits up to its timeout for a record and returns as soon as one has been
fetched (its fetcher prefetches in the background), and it returns empty only once that
timeout has passed: without the sleep an idle consumer still wakes once per
``batch_timeout_ms`` (no busy loop), and a record is handed to the batch as soon as it is
fetched.
"""

from __future__ import annotations

from itertools import chain
from typing import TYPE_CHECKING, Any

from faststream.kafka.subscriber.usecase import BatchSubscriber

if TYPE_CHECKING:
    from aiokafka import AIOKafkaConsumer, ConsumerRecord


class FetchWaitingBatchSubscriber(BatchSubscriber):
    """``BatchSubscriber`` whose loop waits on the fetch only (the same slots: see ``waiting``)."""

    __slots__ = ()

    async def get_msg(self, consumer: AIOKafkaConsumer) -> tuple[ConsumerRecord[Any, Any], ...]:
        messages = await consumer.getmany(
            timeout_ms=self.batch_timeout_ms, max_records=self.max_records
        )
        return tuple(chain(*messages.values()))


def waiting_on_the_fetch(subscriber: Any) -> Any:
    """``subscriber`` (what ``broker.subscriber(..., batch=True)`` made) as a
    ``FetchWaitingBatchSubscriber``: FastStream builds the subscriber itself, so the class of
    the object it made is changed (the subclass adds no state)."""
    if not isinstance(subscriber, BatchSubscriber):
        raise TypeError(f"a batch subscriber was expected, got {type(subscriber).__name__}")
    subscriber.__class__ = FetchWaitingBatchSubscriber
    return subscriber
