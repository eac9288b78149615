"""The dashboard's figures computed from aggregated rows (plain Python, no I/O).

The queries hand over small aggregates — a histogram of stage overruns, QC counts, open
orders — and these functions turn them into the numbers people read. Percentiles are
nearest-rank (the smallest value with at least q of the observations at or below it).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Any

TOP_RISK_ORDERS = 10


def nearest_rank(counts: dict[int, int], q: float) -> int | None:
    """The q-quantile of a histogram {value: count}."""
    total = sum(counts.values())
    if total == 0:
        return None
    rank, seen = max(1, math.ceil(q * total)), 0
    for value in sorted(counts):
        seen += counts[value]
        if seen >= rank:
            return value
    return None  # pragma: no cover - unreachable


def ratio(part: float, whole: float, scale: float = 100.0, digits: int = 1) -> float | None:
    return round(scale * part / whole, digits) if whole else None


# ---- stage performance and bottlenecks ---------------------------------------------


@dataclass(frozen=True)
class OverrunBin:
    """Completed stages of one stage name that overran their plan by ``overrun_days``."""

    stage_number: int
    stage_name: str
    overrun_days: int
    n: int
    days_sum: int
    created_sum: int
    slipped_n: int


def stage_performance(bins: Iterable[OverrunBin]) -> dict[str, Any]:
    by_stage: dict[str, list[OverrunBin]] = defaultdict(list)
    for b in bins:
        if b.n:
            by_stage[b.stage_name].append(b)
    rows = sorted((_stage_row(name, bs) for name, bs in by_stage.items()), key=_stage_order)
    created = sum(r["lateness_created_days"] for r in rows)
    for r in rows:
        r["lateness_share_pct"] = ratio(r["lateness_created_days"], created)
    worst = max(rows, key=lambda r: r["lateness_created_days"], default=None)
    bottleneck = worst if worst and worst["lateness_created_days"] > 0 else None
    return {"stages": rows, "bottleneck": bottleneck, "lateness_created_days": created}


def _stage_order(row: dict[str, Any]) -> tuple[int, str]:
    return row["stage_number"], row["stage"]


def _stage_row(name: str, bins: list[OverrunBin]) -> dict[str, Any]:
    n = sum(b.n for b in bins)
    hist: dict[int, int] = defaultdict(int)
    for b in bins:
        hist[b.overrun_days] += b.n
    return {
        "stage": name,
        "stage_number": min(b.stage_number for b in bins),
        "completed": n,
        "avg_days_in_stage": round(sum(b.days_sum for b in bins) / n, 2),
        "median_overrun_days": nearest_rank(hist, 0.5),
        "p90_overrun_days": nearest_rank(hist, 0.9),
        "slipped_pct": ratio(sum(b.slipped_n for b in bins), n),
        "lateness_created_days": sum(b.created_sum for b in bins),
    }


# ---- QC effectiveness ----------------------------------------------------------------


@dataclass(frozen=True)
class QcCounts:
    """Inspections of one group (a supplier, a category, a week)."""

    key: str
    first_inspections: int = 0
    first_passed: int = 0
    reinspections: int = 0
    units: int = 0
    critical: int = 0
    major: int = 0
    minor: int = 0


def total_qc(key: str, groups: Iterable[QcCounts]) -> QcCounts:
    groups = list(groups)
    sums = [sum(getattr(g, f.name) for g in groups) for f in fields(QcCounts) if f.name != "key"]
    return QcCounts(key, *sums)


def qc_row(c: QcCounts) -> dict[str, Any]:
    defects = c.critical + c.major + c.minor
    return {
        "key": c.key,
        "inspections": c.first_inspections + c.reinspections,
        "first_pass_pct": ratio(c.first_passed, c.first_inspections),
        "reinspections": c.reinspections,
        "units_inspected": c.units,
        "critical_per_100": ratio(c.critical, c.units, digits=2),
        "major_per_100": ratio(c.major, c.units, digits=2),
        "minor_per_100": ratio(c.minor, c.units, digits=2),
        "dhu": ratio(defects, c.units, digits=2),
    }


# ---- delivery projection ---------------------------------------------------------------


@dataclass(frozen=True)
class OpenOrder:
    order_id: str
    order_number: str | None
    supplier_id: str | None
    target_date: date
    projected_completion: date | None
    model_delay_days: float | None  # the active model's expected delay; None on the baseline


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def projected_late_days(o: OpenOrder) -> int:
    by_plan = (o.projected_completion - o.target_date).days if o.projected_completion else 0
    by_model = round(o.model_delay_days) if o.model_delay_days is not None else 0
    return max(0, by_plan, by_model)


@dataclass(frozen=True)
class WeekCounts:
    """Open orders due in one week (Monday): on time by production's forecast, by the model."""

    week: date
    due: int
    on_time_by_plan: int
    modelled: int = 0
    on_time_by_model: int = 0


