"""What a cached plan costs: decoded plans share their days, and the day table is bounded."""

import gc
import tracemalloc
from datetime import date

import pytest

from looptrace_production import plan_codec
from looptrace_production.calendar import WorkCalendar
from looptrace_production.domain import SupplierOrder
from looptrace_production.plan_codec import decode_plan, encode_plan
from looptrace_production.schedule import plan_stages, template_for
from looptrace_production.templates import load_templates

TEMPLATE = template_for(load_templates(), "cut-and-sew")
STORED = encode_plan(plan_stages(TEMPLATE, date(2026, 6, 1), date(2026, 1, 5), WorkCalendar()))


def cached(n: int) -> SupplierOrder:
    facts = (f"PO-{n}", "s", "S", "b", "cut-and-sew", 1000, date(2026, 6, 1), True)
    order = SupplierOrder(f"order-{n}", *facts, plan=decode_plan(STORED), version=3)
    order.load_seen = order.load_signature()  # as the plan cache holds it after a batch
    return order


def test_decoded_plans_share_their_days() -> None:
    a, b = decode_plan(STORED), decode_plan(STORED)
    assert a.stages[3].forecast_end == b.stages[3].forecast_end
    assert a.stages[3].forecast_end is b.stages[3].forecast_end


def test_the_day_table_is_bounded_and_a_day_dropped_reads_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(plan_codec, "_MAX_DAYS", 3)
    plan_codec._days.clear()
    first = decode_plan(STORED)
    assert len(plan_codec._days) <= 3  # the plan has more distinct days than that
    again = decode_plan(STORED)  # its days were dropped and are read afresh
    assert [s.to_dict() for s in again.stages] == [s.to_dict() for s in first.stages]
    assert again.stages[0].forecast_start == date.fromisoformat(
        first.stages[0].to_dict()["forecast_start"]
    )


def test_a_cached_ten_stage_plan_takes_under_5_kb() -> None:
    keep = [cached(n) for n in range(20)]  # the shared days and templates exist already
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        keep = [cached(n) for n in range(500)]
        per_plan = (tracemalloc.get_traced_memory()[0] - before) / len(keep)
    finally:
        tracemalloc.stop()
    assert len(keep[0].plan.stages) == 10
    assert per_plan < 5_000, per_plan  # 6.4 KB before days, buckets and layouts were shared


def test_decoded_supplier_profiles_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from looptrace_production import suppliers

    monkeypatch.setattr(suppliers, "SUPPLIERS_KEPT", 2)
    monkeypatch.setattr(suppliers, "_DECODED", {})
    a, b, c = (object() for _ in range(3))
    suppliers.keep_decoded({"a": a, "b": b})  # type: ignore[dict-item]
    assert suppliers._DECODED == {"a": a, "b": b}
    suppliers.keep_decoded({"c": c})  # type: ignore[dict-item]
    assert suppliers._DECODED == {"c": c}  # full: the others are read again when asked for
    suppliers.keep_decoded({"a": a, "b": b, "c": c})  # type: ignore[dict-item]
    assert suppliers._DECODED == {"a": a, "b": b}
