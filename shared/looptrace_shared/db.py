"""Database plumbing: engines, the plumbing tables every service schema has, the unit of work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TextClause,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from looptrace_shared.envelope import Encoded, Envelope
from looptrace_shared.events import event_spec
from looptrace_shared.topics import dlq

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def service_metadata(schema: str) -> MetaData:
    return MetaData(schema=schema, naming_convention=NAMING)


@dataclass(frozen=True)
class Plumbing:
    """The outbox, inbox and parking tables of one service schema."""

    outbox: Table
    inbox: Table
    parked: Table

    @property
    def schema(self) -> str:
        return str(self.outbox.schema)


def plumbing_tables(metadata: MetaData) -> Plumbing:
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("topic", String(255), nullable=False),
        Column("key", LargeBinary, nullable=True),
        Column("value", LargeBinary, nullable=False),
        Column("headers", JSONB, nullable=False, server_default="{}"),
        Column("dedup_key", String(255), nullable=True, unique=True),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("consumer_group", String(255), primary_key=True),
        Column("event_id", String(64), primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    parked = Table(
        "parked_messages",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("consumer_group", String(255), nullable=False),
        Column("topic", String(255), nullable=False),
        Column("partition", Integer, nullable=False),
        Column("offset", BigInteger, nullable=False),
        Column("subject", String(255), nullable=False, index=True),
        Column("value", LargeBinary, nullable=False),
        Column("reason", Text, nullable=False),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Column("parked_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column(
            "next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()
        ),
    )
    return Plumbing(outbox, inbox, parked)


def make_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@dataclass
class DeadLetter:
    """A message that will not be processed: it goes to ``<topic>.dlq`` via the outbox."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    error: str
    rule: str
    consumer_group: str
    attempts: int = 1

    def headers(self) -> dict[str, str]:
        return {
            "error": self.error[:2000],
            "rule": self.rule,
            "original_topic": self.topic,
            "original_partition": str(self.partition),
            "original_offset": str(self.offset),
            "consumer_group": self.consumer_group,
            "attempts": str(self.attempts),
        }


E = TypeVar("E", Envelope, Encoded)


@dataclass
class UnitOfWork:
    """One database transaction: state changes + outbox rows (+ dead letters) commit together."""

    session: AsyncSession
    plumbing: Plumbing
    _outbox: list[dict[str, Any]] = field(default_factory=list)
    _dedup_rows: list[dict[str, Any]] = field(default_factory=list)
    on_commit: Callable[[], None] | None = None
    _after_commit: list[Callable[[], None]] = field(default_factory=list)

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` once this transaction has committed (never if it rolls back)."""
        self._after_commit.append(hook)

    def emit(self, envelope: E, topic: str | None = None) -> E:
        """Publish ``envelope`` (or its ``Encoded`` JSON) when this transaction commits."""
        value = envelope.value if isinstance(envelope, Encoded) else envelope.to_bytes()
        self._outbox.append(
            {
                "topic": topic or event_spec(envelope.type).topic,
                "key": envelope.key(),
                "value": value,
                "headers": {"type": envelope.type, "correlation_id": envelope.correlation_id or ""},
            }
        )
        return envelope

    def dead_letter(self, letter: DeadLetter) -> None:
        self._dedup_rows.append(
            {
                "topic": dlq(letter.topic),
                "key": letter.key,
                "value": letter.value,
                "headers": letter.headers(),
                "dedup_key": f"dlq:{letter.consumer_group}:{letter.topic}:{letter.partition}:{letter.offset}",
            }
        )

    @property
    def emitted(self) -> int:
        return len(self._outbox) + len(self._dedup_rows)

    async def flush_outbox(self) -> None:
        if self._outbox:
            params: dict[str, Any] = {}
            sql = _outbox_insert(self.plumbing, self._outbox, params)
            await self.session.execute(sql, params)
        if self._dedup_rows:
            stmt = pg_insert(self.plumbing.outbox).on_conflict_do_nothing(
                index_elements=["dedup_key"]
            )
            await self.session.execute(stmt, self._dedup_rows)

    async def commit(self) -> None:
        await self.flush_outbox()
        await self.session.commit()
        had_rows = self.emitted > 0
        self._outbox.clear()
        self._dedup_rows.clear()
        hooks, self._after_commit = self._after_commit, []
        for hook in hooks:
            hook()
        if had_rows and self.on_commit:
            self.on_commit()


def json_rows(rows: list[Any]) -> str:
    """Rows for ``json_to_recordset`` as one JSON text (orjson: dates, datetimes, Fragments).

    A batch's rows go to PostgreSQL as one parameter: asyncpg checks every element of an array
    parameter in Python, and a consumer's Python, not PostgreSQL, is what limits throughput.
    (For many narrow rows separate columns still win: see ``_outbox_insert``.)
    """
    return orjson.dumps(rows).decode()


UNIT = "\x1f"  # ASCII unit separator: JSON text never holds it (nor any control character) raw


def text_array(params: dict[str, Any], name: str, values: list[str]) -> str:
    """SQL for ``values`` as a ``text[]`` bound as ``:name``; its parameter goes in ``params``.

    One text joined by ``UNIT`` and split by ``string_to_array`` in PostgreSQL, unless a value
    holds the separator (then an array): asyncpg checks each element of an array parameter in
    Python (two ``isinstance`` checks against abstract classes for a string), for every
    value of every message a consumer batch binds.
    """
    joined = UNIT.join(values)
    if values and joined.count(UNIT) == len(values) - 1:
        params[name] = joined
        return f"string_to_array(CAST(:{name} AS text), E'\\x1f')"
    params[name] = values
    return f"CAST(:{name} AS text[])"


def _outbox_insert(
    plumbing: Plumbing, rows: list[dict[str, Any]], params: dict[str, Any]
) -> TextClause:
    """All rows in one statement, in the order they were emitted, from one parameter per column
    (``text_array``), not one JSON document: PostgreSQL unpacks that in a third of the time.
    Values are envelope JSON (UTF-8, see ``UNIT``); keys, which may hold anything, go as a
    bytea array; dead letters, whose values may be any bytes, go another way."""
    topics = text_array(params, "topics", [r["topic"] for r in rows])
    values = text_array(params, "values", [r["value"].decode() for r in rows])
    headers = text_array(params, "headers", [orjson.dumps(r["headers"]).decode() for r in rows])
    params["keys"] = [r["key"] for r in rows]
    return text(
        f"INSERT INTO {plumbing.outbox.fullname} (topic, key, value, headers)"
        " SELECT topic, key, convert_to(value, 'UTF8'), headers::jsonb"
        f" FROM unnest({topics}, CAST(:keys AS bytea[]), {values}, {headers})"
        " WITH ORDINALITY AS r(topic, key, value, headers, n) ORDER BY n"
    )
