"""Cold storage of a service's schema: an archive schema whose tables have the columns, keys and
indexes of some live tables, and the move of an order's rows from the one to the other.

A move is one transaction per batch of orders: copy every row (parents first), then delete the
live rows (children first). An interrupted run leaves each batch either moved or untouched and
a rerun picks up what is left; the copy skips rows already archived (``ON CONFLICT DO
NOTHING``), so nothing is ever duplicated. Reads that must answer the same for an archived
order read ``both``: the live rows and the archived ones as one table (``UNION ALL``; a row is
never in both, since its copy and its delete commit together).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    MetaData,
    Select,
    String,
    Table,
    delete,
    func,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from looptrace_shared.db import make_engine
from looptrace_shared.retention import Report, cutoff_for

log = logging.getLogger(__name__)

#: the rows of one live table that belong to the orders ``ids`` (a list, or a SELECT of ids)
RowsOf = Callable[[Any], ColumnElement[bool]]
#: the ids of the orders due before a cutoff whose key sorts after the second argument
Due = Callable[[datetime, str], Select[Any]]
OnBatch = Callable[[list[str]], Awaitable[None]]


def by_order(table: Table) -> RowsOf:
    return lambda ids: table.c.order_id.in_(ids)


class ColdStore:
    """The archive ``schema`` of the live tables ``moved``, parents first; each table with the
    rule that picks an order's rows (by default its ``order_id`` column)."""

    def __init__(self, schema: str, moved: Sequence[Table | tuple[Table, RowsOf]]) -> None:
        self.schema = schema
        metadata = MetaData(schema=schema)
        self.live: dict[str, Table] = {}
        self.cold: dict[str, Table] = {}
        self._rows_of: dict[str, RowsOf] = {}
        for entry in moved:
            table, rows_of = entry if isinstance(entry, tuple) else (entry, by_order(entry))
            self.live[table.name] = table
            self.cold[table.name] = table.to_metadata(metadata, schema=schema)
            self._rows_of[table.name] = rows_of

    def rows_of(self, name: str, ids: Any) -> ColumnElement[bool]:
        return self._rows_of[name](ids)

    def both(self, name: str) -> Any:
        """The live and the archived rows of one table, as one subquery of its columns."""
        live, cold = self.live[name], self.cold[name]
        return union_all(select(*live.c), select(*cold.c)).subquery(f"{name}_all")

    def readable(self, entity: type[Any]) -> Any:
        """The mapped class ``entity`` over ``both`` its tables (for reads only)."""
        return aliased(entity, self.both(entity.__tablename__))

    async def count(self, conn: AsyncConnection, ids: Any) -> dict[str, int]:
        counts = {}
        for name, table in self.live.items():
            q = select(func.count()).select_from(table).where(self.rows_of(name, ids))
            counts[name] = int((await conn.execute(q)).scalar_one())
        return counts

    async def move(self, conn: AsyncConnection, ids: list[str]) -> dict[str, int]:
        moved = {}
        for name, live in self.live.items():
            source = select(*live.c).where(self.rows_of(name, ids))
            copy = pg_insert(self.cold[name]).from_select([c.name for c in live.columns], source)
            moved[name] = (await conn.execute(copy.on_conflict_do_nothing())).rowcount
        for name, live in reversed(self.live.items()):
            await conn.execute(delete(live).where(self.rows_of(name, ids)))
        return moved

    async def _count_due(self, engine: AsyncEngine, report: Report, due: Due) -> Report:
        async with engine.connect() as conn:
            ids = due(report.cutoff, "")
            report.rows = await self.count(conn, ids)
            total = select(func.count()).select_from(ids.subquery())
            report.orders = int((await conn.execute(total)).scalar_one())
        return report

    async def run(
        self,
        engine: AsyncEngine,
        report: Report,
        due: Due,
        batch: int,
        on_batch: OnBatch | None = None,
    ) -> Report:
        """Move (or, for a dry report, count) every order ``due`` before the report's cutoff,
        ``batch`` orders a transaction in key order; ``on_batch`` is called inside each
        batch's transaction after the copy and before the commit (tests interrupt runs there)."""
        if report.dry_run:
            return await self._count_due(engine, report, due)
        last = ""
        while True:
            async with engine.begin() as conn:
                q = due(report.cutoff, last)
                key = q.selected_columns[0]
                q = q.order_by(key).limit(batch).with_for_update(skip_locked=True)
                ids = list((await conn.execute(q)).scalars())
                if not ids:
                    return report
                report.add(await self.move(conn, ids))
                if on_batch is not None:
                    await on_batch(ids)
            report.orders += len(ids)
            last = ids[-1]


@dataclass(frozen=True)
class Retention:
    """A service's retention: its cold store, which orders are ``due``, its settings type;
    ``run`` it, schedule it (``scheduled``) or hand it to ``looptrace retention run``
    (``command``: an entry point of the ``looptrace.retention`` group)."""

    service: str
    store: ColdStore
    due: Due
    load_settings: Callable[..., Any]

    async def run(
        self,
        engine: AsyncEngine,
        settings: Any,
        dry_run: bool = False,
        on_batch: OnBatch | None = None,
    ) -> Report:
        """Move (or count, dry) every order due (``ColdStore.run``)."""
        report = Report(self.service, dry_run, cutoff_for(settings.retention_years))
        return await self.store.run(engine, report, self.due, settings.retention_batch, on_batch)

    async def scheduled(self, rt: Any) -> None:
        """The periodic job: the runtime's engine and settings."""
        for line in (await self.run(rt.engine, rt.settings)).lines():
            log.info("retention: %s", line)

    async def command(self, dry_run: bool) -> list[str]:
        """Its part of ``looptrace retention run``: settings from the environment, one
        connection."""
        settings = self.load_settings()
        engine = make_engine(settings.database_url, pool_size=1)
        try:
            return (await self.run(engine, settings, dry_run)).lines()
        finally:
            await engine.dispose()


def completed_before(completions: Table) -> Due:
    """The orders whose completion (``completions_table``) is older than the cutoff."""

    def due(cutoff: datetime, after: str = "") -> Select[Any]:
        c = completions.c
        return select(c.order_id).where(c.completed_at < cutoff, c.order_id > after)

    return due


def periodic(settings: Any, job: Callable[[Any], Awaitable[None]]) -> list[Any]:
    """The service's retention job every ``RETENTION_INTERVAL_S`` (none when 0)."""
    every = settings.retention_interval_s
    return [(every, job)] if every else []


def completions_table(metadata: MetaData) -> Table:
    """When orders said each order completed (``order.status_changed`` to completed): what a
    service that keeps no order status of its own decides retention by."""
    return Table(
        "order_completions",
        metadata,
        Column("order_id", String(64), primary_key=True),
        Column("completed_at", DateTime(timezone=True), nullable=False, index=True),
    )


async def note_completion(session: AsyncSession, table: Table, order_id: str, at: datetime) -> None:
    """Remember the order's completion (a repeat of the event keeps the first time)."""
    stmt = pg_insert(table).values(order_id=order_id, completed_at=at)
    await session.execute(stmt.on_conflict_do_nothing(index_elements=["order_id"]))


def noting_completions(table: Table) -> Callable[[Any, Any], Awaitable[None]]:
    """The reaction to ``order.status_changed`` of a service that decides retention by orders'
    completion: the order's records become due ``RETENTION_YEARS`` after it."""

    async def when_order_completed_note_it(ctx: Any, item: Any) -> None:
        if item.data.to_status == "completed":
            await note_completion(ctx.uow.session, table, item.subject, item.envelope.time)

    return when_order_completed_note_it