def week_counts(orders: Iterable[OpenOrder]) -> list[WeekCounts]:
    """What the projection query counts, for orders in memory."""
    weeks: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for o in orders:
        w = weeks[week_of(o.target_date)]
        w[0] += 1
        w[1] += _plan_on_time(o)
        if o.model_delay_days is not None:
            w[2] += 1
            w[3] += o.model_delay_days < 0.5
    return [WeekCounts(k, *v) for k, v in sorted(weeks.items())]


def delivery_projection(weeks: list[WeekCounts], risky: Iterable[OpenOrder]) -> dict[str, Any]:
    due = sum(w.due for w in weeks)
    modelled = sum(w.modelled for w in weeks)
    late = sorted((o for o in risky if projected_late_days(o) > 0), key=_risk_order)
    return {
        "open_orders": due,
        "projected_on_time_pct": ratio(sum(w.on_time_by_plan for w in weeks), due),
        "model_on_time_pct": ratio(sum(w.on_time_by_model for w in weeks), modelled),
        "weeks": [_week_row(w) for w in weeks],
        "risk_orders": [_risk_row(o) for o in late[:TOP_RISK_ORDERS]],
    }


def _plan_on_time(o: OpenOrder) -> bool:
    return o.projected_completion is None or o.projected_completion <= o.target_date


def _risk_order(o: OpenOrder) -> tuple[int, date, str]:
    return -projected_late_days(o), o.target_date, o.order_id


def _week_row(w: WeekCounts) -> dict[str, Any]:
    return {
        "week": w.week.isoformat(),
        "due": w.due,
        "on_time_by_plan": w.on_time_by_plan,
        "late_by_plan": w.due - w.on_time_by_plan,
        "on_time_by_model": w.on_time_by_model if w.modelled else None,
        "projected_on_time_pct": ratio(w.on_time_by_plan, w.due),
    }


def _risk_row(o: OpenOrder) -> dict[str, Any]:
    return {
        "order_id": o.order_id,
        "order_number": o.order_number,
        "supplier_id": o.supplier_id,
        "target_date": o.target_date.isoformat(),
        "projected_completion": o.projected_completion.isoformat()
        if o.projected_completion
        else None,
        "model_expected_delay_days": o.model_delay_days,
        "projected_late_days": projected_late_days(o),
    }


@dataclass(frozen=True)
class SupplierStage:
    """Completed stages of one supplier at one stage: count and sums of days."""

    supplier_id: str
    stage_name: str
    n: int
    days_sum: int
    overrun_sum: int
    created_sum: int
    slipped_n: int


@dataclass(frozen=True)
class SupplierTotals:
    """Completed stages of one supplier, all its stages together."""

    supplier_id: str
    n: int
    days_sum: int
    overrun_sum: int
    created_sum: int
    slipped_n: int


def ranked_suppliers(totals: Iterable[SupplierTotals]) -> list[SupplierTotals]:
    """Most lateness created first (then by id); suppliers without completed stages left out."""
    return sorted((t for t in totals if t.n), key=lambda t: (-t.created_sum, t.supplier_id))


def worst_stages(rows: Iterable[SupplierStage]) -> dict[str, str]:
    """Per supplier, the stage where it created most lateness (none if it created none)."""
    worst: dict[str, SupplierStage] = {}
    for r in rows:
        w = worst.get(r.supplier_id)
        if w is None or (r.created_sum, r.stage_name) > (w.created_sum, w.stage_name):
            worst[r.supplier_id] = r
    return {s: w.stage_name for s, w in worst.items() if w.created_sum > 0}


def supplier_rows(totals: Iterable[SupplierTotals], worst: dict[str, str]) -> list[dict[str, Any]]:
    return [{
        "supplier_id": t.supplier_id,
        "completed": t.n,
        "avg_days_in_stage": round(t.days_sum / t.n, 2),
        "avg_overrun_days": round(t.overrun_sum / t.n, 2),
        "slipped_pct": ratio(t.slipped_n, t.n),
        "lateness_created_days": t.created_sum,
        "worst_stage": worst.get(t.supplier_id),
    } for t in totals]  # fmt: skip


def supplier_stage_summary(rows: Iterable[SupplierStage]) -> list[dict[str, Any]]:
    """Per supplier: its stages' averages, and the stage where it created most lateness."""
    rows = [r for r in rows if r.n]
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for r in rows:
        t = sums[r.supplier_id]
        t[0], t[1], t[2] = t[0] + r.n, t[1] + r.days_sum, t[2] + r.overrun_sum
        t[3], t[4] = t[3] + r.created_sum, t[4] + r.slipped_n
    totals = ranked_suppliers(SupplierTotals(s, *v) for s, v in sums.items())
    return supplier_rows(totals, worst_stages(rows))
