"""The contact book: who to tell about an order, learnt from the order events.

A batch reads the contacts of all its orders in one query, changes them in memory as its
events are handled (an order's events stay in order within a lane) and writes the changed
ones back in one statement at the end: no round trip per ``order.created``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_notifications.base import SCHEMA
from looptrace_notifications.models import OrderContactRow
from looptrace_notifications.repository import record_of
from looptrace_shared.db import json_rows, text_array
from looptrace_shared.events import orders as ev


@dataclass(frozen=True, slots=True)
class Contact:
    order_id: str
    order_number: str
    buyer_id: str
    buyer_name: str
    buyer_email: str | None
    supplier_id: str | None = None
    supplier_name: str | None = None
    supplier_email: str | None = None
    completed_at: datetime | None = None


_TABLE = f"{SCHEMA}.order_contacts"
_FIELDS = tuple(Contact.__dataclass_fields__)


async def load_contacts(session: AsyncSession, ids: Iterable[str]) -> dict[str, Contact]:
    ids = list(set(ids))
    if not ids:
        return {}
    params: dict[str, Any] = {}
    among = text_array(params, "ids", ids)
    q = text(f"SELECT {', '.join(_FIELDS)} FROM {_TABLE} WHERE order_id = ANY({among})")
    return {r.order_id: Contact(*r) for r in await session.execute(q, params)}


def with_buyer(old: Contact | None, facts: ev.OrderFacts) -> Contact:
    """The order's number and buyer from ``facts``; its supplier and completion as they were."""
    b = facts.buyer
    buyer = {
        "order_number": facts.order_number,
        "buyer_id": b.id,
        "buyer_name": b.name,
        "buyer_email": str(b.email) if b.email else None,
    }
    if old is None:
        return Contact(order_id=facts.order_id, **buyer)
    return replace(old, **buyer)


def with_supplier(old: Contact | None, facts: ev.OrderSupplierAssigned) -> Contact:
    s = facts.supplier
    email = str(s.email) if s.email else None
    return replace(
        with_buyer(old, facts), supplier_id=s.id, supplier_name=s.name, supplier_email=email
    )


def completed(old: Contact, at: datetime) -> Contact:
    """The order completed: its messages become due for cold storage after retention."""
    return replace(old, completed_at=at)


async def save_contacts(session: AsyncSession, changed: Iterable[Contact]) -> None:
    """Every changed contact in one upsert (one row per order: the batch's last state)."""
    rows = [{f: getattr(c, f) for f in _FIELDS} for c in changed]
    if rows:
        await session.execute(_UPSERT, {"rows": json_rows(rows)})


_UPSERT = text(
    f"""
    INSERT INTO {_TABLE} ({", ".join(_FIELDS)}, updated_at)
    SELECT {", ".join(_FIELDS)}, now()
    FROM json_to_recordset(CAST(:rows AS json)) AS r({record_of(OrderContactRow.__table__, _FIELDS)})
    ON CONFLICT (order_id) DO UPDATE SET
    {", ".join(f"{f} = excluded.{f}" for f in _FIELDS[1:])}, updated_at = excluded.updated_at
    """
)
