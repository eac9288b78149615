"""The orders a consumed batch works on, read and written as sets.

One query loads every order the batch names; at the end of the batch (or before a use case
writes a row that refers to an order, see ``OrdersContext.flush``) one INSERT adds the new
orders, one UPDATE writes the changed ones (each checked against the version it was read at)
and one INSERT adds the status history, in the order it was recorded, however many messages
the batch holds. The ORM session keeps serving the HTTP routes, which change one order, and
the batch's other rows (shipments, quotes, invoices).

The orders are ``OrderRow`` instances no session tracks: the use cases are the same for both
paths, and the ORM's bookkeeping per attribute is of no use to a row written this way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, cast

import orjson
from sqlalchemy import CursorResult, Table, text
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import configure_mappers, instrumentation
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from looptrace_orders import archive
from looptrace_orders.models import OrderRow, StatusHistoryRow
from looptrace_shared.db import json_rows, text_array
from looptrace_shared.errors import Conflict

ORDERS = cast(Table, OrderRow.__table__)
HISTORY = cast(Table, StatusHistoryRow.__table__)
COLUMNS = tuple(c.name for c in ORDERS.c)
# kept by the database: the row's times, and the version the UPDATE moves on
_SERVER_SIDE = frozenset({"created_at", "updated_at", "version"})
_WRITTEN = tuple(c for c in COLUMNS if c not in _SERVER_SIDE)
configure_mappers()  # the attributes' loaders exist before a row is built without the ORM
_MANAGER = instrumentation.manager_of_class(OrderRow)
_DEFAULTS = {
    c.name: c.default.arg
    for c in ORDERS.c
    if isinstance(c.default, ScalarElementColumnDefault) and c.name not in _SERVER_SIDE
}


class ConcurrentUpdate(Conflict):
    rule = "concurrent_update"


def _recordset(table: Any, names: Sequence[str]) -> str:
    """``json_to_recordset``'s column list for these columns of ``table``."""
    dialect = PGDialect()  # type: ignore[no-untyped-call]  # (its __init__ is not annotated)
    return ", ".join(f"{n} {table.c[n].type.compile(dialect=dialect)}" for n in names)


_NAMES = ", ".join(_WRITTEN)
_INSERT = text(
    f"INSERT INTO {ORDERS.fullname} ({_NAMES}, version)"
    f" SELECT {_NAMES}, 1 FROM json_to_recordset(CAST(:rows AS json))"
    f" AS r({_recordset(ORDERS, _WRITTEN)})"
)
_SET = ", ".join(f"{n} = r.{n}" for n in _WRITTEN if n != "id")
_UPDATE = text(
    f"UPDATE {ORDERS.fullname} AS o SET {_SET}, version = o.version + 1, updated_at = now()"
    f" FROM json_to_recordset(CAST(:rows AS json))"
    f" AS r({_recordset(ORDERS, (*_WRITTEN, 'version'))})"
    " WHERE o.id = r.id AND o.version = r.version"
)
_HISTORY_COLUMNS = ("order_id", "from_status", "to_status", "cause", "reason", "at")
_HISTORY_NAMES = ", ".join(_HISTORY_COLUMNS)
_ADD_HISTORY = text(
    f"INSERT INTO {HISTORY.fullname} ({_HISTORY_NAMES}) SELECT {_HISTORY_NAMES}"
    f" FROM ROWS FROM (json_to_recordset(CAST(:rows AS json))"
    f" AS ({_recordset(HISTORY, _HISTORY_COLUMNS)}))"
    f" WITH ORDINALITY AS r({_HISTORY_NAMES}, n) ORDER BY n"
)


