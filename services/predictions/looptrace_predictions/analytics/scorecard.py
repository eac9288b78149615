"""Supplier scorecards: the score, its grade, monthly snapshots and the percentile among peers.

Each component is turned into points out of 100, then weighted (``WEIGHTS``):

    on_time      = on-time delivery %                          (orders finished in the period)
    slip         = 100 − 20 × average lateness created per stage, in days   (floor 0)
    first_pass   = QC first-pass acceptance %                  (first inspections in the period)
    dhu          = 100 − 10 × DHU (defects per hundred units inspected)     (floor 0)
    responsiveness = 100 at ≤ 24 h, falling linearly to 0 at 168 h, of the mean of the hours
                   to the first progress report after assignment and to a buyer's message
    capacity_utilisation = reserved for the supplier-network figures (weight 0 until then)

    score = Σ weight × points / Σ weight, over the components the period has activity for
    grade = A ≥ 85, B ≥ 70, C ≥ 55, else D

Only activity counts: a month without finished orders has no on-time component (it is not
0 %), and a month without any activity has no snapshot at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from looptrace_predictions.analytics.figures import ratio

WEIGHTS = {
    "on_time": 35.0,
    "slip": 15.0,
    "first_pass": 25.0,
    "dhu": 10.0,
    "responsiveness": 15.0,
    "capacity_utilisation": 0.0,  # the supplier-network issue fills this in
}
GRADES = ((85.0, "A"), (70.0, "B"), (55.0, "C"))
FORMULA = (
    "score = sum(weight x points) / sum(weight) over the components with activity; points: "
    "on_time = on-time %, slip = 100 - 20 x avg lateness created per stage (days), "
    "first_pass = QC first-pass %, dhu = 100 - 10 x DHU, responsiveness = 100 at <= 24 h "
    "to 0 at 168 h; grade A >= 85, B >= 70, C >= 55, else D"
)
FAST_REPLY_H, SLOW_REPLY_H = 24.0, 168.0


@dataclass
class Activity:
    """What one supplier did in one month (sums, so months add up to any period)."""

    supplier_id: str
    month: date
    finished: int = 0
    on_time: int = 0
    stages: int = 0
    created_days: int = 0
    first_inspections: int = 0
    first_passed: int = 0
    units: int = 0
    defects: int = 0
    wait_hours: float = 0.0
    waits: int = 0

    def add(self, other: Activity) -> None:
        for name in SUMS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


SUMS = tuple(f.name for f in fields(Activity) if f.name not in ("supplier_id", "month"))


def components(a: Activity) -> dict[str, float | None]:
    slip = a.created_days / a.stages if a.stages else None
    dhu = 100 * a.defects / a.units if a.units else None
    hours = a.wait_hours / a.waits if a.waits else None
    return {
        "on_time": 100 * a.on_time / a.finished if a.finished else None,
        "slip": max(0.0, 100 - 20 * slip) if slip is not None else None,
        "first_pass": 100 * a.first_passed / a.first_inspections if a.first_inspections else None,
        "dhu": max(0.0, 100 - 10 * dhu) if dhu is not None else None,
        "responsiveness": _responsiveness(hours) if hours is not None else None,
        "capacity_utilisation": None,
    }


def _responsiveness(hours: float) -> float:
    span = SLOW_REPLY_H - FAST_REPLY_H
    return max(0.0, min(100.0, 100 * (SLOW_REPLY_H - hours) / span))


def score(a: Activity) -> float | None:
    points = {k: v for k, v in components(a).items() if v is not None and WEIGHTS[k] > 0}
    weight = sum(WEIGHTS[k] for k in points)
    return round(sum(WEIGHTS[k] * v for k, v in points.items()) / weight, 1) if weight else None


def grade(value: float | None) -> str | None:
    if value is None:
        return None
    return next((g for floor, g in GRADES if value >= floor), "D")


def card(a: Activity) -> dict[str, Any]:
    s = score(a)
    return {
        "supplier_id": a.supplier_id,
        "on_time_pct": ratio(a.on_time, a.finished),
        "orders_finished": a.finished,
        "avg_slip_days_per_stage": round(a.created_days / a.stages, 2) if a.stages else None,
        "qc_first_pass_pct": ratio(a.first_passed, a.first_inspections),
        "dhu": ratio(a.defects, a.units, digits=2),
        "responsiveness_hours": round(a.wait_hours / a.waits, 1) if a.waits else None,
        "capacity_utilisation_pct": None,
        "score": s,
        "grade": grade(s),
    }


def peer_percentile(own: float, peers: list[float]) -> float | None:
    """Share of the other suppliers of the category scoring below (ties count half), in %."""
    others = list(peers)
    others.remove(own)
    if not others:
        return None
    below = sum(p < own for p in others) + 0.5 * sum(p == own for p in others)
    return round(100 * below / len(others), 1)


def scorecards(
    months: Iterable[Activity], category_of: dict[str, str], limit: int | None = None
) -> list[dict[str, Any]]:
    """One card per supplier over all the given months, with its percentile among its
    category's peers, best first; the first ``limit`` cards (all without it) carry their
    monthly trend (a score per active month)."""
    per: dict[str, list[Activity]] = defaultdict(list)
    for m in months:
        per[m.supplier_id].append(m)
    totals = []
    for supplier, ms in per.items():
        total = Activity(supplier, min(m.month for m in ms))
        for m in ms:
            total.add(m)
        totals.append(total)
    cards = ranked(totals, category_of)
    for c in cards[:limit]:
        c["monthly"] = monthly(per[c["supplier_id"]])
    return cards


def ranked(totals: Iterable[Activity], category_of: dict[str, str]) -> list[dict[str, Any]]:
    """The cards of suppliers' totals over a period, with their percentiles, best first."""
    cards = [card(t) | {"category": category_of.get(t.supplier_id)} for t in totals]
    _rank_among_peers(cards)
    cards.sort(key=lambda c: (-(c["score"] or -1), c["supplier_id"]))
    return cards


def monthly(months: Iterable[Activity]) -> list[dict[str, Any]]:
    """A supplier's score in each of its active months, in order (the card's trend)."""
    return [
        {"month": m.month.isoformat()[:7], "score": score(m)}
        for m in sorted(months, key=lambda m: m.month)
    ]


def _rank_among_peers(cards: list[dict[str, Any]]) -> None:
    by_category: dict[str | None, list[float]] = defaultdict(list)
    for c in cards:
        if c["score"] is not None:
            by_category[c["category"]].append(c["score"])
    for c in cards:
        scored = c["score"] is not None
        c["peers"] = len(by_category[c["category"]]) - 1 if scored else None
        c["peer_percentile"] = (
            peer_percentile(c["score"], by_category[c["category"]]) if scored else None
        )


def on_time_trend(months: Iterable[Activity]) -> list[dict[str, Any]]:
    """On-time delivery % per month over all the given suppliers (months with finished orders)."""
    finished: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for m in months:
        if m.finished:
            finished[m.month][0] += m.finished
            finished[m.month][1] += m.on_time
    return [
        {"month": k.isoformat()[:7], "finished": n, "on_time": ok, "on_time_pct": ratio(ok, n)}
        for k, (n, ok) in sorted(finished.items())
    ]
