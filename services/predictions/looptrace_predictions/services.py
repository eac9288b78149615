"""Use cases of the predictions worker: keep each order's live state, assess, alert on a change.

A batch (or a rescoring run) loads its orders once (``PredictionsContext.preload``),
applies the facts of every event, saves the states, then ``assess_orders`` scores
all touched open orders in one call and writes, in the same transaction, each
assessment, the new level and — when the level changed — the ``DelayRisk`` alert.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert

from looptrace_predictions import repository as repo
from looptrace_predictions.capacity import CapacityPeak, monday
from looptrace_predictions.domain import UNKNOWN_SUPPLIER, LiveOrder
from looptrace_predictions.models import OrderFeaturesRow, SupplierOutcomeRow
from looptrace_predictions.quality_scoring import LiveQualityModel
from looptrace_predictions.risk import INTERVAL_LEVEL
from looptrace_predictions.scoring import Assessment, LiveModel, assess
from looptrace_predictions.state import OrderState, SupplierRecord
from looptrace_shared.db import UnitOfWork
from looptrace_shared.envelope import Envelope
from looptrace_shared.errors import WaitingFor
from looptrace_shared.events.predictions import DelayRisk
from looptrace_shared.messaging.dispatch import Context

SOURCE = "predictions"


def utc_today() -> date:
    return datetime.now(UTC).date()


@dataclass
class Scoring:
    """What the worker keeps for the life of the process: the model (loaded at start-up,
    swapped in place by ``reload``) and what "today" is (a test sets its own clock)."""

    model: LiveModel | None = None
    today: Callable[[], date] = utc_today
    quality: LiveQualityModel | None = None

    @property
    def live(self) -> LiveModel:
        if self.model is None:
            raise RuntimeError("the model is loaded at start-up (load_model) before use")
        return self.model

    def context(self, uow: UnitOfWork, margin: float) -> PredictionsContext:
        return PredictionsContext(uow, self.live, self.today(), margin, quality=self.quality)


@dataclass
class PredictionsContext(Context):
    """One batch: the unit of work, the orders it touches, and how to score them."""

    SOURCE = SOURCE
    model: LiveModel
    as_of: date
    margin: float
    rows: dict[str, OrderFeaturesRow] = field(default_factory=dict)
    orders: dict[str, LiveOrder] = field(default_factory=dict)
    touched: dict[str, Envelope | None] = field(default_factory=dict)
    closing: dict[str, datetime] = field(default_factory=dict)
    pending_outcomes: list[dict[str, Any]] = field(default_factory=list)
    quality: LiveQualityModel | None = None  # the quality-risk model (quality_services.py)
    pending_inspections: list[dict[str, Any]] = field(default_factory=list)
    # production's capacity announcements of the batch, the latest per supplier × week × bucket
    capacity_weeks: dict[tuple[str, date, str], dict[str, Any]] = field(default_factory=dict)

    async def preload(self, order_ids: Iterable[str]) -> None:
        self.use(await repo.lock_orders(self.uow.session, order_ids))

    def use(self, rows: dict[str, OrderFeaturesRow]) -> None:
        self.rows.update(rows)
        self.orders.update({oid: LiveOrder.from_json(r.state) for oid, r in rows.items()})

    def is_closed(self, order_id: str) -> bool:
        row = self.rows.get(order_id)
        return order_id in self.closing or (row is not None and row.closed_at is not None)

    def order(self, order_id: str) -> LiveOrder:
        """The order's state, created from nothing if this is its first event."""
        return self.orders.setdefault(order_id, LiveOrder(order_id))

    def planned_order(self, order_id: str) -> LiveOrder:
        """The order's state, or wait: a stage event needs the production plan first."""
        found = self.orders.get(order_id)
        if found is None or not found.stages:
            raise WaitingFor(f"order {order_id} has no production plan in predictions yet")
        return found

    def capacity_week(
        self, supplier_id: str, week: date, bucket: str, pct: float, over: bool
    ) -> None:
        self.capacity_weeks[supplier_id, week, bucket] = {
            "supplier_id": supplier_id, "week": week, "bucket": bucket,
            "utilisation_pct": pct, "overloaded": over,
        }  # fmt: skip

    def touch(self, order: LiveOrder) -> None:
        self.touched[order.order_id] = self.cause

    def close(self, order_id: str, at: datetime, completed: bool) -> None:
        """Stop scoring the order; a completed one adds to its supplier's record."""
        order = self.orders.get(order_id)
        if order is None or self.is_closed(order_id):
            return
        self.closing[order_id] = at
        self.touched.pop(order_id, None)
        if completed:
            self._record_outcome(order, at.date())

    def _record_outcome(self, order: LiveOrder, ended_on: date) -> None:
        outcome = order.outcome(ended_on)
        if outcome is None or order.supplier_id is None:
            return
        self.pending_outcomes.append(
            {
                "order_id": order.order_id,
                "supplier_id": order.supplier_id,
                "ended_on": outcome.ended_on,
                "late": outcome.delay_days > 0,
                "delay_days": outcome.delay_days,
                "mean_stage_slip": outcome.mean_stage_slip,
            }
        )


