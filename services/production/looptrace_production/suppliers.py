"""Suppliers as data: master data, capabilities, status and reported capacity (queries + rules).

A supplier's profile (``SupplierProfile``: contacts, categories with MOQ and lead time,
processes, certifications with expiry) is stored as JSON beside its name, country and status;
capacity rows are units per week per bucket (``category:<key>`` / ``process:<name>``) from an
effective date (to an optional last date). Categories must have a stage template; processes
must be ones production plans (``domain.capacity.PROCESSES``).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_production.domain.capacity import PROCESSES, category_bucket, process_bucket
from looptrace_production.models import SupplierCapacityRow, SupplierRow
from looptrace_production.rules import UnknownCategory
from looptrace_production.templates import Template, category_key
from looptrace_shared.errors import Conflict, NotFound, RuleViolation, StaleVersion
from looptrace_shared.events.suppliers import SupplierProfile


class UnknownProcess(RuleViolation):
    rule = "unknown_process"

    def __init__(self, process: str) -> None:
        super().__init__(f"unknown process {process!r}; use one of: {', '.join(PROCESSES)}")


class DuplicateEntry(RuleViolation):
    rule = "duplicate_entry"


class BadCapacity(RuleViolation):
    rule = "bad_capacity"


@dataclass(frozen=True)
class Supplier:
    supplier_id: str
    profile: SupplierProfile
    version: int
    updated_at: datetime | None

    @property
    def active(self) -> bool:
        return self.profile.status == "active"

    def category(self, category: str) -> Any:
        key = category_key(category)
        return next((c for c in self.profile.categories if category_key(c.category) == key), None)

    def expired_certifications(self, on: date) -> list[str]:
        return [c.name for c in self.profile.certifications if c.expires_on < on]


@dataclass(frozen=True)
class CapacityEntry:
    bucket: str
    units_per_week: int
    effective_from: date
    effective_to: date | None = None


def checked_profile(profile: SupplierProfile, templates: Mapping[str, Template]) -> SupplierProfile:
    """The profile with categories and processes normalised; unknown ones refused (422)."""
    seen: set[str] = set()
    categories = []
    for c in profile.categories:
        key = category_key(c.category)
        if key not in templates:
            raise UnknownCategory(c.category, templates)
        if key in seen:
            raise DuplicateEntry(f"category {c.category!r} is listed twice; list it once")
        seen.add(key)
        categories.append(c.model_copy(update={"category": key}))
    processes = []
    for p in profile.processes:
        name = p.strip().lower()
        if name not in PROCESSES:
            raise UnknownProcess(p)
        if name not in processes:
            processes.append(name)
    return profile.model_copy(update={"categories": categories, "processes": processes})


def _supplier(row: SupplierRow) -> Supplier:
    data = {**row.profile, "name": row.name, "country": row.country, "status": row.status}
    return Supplier(
        row.supplier_id, SupplierProfile.model_validate(data), row.version, row.updated_at
    )


def _values(profile: SupplierProfile) -> dict[str, Any]:
    extra = profile.model_dump(mode="json", exclude={"name", "country", "status"})
    return {
        "name": profile.name,
        "country": profile.country,
        "status": profile.status,
        "profile": extra,
    }


async def get(session: AsyncSession, supplier_id: str) -> Supplier | None:
    row = await session.get(SupplierRow, supplier_id)
    return _supplier(row) if row else None


async def get_many(session: AsyncSession, ids: Sequence[str]) -> dict[str, Supplier]:
    if not ids:
        return {}
    rows = await session.scalars(select(SupplierRow).where(SupplierRow.supplier_id.in_(set(ids))))
    return {r.supplier_id: _supplier(r) for r in rows}


async def existing(session: AsyncSession, supplier_id: str) -> Supplier:
    found = await get(session, supplier_id)
    if found is None:
        raise NotFound(f"no supplier {supplier_id}")
    return found


SUPPLIERS_KEPT = 10_000  # decoded profiles kept; with more suppliers, some are read per request
_DECODED: dict[str, Supplier] = {}  # by id, as last read (checked against the row version)


async def all_suppliers(session: AsyncSession, active_only: bool = False) -> list[Supplier]:
    """Every (active) supplier, by id; profiles already decoded at the same version are reused
    (``candidates`` reads them all on every request)."""
    q = select(SupplierRow.supplier_id, SupplierRow.version).order_by(SupplierRow.supplier_id)
    if active_only:
        q = q.where(SupplierRow.status == "active")
    versions = list(await session.execute(q))
    found = {r.supplier_id: s for r in versions if (s := _cached(r.supplier_id, r.version))}
    stale = [r.supplier_id for r in versions if r.supplier_id not in found]
    if stale:
        rows = await session.scalars(select(SupplierRow).where(SupplierRow.supplier_id.in_(stale)))
        read = {r.supplier_id: _supplier(r) for r in rows}
        found.update(read)
        keep_decoded(read)
    got = (found.get(r.supplier_id) for r in versions)
    return [
        s for s, r in zip(got, versions, strict=True) if s is not None and s.version == r.version
    ]


def keep_decoded(read: Mapping[str, Supplier]) -> None:
    """Remember decoded profiles, at most ``SUPPLIERS_KEPT``: when full, all are dropped (and
    read from the database again when next asked for)."""
    if len(_DECODED) + len(read) > SUPPLIERS_KEPT:
        _DECODED.clear()
    _DECODED.update(itertools.islice(read.items(), SUPPLIERS_KEPT))


def _cached(supplier_id: str, version: int) -> Supplier | None:
    found = _DECODED.get(supplier_id)
    return found if found is not None and found.version == version else None


async def create(session: AsyncSession, supplier_id: str, profile: SupplierProfile) -> Supplier:
    stmt = (
        insert(SupplierRow)
        .values(supplier_id=supplier_id, version=1, **_values(profile))
        .on_conflict_do_nothing(index_elements=[SupplierRow.supplier_id])
        .returning(SupplierRow.version)
    )
    if (await session.execute(stmt)).first() is None:
        raise Conflict(f"supplier {supplier_id} exists already; change it with PUT")
    return await existing(session, supplier_id)


async def replace(
    session: AsyncSession, supplier_id: str, profile: SupplierProfile, seen: int | None = None
) -> Supplier:
    """Replace the profile (``seen``: the version the caller read, else any); 404 / 412."""
    row = await session.get(SupplierRow, supplier_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no supplier {supplier_id}")
    if seen is not None and seen != row.version:
        raise StaleVersion(
            f"supplier {supplier_id} is at version {row.version}, not {seen}; reload and retry"
        )
    for key, value in _values(profile).items():
        setattr(row, key, value)
    row.version, row.updated_at = row.version + 1, func.now()
    await session.flush()
    await session.refresh(row)
    return _supplier(row)


async def register(session: AsyncSession, names: Mapping[str, str | None]) -> None:
    """Suppliers first met in assignments: recorded with their names only (no capabilities
    yet), unless known already. One statement."""
    if not names:
        return
    rows = [
        {"supplier_id": s, "version": 1, **_values(SupplierProfile(name=(n or s)[:200]))}
        for s, n in sorted(names.items())
    ]
    stmt = insert(SupplierRow).values(rows).on_conflict_do_nothing(index_elements=["supplier_id"])
    await session.execute(stmt)


async def upsert(session: AsyncSession, supplier_id: str, profile: SupplierProfile) -> None:
    """Create or replace (upstream master data: the newest record wins)."""
    values = _values(profile)
    stmt = (
        insert(SupplierRow)
        .values(supplier_id=supplier_id, version=1, **values)
        .on_conflict_do_update(
            index_elements=[SupplierRow.supplier_id],
            set_={**values, "version": SupplierRow.version + 1, "updated_at": func.now()},
        )
    )
    await session.execute(stmt)


def bucket_of(category: str | None, process: str | None, templates: Mapping[str, Template]) -> str:
    if (category is None) == (process is None):
        raise BadCapacity("give either category or process for each capacity entry, not both")
    if category is not None:
        if category_key(category) not in templates:
            raise UnknownCategory(category, templates)
        return category_bucket(category)
    name = (process or "").strip().lower()
    if name not in PROCESSES:
        raise UnknownProcess(name)
    return process_bucket(name)


async def store_capacity(
    session: AsyncSession, supplier_id: str, entries: Sequence[CapacityEntry]
) -> None:
    """Add or replace (same bucket and effective date) the entries, in one statement."""
    for e in entries:
        if e.effective_to is not None and e.effective_to < e.effective_from:
            raise BadCapacity(
                f"{e.bucket}: effective_to {e.effective_to} is before effective_from "
                f"{e.effective_from}; send a later date or none"
            )
    keys = [(e.bucket, e.effective_from) for e in entries]
    if len(set(keys)) != len(keys):
        raise DuplicateEntry("two capacity entries share a bucket and effective_from; send one")
    rows = [{"supplier_id": supplier_id, **e.__dict__} for e in entries]
    stmt = insert(SupplierCapacityRow).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=["supplier_id", "bucket", "effective_from"],
        set_={
            "units_per_week": stmt.excluded.units_per_week,
            "effective_to": stmt.excluded.effective_to,
            "reported_at": func.now(),
        },
    )
    await session.execute(stmt)


async def capacity_of(session: AsyncSession, supplier_id: str) -> list[SupplierCapacityRow]:
    q = (
        select(SupplierCapacityRow)
        .where(SupplierCapacityRow.supplier_id == supplier_id)
        .order_by(SupplierCapacityRow.bucket, SupplierCapacityRow.effective_from)
    )
    return list(await session.scalars(q))
