"""Ranking suppliers for an order: the plan each would make, the load it would add, and why
(no I/O; ``api_candidates`` loads what it needs).

A candidate is *feasible* when its plan meets the target (backward-scheduled with the
supplier's calendar, no forward fallback), the quantity reaches its MOQ, its standard lead
time fits before the target, no required certification has expired, and no week of any
bucket the order loads would go above the supplier's capacity. Feasible candidates rank
first; then the lower peak utilisation; then the better on-time rate; then the id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from looptrace_production.domain import capacity as cap
from looptrace_production.domain.plan import Plan


@dataclass(frozen=True)
class Scorecard:
    """What production knows of a supplier's record: its orders finished, and on time."""

    completed: int = 0
    on_time: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return round(100.0 * self.on_time / self.completed, 1) if self.completed else None


class WeekLoad(NamedTuple):
    """One week and bucket of a candidate: what is planned there, what the order adds."""

    week: date
    bucket: str
    existing_units: float
    added_units: float
    capacity_units: int | None
    total: float
    utilisation_pct: float | None
    overloaded: bool


def week_load(
    week: date, bucket: str, existing: float, added: float, capacity_units: int | None
) -> WeekLoad:
    total = existing + added
    pct = cap.utilisation_pct(total, capacity_units)
    return WeekLoad(week, bucket, existing, added, capacity_units, total, pct,
                    cap.overloaded(total, capacity_units))  # fmt: skip


@dataclass
class Candidate:
    supplier_id: str
    name: str
    plan: Plan
    weeks: list[WeekLoad]
    score: Scorecard
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def feasible(self) -> bool:
        return not self.problems

    @property
    def peak_pct(self) -> float | None:
        known = [w.utilisation_pct for w in self.weeks if w.utilisation_pct is not None]
        return max(known, default=None)

    def rank_key(self) -> tuple[bool, float, float, str]:
        peak = self.peak_pct if self.peak_pct is not None else 1000.0  # unknown: last
        rate = self.score.on_time_rate if self.score.on_time_rate is not None else -1.0
        return (not self.feasible, peak, -rate, self.supplier_id)

    @property
    def reasons(self) -> list[str]:
        return [*self.problems, *self.notes]


@dataclass(frozen=True)
class Ask:
    category: str
    quantity: int
    target_date: date
    today: date
    certifications: tuple[str, ...] = ()


def week_loads(
    added: cap.Load,
    existing: Mapping[cap.LoadKey, float],
    capacities: Mapping[str, Sequence[tuple[date, date | None, int]]],
) -> list[WeekLoad]:
    """The weeks the order would load, each with what is planned there already (by bucket)."""
    out = []
    for key in sorted(added):
        _, week, bucket = key
        rows = capacities.get(bucket)
        capacity_units = cap.capacity_on(week, rows) if rows else None
        out.append(week_load(week, bucket, existing.get(key, 0.0), added[key], capacity_units))
    return out


def judge(
    c: Candidate, ask: Ask, moq: int, lead_days: int, expired: Sequence[str], working_days: int
) -> Candidate:
    """Fill the candidate's problems and notes, in words."""
    plan = c.plan
    if plan.at_risk:
        c.problems.append(
            f"cannot meet {ask.target_date}: planned with its calendar the first stage would "
            f"start before today; projected completion {plan.projected_completion}"
        )
    if ask.quantity < moq:
        c.problems.append(f"quantity {ask.quantity} is below its minimum order of {moq}")
    if lead_days > working_days:
        c.problems.append(
            f"its standard lead time is {lead_days} working days; only {working_days} remain "
            f"before {ask.target_date}"
        )
    for name in ask.certifications:
        if name in expired:
            c.problems.append(f"its {name} certification has expired")
    _judge_weeks(c)
    rate = c.score.on_time_rate
    c.notes.append(
        f"on time in {rate} % of {c.score.completed} finished orders"
        if rate is not None
        else "no finished orders yet: no on-time record"
    )
    c.notes.append("QC first-pass rate: kept by the quality service, not known to production")
    return c


def _judge_weeks(c: Candidate) -> None:
    for w in c.weeks:
        if w.overloaded:
            c.problems.append(overload_words(w))
    unknown = sorted({w.bucket for w in c.weeks if w.capacity_units is None})
    if unknown:
        c.notes.append(f"no capacity reported for {', '.join(unknown)}: load not judged there")
    if c.peak_pct is not None and not any(w.overloaded for w in c.weeks):
        c.notes.append(f"peak utilisation with this order {c.peak_pct} %")


def ranked(candidates: list[Candidate]) -> list[Candidate]:
    return sorted(candidates, key=Candidate.rank_key)


def overload_words(w: WeekLoad) -> str:
    return (
        f"week of {w.week}: {w.bucket} would be at {w.utilisation_pct} % of its capacity "
        f"({w.total:.0f} of {w.capacity_units} units)"
    )


@dataclass(frozen=True)
class Standing:
    """What production knows of a supplier when an order is assigned to it."""

    known: bool
    active: bool
    moq: int | None  # None: the category is not among its capabilities
    expired: Sequence[tuple[str, date]]
    # its capabilities are on record: a supplier known by name only (first met in an
    # assignment) says nothing of them, so it is not judged on capability
    profiled: bool = True


def assignment_warnings(
    supplier_id: str, category: str, quantity: int, standing: Standing, weeks: Sequence[WeekLoad]
) -> list[str]:
    """Why an assignment deserves a second look, in words (none: nothing to say)."""
    out = []
    if standing.profiled and standing.moq is None:
        out.append(f"supplier {supplier_id} has no recorded capability for {category}")
    if standing.known and not standing.active:
        out.append(f"supplier {supplier_id} is suspended")
    if standing.moq is not None and quantity < standing.moq:
        out.append(f"quantity {quantity} is below its minimum order of {standing.moq}")
    out += [f"its {name} certification expired on {day}" for name, day in standing.expired]
    out += [overload_words(w) for w in weeks if w.overloaded]
    return out
