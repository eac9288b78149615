"""Use cases of the production service. The same functions serve Kafka handlers and HTTP routes.

A ``ProductionContext`` is one batch (or one request): the unit of work, the supplier orders
locked for it, the progress-log rows to write. ``preload`` loads what a batch of facts needs
(the consumer's and ``POST /v1/progress``'s); ``save()`` writes them all at the end.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from looptrace_production import repository as repo
from looptrace_production import supplier_calendars as calendar_repo
from looptrace_production import suppliers as supplier_store
from looptrace_production import utilisation
from looptrace_production.calendar import WorkCalendar
from looptrace_production.domain import ProgressReport, SupplierOrder
from looptrace_production.domain.supplier_order import CLOSING, Closure
from looptrace_production.events import DomainEvent, ProductionCompleted, SupplierReassigned
from looptrace_production.outgoing import WIRE, wire_envelope
from looptrace_production.plan_cache import PlanCache
from looptrace_production.plan_cache import lock_orders as lock_cached_orders
from looptrace_production.planning import Planning as Planning  # the use cases' import
from looptrace_production.qc_gate import InspectionStatus
from looptrace_production.rules import OrderCancelled, OrderClosed
from looptrace_production.schedule import plan_stages, template_for
from looptrace_production.supplier_calendars import SupplierCalendar
from looptrace_shared.db import UnitOfWork
from looptrace_shared.envelope import Emitted, cause_ids
from looptrace_shared.errors import StaleVersion, WaitingFor
from looptrace_shared.events import orders as order_events
from looptrace_shared.events import production as wire
from looptrace_shared.events import quality as quality_events
from looptrace_shared.events import suppliers as supplier_events
from looptrace_shared.events.registry import Payload
from looptrace_shared.messaging.dispatch import HANDLED, Cause, Context

SOURCE = "production"


@dataclass
class ProgressResult:
    message_id: str
    order_id: str
    stage_number: int
    stage_name: str
    status: str
    percentage: float
    duplicate: bool
    events: list[str]


@dataclass(frozen=True, slots=True)
class Fact:
    """A message as the use cases take it, from Kafka or HTTP: its payload, the order it is
    about when the payload may not say (Kafka's key; none over HTTP), and its message id."""

    data: Any
    subject: str | None = None
    message_id: str | None = None


@dataclass
class ProductionContext(Context):
    """One batch or one request: the plans locked for it, the progress-log rows to write."""

    SOURCE = SOURCE

    planning: Planning
    orders: dict[str, SupplierOrder] = field(default_factory=dict)
    numbers: dict[str, str] = field(default_factory=dict)
    logged: set[tuple[str, str]] = field(default_factory=set)
    log_rows: list[dict[str, Any]] = field(default_factory=list)
    cache: PlanCache | None = None  # committed plans kept between batches (the consumer's)
    calendars: dict[str, WorkCalendar] = field(default_factory=dict)  # by supplier id
    assigned: list[tuple[SupplierOrder, str]] = field(default_factory=list)  # (order, by whom)
    closures: dict[str, Closure] = field(default_factory=dict)  # of orders assigned, by id

    @classmethod
    def for_batch(cls, uow: UnitOfWork, planning: Planning) -> ProductionContext:
        """A consumer batch's context: its plans come from, and go back to, the plan cache."""
        ctx = cls(uow, planning)
        ctx.cache_after_commit(planning.plans)
        return ctx

    # -- loading and saving --

    async def preload(self, ids: Iterable[str], numbers: Iterable[str] = ()) -> None:
        if self.cache is None:
            loaded = await repo.lock_orders(self.uow.session, ids, numbers)
        else:
            loaded = await lock_cached_orders(self.uow.session, self.cache, ids, numbers)
        for order in loaded:
            if order.order_id not in self.orders:  # never replace what this batch changed
                self.keep(order)

    def cache_after_commit(self, cache: PlanCache) -> None:
        """Use ``cache``; the orders go back into it only once the transaction commits."""
        self.cache = cache
        self.uow.after_commit(lambda: cache.keep(self.orders.values()))

    async def preload_calendars(self, supplier_ids: Iterable[str]) -> None:
        """The suppliers' working days, in one query; the default for those without their own."""
        missing = {s for s in supplier_ids if s not in self.calendars}
        stored = await calendar_repo.calendars_of(self.uow.session, missing)
        for supplier_id in missing:
            self.calendars[supplier_id] = stored.get(supplier_id, self.planning.calendar)

    async def calendar_of(self, supplier_id: str) -> WorkCalendar:
        if supplier_id not in self.calendars:
            await self.preload_calendars([supplier_id])
        return self.calendars[supplier_id]

    async def preload_messages(self, pairs: list[tuple[str, str]]) -> None:
        self.logged |= await repo.logged_messages(self.uow.session, pairs)

    def keep(self, order: SupplierOrder) -> SupplierOrder:
        utilisation.remember_loaded(order)
        self.orders[order.order_id] = order
        self.numbers[order.order_number] = order.order_id
        return order

    def order_id_of(self, ref: str) -> str:
        """The id of the loaded order ``ref`` names (by id or number), else ``ref`` itself."""
        return ref if ref in self.orders else self.numbers.get(ref, ref)

    async def find(self, ref: str) -> SupplierOrder | None:
        """The order by id or number (preloaded, else looked up and locked), if it is planned."""
        order = self.orders.get(ref) or self.orders.get(self.numbers.get(ref, ""))
        if order is None:
            await self.preload([ref], [ref])
            order = self.orders.get(ref) or self.orders.get(self.numbers.get(ref, ""))
        return order

    async def get(self, ref: str) -> SupplierOrder:
        """The order, or wait for it: a fact about an order not planned yet is parked (an
        HTTP route looks the order up with ``find`` first and answers 404 itself)."""
        order = await self.find(ref)
        if order is None:
            raise WaitingFor(f"order {ref} has no supplier assigned in production yet")
        return order

    async def save(self) -> None:
        await utilisation.record(self.uow.session, self.orders.values())
        await repo.save_orders(self.uow.session, self.orders.values())
        await repo.add_progress_log(self.uow.session, self.log_rows)
        self.log_rows.clear()

    # -- events --

    def emit(
        self,
        subject: str | SupplierOrder,
        data: Payload | DomainEvent,
        *,
        cause: Cause = HANDLED,
        correlation_id: str | None = None,
    ) -> Emitted:
        """``Context.emit``, with the fast path the plans' own events take: a domain event
        about ``subject`` (the order, or its id) gets its wire data from the ``WIRE`` table
        and its JSON without pydantic (``outgoing``)."""
        if type(data) in WIRE:  # one of the plan's own events (a plain dataclass)
            order = subject if isinstance(subject, SupplierOrder) else self.orders[subject]
            ids = cause_ids(self.cause if cause == HANDLED else cause)
            return self.uow.emit(wire_envelope(order, cast(DomainEvent, data), self.SOURCE, ids))
        order_id = subject.order_id if isinstance(subject, SupplierOrder) else subject
        payload = cast(Payload, data)
        return super().emit(order_id, payload, cause=cause, correlation_id=correlation_id)

    def publish(self, order: SupplierOrder, events: Iterable[DomainEvent]) -> list[str]:
        """Emit what the plan of ``order`` says happened; the types, in order."""
        types = []
        for event in events:
            if isinstance(event, ProductionCompleted):
                order.completed_at = event.completed_at
            types.append(self.emit(order, event).type)
        return types


# ---- use cases ----------------------------------------------------------------------------


async def preload(ctx: ProductionContext, facts: Sequence[Fact]) -> None:
    """Everything a batch of facts needs, one query each, for Kafka and HTTP alike: every plan
    they name (by id, else the key, or by number), locked; the progress log of their reports;
    the calendars of the suppliers they assign (the plans named by number are loaded first,
    so the reports' log keys use their order ids), and the closings of the orders they assign;
    a status change that closes nothing loads nothing."""
    facts = [f for f in facts if not _passing_status(f.data)]
    ids = {getattr(f.data, "order_id", None) or f.subject for f in facts}
    numbers = {n for f in facts if (n := getattr(f.data, "order_number", None))}
    await ctx.preload([i for i in ids if i], numbers)
    keys = []
    for f in facts:
        if isinstance(f.data, wire.ProgressReported) and f.message_id:
            ref = f.data.order_id or f.data.order_number or f.subject
            if ref:
                keys.append((ctx.order_id_of(ref), f.message_id))
    await ctx.preload_messages(keys)
    assigned = [f.data for f in facts if isinstance(f.data, order_events.OrderSupplierAssigned)]
    await ctx.preload_calendars([a.supplier.id for a in assigned])
    ctx.closures |= await repo.closures_of(ctx.uow.session, [a.order_id for a in assigned])


def _passing_status(data: Any) -> bool:
    return isinstance(data, order_events.OrderStatusChanged) and data.to_status not in CLOSING


async def supplier_calendar(ctx: ProductionContext, supplier_id: str) -> SupplierCalendar:
    """The supplier's stored calendar, or the default one (version 0) when it has none."""
    return await calendar_repo.calendar_of(ctx.uow.session, supplier_id, ctx.planning.calendar)


async def change_supplier_calendar(
    ctx: ProductionContext, supplier_id: str, calendar: WorkCalendar, if_match: int | None
) -> SupplierCalendar:
    """Replace a supplier's calendar. It plans the orders assigned from now on; plans made
    before keep the calendar they were made with (their dates were promised with it)."""
    current = await supplier_calendar(ctx, supplier_id)
    if if_match is not None and if_match != current.version:
        raise StaleVersion(
            f"the calendar of supplier {supplier_id} is at version {current.version}, not "
            f"{if_match}; reload it and retry with the current ETag"
        )
    stored = await calendar_repo.store_calendar(
        ctx.uow.session, supplier_id, calendar, current.version
    )
    ctx.calendars[supplier_id] = calendar
    return stored


async def store_master_data(
    ctx: ProductionContext, fact: supplier_events.SupplierMasterData
) -> None:
    """An upstream system's supplier record: create or replace the supplier (unknown
    categories or processes refuse the message: it goes to the dead-letter topic)."""
    profile = supplier_events.SupplierProfile(**fact.model_dump(exclude={"supplier_id"}))
    checked = supplier_store.checked_profile(profile, ctx.planning.templates)
    await supplier_store.upsert(ctx.uow.session, fact.supplier_id, checked)


def _reassign(
    ctx: ProductionContext, order: SupplierOrder, fact: order_events.OrderSupplierAssigned
) -> SupplierOrder | None:
    """The planned order goes to another supplier (None: it is the same one)."""
    if order.supplier_id == fact.supplier.id:
        return None
    moved = SupplierReassigned(
        order.supplier_id, fact.supplier.id, fact.supplier.name, ctx.planning.now()
    )
    order.supplier_id, order.supplier_name = fact.supplier.id, fact.supplier.name
    order.dirty = True
    ctx.publish(order, [moved])
    return order


async def assign_supplier(
    ctx: ProductionContext, fact: order_events.OrderSupplierAssigned
) -> SupplierOrder | None:
    """A supplier got the order: plan it with the supplier's working days (first time), or hand
    the plan to the new supplier (the plan keeps its dates and the calendar it was made with).
    Returns the order when planned or moved (None: nothing new), for ``assignment_check``."""
    existing = ctx.orders.get(fact.order_id)
    if existing is not None:
        return None if existing.closed_at else _reassign(ctx, existing, fact)
    p = ctx.planning
    template = template_for(p.templates, fact.product_category)
    plan = plan_stages(
        template,
        fact.target_date,
        p.now().date(),
        await ctx.calendar_of(fact.supplier.id),
        p.settings.buffer_days,
        fact.has_print,
    )
    order = ctx.keep(
        SupplierOrder(
            order_id=fact.order_id,
            order_number=fact.order_number,
            supplier_id=fact.supplier.id,
            supplier_name=fact.supplier.name,
            buyer_id=fact.buyer.id,
            product_category=fact.product_category,
            quantity=fact.quantity,
            target_date=fact.target_date,
            has_print=fact.has_print,
            plan=plan,
        )
    )
    order.dirty = True
    closure = ctx.closures.get(order.order_id)
    if closure is not None and order.close(closure):
        return None  # closed before it was planned: kept for its history, announced nowhere
    ctx.publish(order, [plan.initialized()])
    return order


async def report_progress(
    ctx: ProductionContext,
    report: wire.ProgressReported,
    message_id: str,
    subject: str | None = None,
) -> ProgressResult:
    """Validate a supplier's report against the plan, record it, publish what it changed."""
    order = await ctx.get(report.order_id or report.order_number or subject or "")
    key = (order.order_id, message_id)
    stage = order.plan.stage(report.stage)
    if key in ctx.logged:
        return _result(order, stage.number, message_id, duplicate=True, events=[])
    if order.closed_at is not None:
        refusal = OrderCancelled if order.closed_as == "cancelled" else OrderClosed
        raise refusal(order.order_number, order.closed_as or "closed", order.closed_at)
    domain_report = ProgressReport(
        message_id,
        report.stage,
        report.percentage,
        report.reported_at,
        report.notes,
        tuple(report.photo_urls),
        report.correction,
        report.delay_reason,
    )
    p = ctx.planning
    events = order.plan.apply_progress(domain_report, p.now(), p.clock_skew)
    ctx.logged.add(key)
    ctx.log_rows.append(_log_row(order, stage.number, stage.name, report, message_id))
    return _result(order, stage.number, message_id, False, ctx.publish(order, events))


def _log_row(
    order: SupplierOrder, number: int, name: str, r: wire.ProgressReported, message_id: str
) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "order_id": order.order_id,
        "stage_number": number,
        "stage_name": name,
        "percentage": r.percentage,
        "reported_at": r.reported_at,
        "notes": r.notes,
        "photo_urls": r.photo_urls,
        "correction": r.correction,
        "delay_reason": r.delay_reason,
    }