# ---- saving ------------------------------------------------------------------------------


async def save(ctx: PredictionsContext) -> None:
    """Write back every state this batch changed (and the outcomes of finished orders)."""
    for order_id in set(ctx.touched) | set(ctx.closing):
        _save_one(ctx, ctx.orders[order_id])
    if ctx.pending_outcomes:
        stmt = pg_insert(SupplierOutcomeRow).on_conflict_do_nothing(index_elements=["order_id"])
        await ctx.uow.session.execute(stmt, ctx.pending_outcomes)
    await repo.save_capacity_weeks(ctx.uow.session, list(ctx.capacity_weeks.values()))
    await ctx.uow.session.flush()


def _save_one(ctx: PredictionsContext, order: LiveOrder) -> None:
    row = ctx.rows.get(order.order_id)
    if row is None:
        row = ctx.rows[order.order_id] = OrderFeaturesRow(order_id=order.order_id)
        ctx.uow.session.add(row)
    row.state = order.to_json()
    row.buyer_id, row.supplier_id = order.buyer_id, order.supplier_id
    if order.order_id in ctx.closing:
        row.closed_at = ctx.closing[order.order_id]


# ---- assessing ---------------------------------------------------------------------------


async def assess_orders(ctx: PredictionsContext, order_ids: Iterable[str]) -> list[Assessment]:
    """Score these orders (the open, scorable ones) in one call; alert on level changes."""
    orders = [
        ctx.orders[oid] for oid in order_ids if ctx.orders[oid].scorable and not ctx.is_closed(oid)
    ]
    if not orders:
        return []
    states = await _order_states(ctx, orders)
    previous = [ctx.rows[o.order_id].risk_level for o in orders]
    assessments = assess(ctx.model, states, previous, ctx.as_of, ctx.margin)
    history = [_apply(ctx, order, a) for order, a in zip(orders, assessments, strict=True)]
    await repo.record_assessments(ctx.uow.session, history)
    await repo.record_live_samples(
        ctx.uow.session, [_live_sample(a, ctx.as_of) for a in assessments]
    )
    await ctx.uow.session.flush()
    return assessments


async def _order_states(ctx: PredictionsContext, orders: list[LiveOrder]) -> list[Any]:
    suppliers = {o.supplier_id or UNKNOWN_SUPPLIER for o in orders}
    outcomes = await repo.outcomes_of(ctx.uow.session, suppliers)
    counts = await repo.open_order_counts(ctx.uow.session, suppliers)
    states = []
    for order in orders:
        supplier = order.supplier_id or UNKNOWN_SUPPLIER
        record = SupplierRecord.from_outcomes(outcomes.get(supplier, []), ctx.as_of)
        states.append(order.to_order_state(record, counts.get(supplier, 1)))
    return await _with_capacity(ctx, states)


