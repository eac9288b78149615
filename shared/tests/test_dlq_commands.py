"""`looptrace dlq list` and `looptrace dlq replay` against the real broker."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from click.testing import CliRunner

from looptrace_shared.cli import main
from looptrace_shared.messaging.kafka import ensure_topics
from looptrace_shared.settings import ServiceSettings

pytestmark = pytest.mark.integration


async def dead_letter(kafka_bootstrap: str, topic: str) -> None:
    settings = ServiceSettings(kafka_bootstrap_servers=kafka_bootstrap, kafka_partitions=1)
    await ensure_topics(settings, [topic, f"{topic}.dlq"])
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    headers = [
        ("error", b"malformed json: Invalid JSON"),
        ("rule", b"malformed_json"),
        ("original_topic", topic.encode()),
        ("original_offset", b"7"),
    ]
    await producer.send_and_wait(f"{topic}.dlq", b'{"oops', key=b"o-1", headers=headers)
    await producer.stop()


async def read_back(kafka_bootstrap: str, topic: str) -> list:  # type: ignore[type-arg]
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    records: list = []  # type: ignore[type-arg]
    try:
        for _ in range(20):
            batch = await consumer.getmany(timeout_ms=500)
            records += [r for rs in batch.values() for r in rs]
            if records:
                break
    finally:
        await consumer.stop()
    return records


def test_list_and_replay_dead_letters(
    kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    topic = f"probe{uuid.uuid4().hex[:6]}.inbound.v1"
    asyncio.run(dead_letter(kafka_bootstrap, topic))

    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    runner = CliRunner()
    listed = runner.invoke(main, ["dlq", "list", topic])
    assert listed.exit_code == 0, listed.output
    letter = json.loads(listed.output.strip().splitlines()[0])
    assert letter["headers"]["rule"] == "malformed_json" and letter["value"] == '{"oops'

    replayed = runner.invoke(main, ["dlq", "replay", f"{topic}.dlq"])
    assert replayed.exit_code == 0 and f"replayed 1 message(s) to {topic}" in replayed.output
    records = asyncio.run(read_back(kafka_bootstrap, topic))
    assert [r.value for r in records] == [b'{"oops']
    assert dict(records[0].headers)["replayed_from"] == f"{topic}.dlq".encode()
