"""The running system for the e2e and invariant tests: five service processes against the real
broker and PostgreSQL, and a real SMTP server (aiosmtpd) started by the test (one per session)."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiosmtpd.controller import Controller

from looptrace_shared.auth import mint_token
from looptrace_shared.contracts.records import RecordChecker
from looptrace_shared.embedded import free_port, start_tansu
from looptrace_shared.settings import DEV_JWT_SECRET
from looptrace_shared.system import SERVICES, System
from looptrace_shared.testing import Infra, scratch_database

PARKING_TIMEOUT_S = 4

ROOT = Path(__file__).resolve().parents[1]


class Inbox:
    """A real SMTP server that keeps what it receives."""

    def __init__(self) -> None:
        self.mails: list[dict[str, Any]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        msg = message_from_bytes(envelope.content)
        texts = [p for p in msg.walk() if p.get_content_type() == "text/plain"]
        body = texts[0].get_payload(decode=True).decode() if texts else ""
        self.mails.append(
            {
                "to": list(envelope.rcpt_tos),
                "subject": str(msg["Subject"]),
                "headers": dict(msg.items()),
                "body": body,
            }
        )
        return "250 OK"

    def to(self, address: str) -> list[dict[str, Any]]:
        return [m for m in self.mails if address in m["to"]]


@pytest.fixture(scope="session")
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture(scope="session")
def system_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A broker of the system's own: its topics hold only the system tests' traffic. On the
    session's broker the five consumer groups would first work through every message the
    services' integration tests left there (seen: predictions more than 45 s behind)."""
    log = Path(tmp_path_factory.mktemp("system-broker")) / "tansu.log"
    proc = start_tansu(log=log, die_with_parent=True)
    try:
        yield proc.address
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def system(
    infra: Infra,
    system_broker: str,
    smtp: tuple[Inbox, int],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[System]:
    home = Path(tmp_path_factory.mktemp("system"))
    with scratch_database(infra.server_url, "looptrace_e2e") as url:
        env = {
            "DATABASE_URL": url,
            "KAFKA_BOOTSTRAP_SERVERS": system_broker,
            "KAFKA_SESSION_TIMEOUT_MS": "2000",
            "KAFKA_HEARTBEAT_INTERVAL_MS": "500",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp[1]),
            "SMTP_STARTTLS": "false",
            "PARKING_TIMEOUT_S": str(PARKING_TIMEOUT_S),
            "PARKING_RETRY_S": "0.5",
            "JWT_SECRET": DEV_JWT_SECRET,
            "LOG_LEVEL": "INFO",
        }
        sys_ = System(home, env=env)
        sys_.ports = {name: free_port() for name in SERVICES}
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            sys_.start_services(log_dir=home / "logs")
            sys_.wait_healthy(180)  # a loaded machine starts five processes slowly
            yield sys_
        finally:
            sys_.stop()
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            print(f"service logs in {home / 'logs'}")


def admin_token() -> str:
    return mint_token(DEV_JWT_SECRET, "admin", "ops-1")


def envelope(type_: str, subject: str, data: dict[str, Any], source: str = "e2e-upstream") -> bytes:
    """Built by hand, the way an outside system would — not with the project's helpers."""
    return json.dumps(
        {
            "id": str(uuid.uuid4()),
            "type": type_,
            "source": source,
            "time": "2026-11-21T10:00:00Z",
            "subject": subject,
            "schema_version": "1",
            "correlation_id": f"corr-{subject}",
            "data": data,
        }
    ).encode()


class ContractLog:
    """Every record a test publishes or consumes, checked against asyncapi.json at its end
    (consumed records only when they are about the test's own orders: their key was sent)."""

    def __init__(self) -> None:
        self.records: list[tuple[str, bytes, dict[str, str], bytes | None]] = []
        self.keys: set[bytes] = set()

    def problems(self) -> list[str]:
        checker = RecordChecker(json.loads((ROOT / "asyncapi.json").read_text()))
        return [
            p
            for topic, value, headers, key in self.records
            if key in self.keys
            for p in checker.problems(topic, value, headers, key)
        ]


@pytest.fixture
def contract() -> Iterator[ContractLog]:
    log = ContractLog()
    yield log
    problems = log.problems()
    assert not problems, f"records that do not match asyncapi.json: {problems}"


class RecordingProducer:
    """The test's producer: what it sends is logged for the contract check."""

    def __init__(self, producer: AIOKafkaProducer, log: ContractLog) -> None:
        self.producer, self.log = producer, log

    async def send_and_wait(self, topic: str, value: bytes, key: bytes | None = None) -> Any:
        self.log.records.append((topic, value, {}, key))
        self.log.keys.add(key)  # type: ignore[arg-type]
        return await self.producer.send_and_wait(topic, value, key=key)

    async def send_off_contract_and_wait(self, topic: str, value: bytes, key: bytes) -> Any:
        """A record that breaks the contract on purpose (malformed, or keyed by another order's
        id to share its partition): not checked."""
        self.log.keys.add(key)
        return await self.producer.send_and_wait(topic, value, key=key)


@pytest.fixture
async def producer(system: System, contract: ContractLog) -> AsyncIterator[RecordingProducer]:
    p = AIOKafkaProducer(bootstrap_servers=system.env["KAFKA_BOOTSTRAP_SERVERS"], acks="all")
    await p.start()
    yield RecordingProducer(p, contract)
    await p.stop()


class Topic:
    """Reads a topic from the beginning (no consumer group) and keeps everything seen."""

    def __init__(self, bootstrap: str, name: str, log: ContractLog | None = None) -> None:
        self.consumer = AIOKafkaConsumer(
            name, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
        )
        self.seen: list[tuple[dict[str, str], dict[str, Any] | bytes]] = []
        self.log = log

    async def poll(self) -> None:
        batch = await self.consumer.getmany(timeout_ms=200)
        for records in batch.values():
            for r in records:
                headers = {k: v.decode() for k, v in (r.headers or [])}
                if self.log is not None:
                    self.log.records.append((r.topic, r.value, headers, r.key))
                try:
                    value: Any = json.loads(r.value)
                except ValueError:
                    value = r.value
                self.seen.append((headers, value))

    async def wait_for(self, predicate: Any, timeout: float = 30, what: str = "message") -> Any:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            for headers, value in self.seen:
                if predicate(headers, value):
                    return headers, value
            await self.poll()
        raise AssertionError(f"timed out waiting for {what}; saw {len(self.seen)} messages")


@pytest.fixture
async def topics(system: System, contract: ContractLog) -> AsyncIterator[Any]:
    opened: dict[str, Topic] = {}

    async def open_(name: str) -> Topic:
        if name not in opened:
            t = Topic(system.env["KAFKA_BOOTSTRAP_SERVERS"], name, contract)
            await t.consumer.start()
            opened[name] = t
        return opened[name]

    yield open_
    for t in opened.values():
        await t.poll()  # what has arrived by now is consumed, and so checked, too
        await t.consumer.stop()