async def _with_capacity(ctx: PredictionsContext, states: list[OrderState]) -> list[OrderState]:
    """Each state with its supplier's overload over the order's remaining window."""
    last = {s.order_id: max([s.target_date, *(st.planned_end for st in s.stages)]) for s in states}
    until = max([ctx.as_of, *last.values()])
    weeks = await repo.overloaded_weeks(
        ctx.uow.session, {s.supplier_id for s in states}, monday(ctx.as_of), monday(until)
    )
    return [
        replace(
            s, capacity=CapacityPeak.of(weeks.get(s.supplier_id, []), ctx.as_of, last[s.order_id])
        )
        for s in states
    ]


def _apply(ctx: PredictionsContext, order: LiveOrder, a: Assessment) -> dict[str, Any]:
    row = ctx.rows[order.order_id]
    row.risk_level, row.probability = a.level, a.p_late
    row.expected_delay_days, row.model_version = a.expected_delay_days, a.model_version
    interval = _interval_columns(order, a)
    for name, value in interval.items():
        setattr(row, name, value)
    row.assessed_on = ctx.as_of
    if a.changed:
        ctx.emit(order.order_id, _alert(order, a), cause=ctx.touched.get(order.order_id))
    return {
        "order_id": a.order_id, "as_of": ctx.as_of, "p_late": a.p_late, "level": a.level,
        "previous_level": a.previous_level, "expected_delay_days": a.expected_delay_days,
        "model_version": a.model_version, "baseline": a.baseline, "alerted": a.changed,
        "drivers": a.drivers, "actions": a.actions, **interval,
    }  # fmt: skip


def _interval_columns(order: LiveOrder, a: Assessment) -> dict[str, Any]:
    """The delay interval and the completion date range (all None from the baseline)."""
    delay = a.delay_interval
    earliest, latest = order.completion_range(a.lateness_p10_days, a.lateness_p90_days)
    return {
        "delay_p10_days": None if delay is None else delay[0],
        "delay_p90_days": None if delay is None else delay[1],
        "completion_earliest": earliest,
        "completion_latest": latest,
    }


def _live_sample(a: Assessment, as_of: date) -> dict[str, Any]:
    return {
        "order_id": a.order_id, "as_of": as_of, "model_version": a.model_version,
        "features": a.features, "p_late": a.p_late, "delay_p50_days": a.expected_delay_days,
    }  # fmt: skip


def _alert(order: LiveOrder, a: Assessment) -> DelayRisk:
    interval = _interval_columns(order, a)
    return DelayRisk(
        order_id=order.order_id,
        order_number=order.order_number,
        risk_level=a.level,
        previous_risk_level=a.previous_level,
        probability=a.p_late,
        expected_delay_days=a.expected_delay_days,
        projected_completion=order.projected(a.expected_delay_days),
        drivers=a.drivers,
        recommended_actions=a.actions,
        model_version=a.model_version,
        baseline=a.baseline,
        delay_p10_days=interval["delay_p10_days"],
        delay_p90_days=interval["delay_p90_days"],
        interval_level=None if a.baseline else INTERVAL_LEVEL,
        projected_completion_earliest=interval["completion_earliest"],
        projected_completion_latest=interval["completion_latest"],
    )


# ---- periodic rescoring ------------------------------------------------------------------


async def rescore_stale(ctx: PredictionsContext, limit: int) -> int:
    """Assess open orders not assessed on ``ctx.as_of`` (time passes without events)."""
    rows = await repo.stale_open_orders(ctx.uow.session, ctx.as_of, limit)
    ctx.use({r.order_id: r for r in rows})
    await assess_orders(ctx, [r.order_id for r in rows])
    for row in rows:  # unscorable ones too, so the next run moves on
        row.assessed_on = ctx.as_of
    return len(rows)
