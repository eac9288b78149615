"""Why an order's next inspection may be rejected, in words, and what to do before it.

Plain rules over the quality features (not the model's internals), each with a weight — how
much it raises the rejection risk, as an odds factor read off the simulated history's
design (``training/simulate_quality.py``) and the ISO 2859-1 switching rules:

* inline DHU above ``DHU_CONCERN`` (and rising: a trend above ``DHU_RISING``);
* the supplier's recent rejections and tightened severity, a low first-pass rate;
* rework so far (rejected rounds of this order) and a re-inspection;
* print or embroidery;
* schedule pressure: progress behind elapsed time, or the target closer than the work left.

The top ``TOP_DRIVERS`` by weight are returned with their actions (deduplicated): book an
inline or a pre-final inspection, tighten the AQL for this lot, ask for a shipment sample.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from looptrace_predictions.drivers import Driver
from looptrace_predictions.quality_features import TIGHTENED

TOP_DRIVERS = 3
DHU_CONCERN = 6.0
DHU_RISING = 1.0
LOW_FIRST_PASS = 0.75
BEHIND = 0.1

BOOK_INLINE = "book an inline inspection now"
BOOK_PRE_FINAL = "book a pre-final inspection"
TIGHTEN_AQL = "tighten the AQL for this lot"
SHIPMENT_SAMPLE = "ask for a shipment sample before the final inspection"

Row = Mapping[str, Any]


def explain_quality(row: Row) -> tuple[list[str], list[str]]:
    """(top drivers in words, recommended actions) for one quality feature row."""
    found = [d for rule in _RULES if (d := rule(row)) is not None and d.days > 0]
    ranked = sorted(found, key=lambda d: d.days, reverse=True)[:TOP_DRIVERS]
    actions = list(dict.fromkeys(a for d in ranked for a in d.actions))
    return [d.text for d in ranked], actions


def _number(row: Row, name: str) -> float | None:
    value = row.get(name)
    return None if value is None or value != value else float(value)


def _dhu(row: Row) -> Driver | None:
    dhu = _number(row, "inline_dhu")
    if dhu is None or dhu < DHU_CONCERN:
        return None
    text = f"inline checks found {dhu:.1f} defects per hundred units"
    return Driver(dhu / DHU_CONCERN, text, (BOOK_INLINE, TIGHTEN_AQL))


def _dhu_trend(row: Row) -> Driver | None:
    trend = _number(row, "inline_dhu_trend") or 0.0
    if trend < DHU_RISING:
        return None
    text = f"the line's DHU rose by {trend:.1f} between its first and latest inline check"
    return Driver(1.0 + trend / 5.0, text, (BOOK_INLINE,))


def _supplier(row: Row) -> Driver | None:
    recent = _number(row, "supplier_recent_rejections") or 0.0
    tightened = _number(row, "supplier_severity") == TIGHTENED
    if recent < 1 and not tightened:
        return None
    supplier = row.get("supplier_id", "the supplier")
    text = f"supplier {supplier} had {recent:.0f} of its last 5 lots rejected"
    if tightened:
        text += " and is on tightened inspection"
    return Driver(1.0 + recent / 2.0, text, (TIGHTEN_AQL, BOOK_PRE_FINAL))


def _first_pass(row: Row) -> Driver | None:
    rate = _number(row, "supplier_first_pass_rate")
    if (
        rate is None
        or rate >= LOW_FIRST_PASS
        or (_number(row, "supplier_lot_inspections") or 0) < 1
    ):
        return None
    text = f"only {rate:.0%} of the supplier's lots passed their first inspection"
    return Driver(1.0 + (LOW_FIRST_PASS - rate) * 4, text, (BOOK_PRE_FINAL,))


def _rework(row: Row) -> Driver | None:
    count = _number(row, "order_rejections_so_far") or 0.0
    if count < 1:
        return None
    text = f"this order's lots were rejected {count:.0f} time(s) so far (rework)"
    return Driver(1.0 + count, text, (SHIPMENT_SAMPLE, TIGHTEN_AQL))


def _print(row: Row) -> Driver | None:
    if _number(row, "has_print") != 1.0:
        return None
    return Driver(0.6, "print or embroidery adds defect risk", (BOOK_INLINE,))


def _pressure(row: Row) -> Driver | None:
    gap = _number(row, "progress_gap") or 0.0
    if gap < BEHIND:
        return None
    return Driver(
        0.5 + gap, f"production is {gap:.0%} behind plan (rushed work)", (BOOK_PRE_FINAL,)
    )


_RULES: tuple[Callable[[Row], Driver | None], ...] = (
    _dhu, _dhu_trend, _supplier, _first_pass, _rework, _print, _pressure,
)  # fmt: skip