def detached(values: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> OrderRow:
    """An ``OrderRow`` holding ``values`` (every column: those not given are None), in no
    session (this module writes it)."""
    order: OrderRow = _MANAGER.new_instance()
    order.__dict__.update(_NONE)
    order.__dict__.update(values)
    return order


_NONE = dict.fromkeys(COLUMNS)
_ALL = itemgetter(*COLUMNS)
_INSERTED = itemgetter(*_WRITTEN)
_UPDATED = itemgetter(*_WRITTEN, "version")
_UPDATED_NAMES = (*_WRITTEN, "version")


def _snapshot(order: OrderRow) -> tuple[Any, ...]:
    values = order.__dict__
    # the gate's inspections (a list) also as a copy: a change made in place still shows
    inspections = values["qc_passed_inspections"]
    seen: tuple[Any, ...] = _ALL(values)
    return seen if inspections is None else (*seen, tuple(inspections))


def _rows(orders: Iterable[OrderRow], get: itemgetter[Any], names: Sequence[str]) -> str:
    """The orders' columns as ``json_to_recordset`` rows (amounts as their text)."""
    rows = [dict(zip(names, get(o.__dict__), strict=True)) for o in orders]
    return orjson.dumps(rows, default=str).decode()


@dataclass
class BatchStore:
    """The orders of one batch: as read (to find what changed), new, and the history to add."""

    read: dict[str, tuple[OrderRow, tuple[Any, ...]]] = field(default_factory=dict)
    new: dict[str, OrderRow] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)

    async def load(self, session: AsyncSession, refs: Sequence[str]) -> list[OrderRow]:
        """Every order whose id or order number is one of ``refs``, live or archived (an
        archived one is never written)."""
        refs = list(set(refs))
        if not refs:
            return []
        params: dict[str, Any] = {}
        among = text_array(params, "refs", refs)
        # locked (in id order: two lanes never wait on each other crosswise) so that no HTTP
        # route changes them between this read and the batch's UPDATE
        q = text(
            f"SELECT {', '.join(COLUMNS)} FROM {ORDERS.fullname}"
            f" WHERE id = ANY({among}) OR order_number = ANY({among}) ORDER BY id FOR UPDATE"
        ).columns(*ORDERS.c)
        live = [
            detached(cast(Mapping[str, Any], r._mapping)) for r in await session.execute(q, params)
        ]
        for order in live:
            self.read[order.id] = (order, _snapshot(order))
        found = {o.id for o in live} | {o.order_number for o in live}
        rest = [r for r in refs if r not in found]
        return live + (await archive.archived_orders(session, rest) if rest else [])

    def add(self, values: Mapping[str, Any]) -> OrderRow:
        """A new order; the columns not given take their defaults, as the ORM's would."""
        order = detached({**_DEFAULTS, **values})
        self.new[order.id] = order
        return order

    def add_history(
        self, order_id: str, from_: str | None, to: str, cause: str, reason: str | None
    ) -> None:
        self.history.append(
            {
                "order_id": order_id,
                "from_status": from_,
                "to_status": to,
                "cause": cause[:200],
                "reason": reason,
                "at": datetime.now(UTC),
            }
        )

    async def write(self, session: AsyncSession) -> None:
        """What the batch changed so far, in three statements at most."""
        if self.new:
            rows = _rows(self.new.values(), _INSERTED, _WRITTEN)
            await session.execute(_INSERT, {"rows": rows})
            for order in self.new.values():
                order.__dict__["version"] = 1
                self.read[order.id] = (order, _snapshot(order))
            self.new.clear()
        changed = [o for o, seen in self.read.values() if _snapshot(o) != seen]
        if changed:
            await self._update(session, changed)
        if self.history:
            await session.execute(_ADD_HISTORY, {"rows": json_rows(self.history)})
            self.history.clear()

    async def _update(self, session: AsyncSession, changed: list[OrderRow]) -> None:
        rows = _rows(changed, _UPDATED, _UPDATED_NAMES)
        result = cast(CursorResult[Any], await session.execute(_UPDATE, {"rows": rows}))
        if result.rowcount != len(changed):  # someone else (an HTTP route) changed one meanwhile
            raise ConcurrentUpdate(
                f"{len(changed) - result.rowcount} of {len(changed)} orders were changed "
                "by someone else meanwhile; retry"
            )
        for order in changed:
            order.__dict__["version"] = order.version + 1
            self.read[order.id] = (order, _snapshot(order))
