"""The pre-production sample loop as delay-risk features: rounds so far and days late, as of a
date, from events before it only; the simulator's gate; the driver sentence."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import numpy as np
import pandas as pd

from looptrace_predictions.domain import LiveOrder, LiveStage
from looptrace_predictions.drivers import explain
from looptrace_predictions.samples import PpSample, sample_features, table_from_live
from looptrace_predictions.state import SupplierRecord, features_from_state
from looptrace_predictions.training.history import summarise_orders
from looptrace_predictions.training.simulate import simulate_history
from looptrace_predictions.training.simulate_samples import PP_GATE_STAGE
from looptrace_shared.events import production as pev

LOOP = PpSample(
    requested=date(2031, 1, 2),
    due=date(2031, 1, 10),
    rejected=[date(2031, 1, 12), date(2031, 1, 20)],
    approved=date(2031, 1, 26),
)


def features_on(sample: PpSample | None, day: date) -> tuple[float, float]:
    table = table_from_live([sample])
    t = np.array([float((day - date(1970, 1, 1)).days)])
    found = sample_features(table, np.array([0]), t)
    return float(found["pp_sample_rounds"][0]), float(found["pp_sample_days_late"][0])


def test_rounds_and_lateness_count_only_what_happened_by_the_day() -> None:
    assert features_on(LOOP, date(2031, 1, 1)) == (0, 0)  # not requested yet
    assert features_on(LOOP, date(2031, 1, 8)) == (1, 0)  # requested, not yet due
    assert features_on(LOOP, date(2031, 1, 12)) == (2, 2)  # rejected that day: round 2
    assert features_on(LOOP, date(2031, 1, 21)) == (3, 11)
    assert features_on(LOOP, date(2031, 3, 1)) == (3, 16)  # approved 16 days late: stays so
    assert features_on(None, date(2031, 1, 21)) == (0, 0)


def test_a_later_event_changes_no_earlier_feature() -> None:
    known_then = PpSample(LOOP.requested, LOOP.due, [LOOP.rejected[0]])
    for day in (date(2031, 1, 5), date(2031, 1, 12), date(2031, 1, 19)):
        assert features_on(known_then, day) == features_on(LOOP, day)


def _at(day: date) -> datetime:
    return datetime.combine(day, time(9), UTC)


def test_a_live_order_keeps_the_pp_loop_from_production_events_in_its_json() -> None:
    ref = {"order_id": "o-1", "order_number": "PO-1", "sample_id": "s-1", "round": 1,
           "kind": "pre_production"}  # fmt: skip
    sample = PpSample()
    sample.heard("production.sample_requested", pev.SampleRequested(
        **ref, due_date=date(2031, 1, 10), requested_at=_at(date(2031, 1, 2))))  # fmt: skip
    sample.heard("production.sample_rejected", pev.SampleRejected(
        **ref, reasons="shade", next_due_date=date(2031, 1, 18),
        rejected_at=_at(date(2031, 1, 12))))  # fmt: skip
    sample.heard("production.sample_requested", pev.SampleRequested(  # round 2: keeps round 1's
        **{**ref, "round": 2}, due_date=date(2031, 1, 18), requested_at=_at(date(2031, 1, 12))))  # fmt: skip
    assert sample == PpSample(date(2031, 1, 2), date(2031, 1, 10), [date(2031, 1, 12)])
    live = LiveOrder("o-1", supplier_id="s-1", product_category="knitwear", quantity=500,
                     order_date=date(2031, 1, 1), target_date=date(2031, 3, 1),
                     pp_sample=sample)  # fmt: skip
    live.plan([LiveStage(1, "Yarn Received", date(2031, 1, 1), date(2031, 1, 6)),
               LiveStage(2, "Knitting", date(2031, 1, 17), date(2031, 2, 5))])  # fmt: skip
    live.stage_completed(1, date(2031, 1, 6))
    again = LiveOrder.from_json(live.to_json())
    assert again == live
    row = features_from_state([again.to_order_state(SupplierRecord(), 1)], date(2031, 1, 16))
    assert (row["pp_sample_rounds"].iloc[0], row["pp_sample_days_late"].iloc[0]) == (2, 6)
    drivers, actions = explain(row.iloc[0].to_dict())
    assert "PP sample 6 days late, round 2" in drivers
    assert any("pre-production sample" in a for a in actions)


def test_an_order_without_a_loop_has_no_sample_driver() -> None:
    live = LiveOrder("o-2", supplier_id="s-1", product_category="knitwear", quantity=500,
                     order_date=date(2031, 1, 1), target_date=date(2031, 3, 1))  # fmt: skip
    live.plan([LiveStage(1, "Yarn Received", date(2031, 1, 1), date(2031, 1, 6))])
    assert LiveOrder.from_json(live.to_json()).pp_sample is None
    row = features_from_state([live.to_order_state(SupplierRecord(), 1)], date(2031, 1, 16))
    assert not any("PP sample" in d for d in explain(row.iloc[0].to_dict())[0])


def test_the_simulated_gate_holds_bulk_until_approval_and_late_loops_delay_orders() -> None:
    history = simulate_history(600, seed=11)
    gated = history[history["stage_number"] == history["product_category"].map(PP_GATE_STAGE)]
    assert len(gated) == history["order_id"].nunique()
    assert (gated["actual_start"] >= gated["pp_approved_date"]).all()
    first = history.drop_duplicates("order_id").set_index("order_id")
    rounds = 1 + first[[f"pp_rejected_{k}_date" for k in (1, 2, 3)]].notna().sum(axis=1)
    late = summarise_orders(history)["late"].reindex(first.index)
    assert rounds.max() >= 3 and (rounds == 1).mean() > 0.4
    days_late = (first["pp_approved_date"] - first["pp_due_date"]).dt.days.clip(lower=0)
    assert days_late[late].mean() > days_late[~late].mean()
    assert pd.api.types.is_datetime64_any_dtype(first["pp_approved_date"])