def _result(
    order: SupplierOrder, number: int, message_id: str, duplicate: bool, events: list[str]
) -> ProgressResult:
    stage = order.plan.stage(number)
    return ProgressResult(
        message_id,
        order.order_id,
        stage.number,
        stage.name,
        stage.status.value,
        stage.percentage,
        duplicate,
        events,
    )


async def rework_after_failed_inspection(
    ctx: ProductionContext, outcome: quality_events.InspectionFailed
) -> None:
    """Quality rejected the lot: reopen the stage before the failed QC and everything after;
    the QC gate stays closed until a new inspection of that stage passes."""
    order = await ctx.get(outcome.order_id)
    now = ctx.planning.now()
    failed = InspectionStatus.FAILED
    if order.closed_at is not None:  # cancelled or signed off: the result is kept, no rework
        order.plan.record_inspection(outcome.inspection_id, outcome.stage_number, failed, now)
        return
    events = order.plan.reopen_for_rework(outcome.stage_number, now)
    events += order.plan.record_inspection(outcome.inspection_id, outcome.stage_number, failed, now)
    order.completed_at = None
    ctx.publish(order, events)


async def record_inspection_booked(
    ctx: ProductionContext, fact: quality_events.InspectionScheduled
) -> None:
    """Quality booked an inspection: the QC gate waits for its result."""
    order = await ctx.get(fact.order_id)
    status, now = InspectionStatus.OPEN, ctx.planning.now()
    order.plan.record_inspection(fact.inspection_id, fact.stage_number, status, now)


async def record_inspection_passed(
    ctx: ProductionContext, outcome: quality_events.InspectionPassed
) -> None:
    """The lot was accepted (or conceded by an admin): the gate opens once all have passed."""
    order = await ctx.get(outcome.order_id)
    status, now = InspectionStatus.PASSED, ctx.planning.now()
    events = order.plan.record_inspection(outcome.inspection_id, outcome.stage_number, status, now)
    if order.closed_at is None:  # a closed order's gate opening is news to nobody
        ctx.publish(order, events)
