from datetime import date

import pytest

from looptrace_predictions.domain import LiveOrder, LiveStage, StageUnknown
from looptrace_predictions.state import SupplierRecord, features_from_state


def order() -> LiveOrder:
    live = LiveOrder("o-1", supplier_id="s-1", product_category="knitwear", quantity=500,
                     order_date=date(2031, 1, 1), target_date=date(2031, 3, 1))  # fmt: skip
    live.plan([LiveStage(2, "Sewing", date(2031, 1, 20), date(2031, 2, 10)),
               LiveStage(1, "Cutting", date(2031, 1, 1), date(2031, 1, 20))])  # fmt: skip
    return live


def test_state_survives_its_json_round_trip() -> None:
    live = order()
    live.stage_completed(1, date(2031, 1, 25))
    live.inspection_failed(None)
    again = LiveOrder.from_json(live.to_json())
    assert again == live
    assert again.stages[0].actual_start == date(2031, 1, 25) and again.stages[0].qc_failures == 1


def test_a_reopened_stage_is_not_done_until_it_completes_again() -> None:
    live = order()
    live.stage_completed(1, date(2031, 1, 20))
    live.stage_reopened(1)
    features = features_from_state([live.to_order_state(SupplierRecord(), 1)], date(2031, 1, 22))
    assert features["finished_stages"].iloc[0] == 0


def test_a_stage_outside_the_plan_is_refused_with_the_known_ones() -> None:
    with pytest.raises(StageUnknown, match=r"no stage 7 .*stages: 1, 2"):
        order().stage_started(7, date(2031, 1, 2))


def test_an_order_without_plan_is_not_scorable() -> None:
    assert not LiveOrder("o-2", product_category="denim").scorable
    assert order().scorable


def test_outcome_ends_the_last_stage_on_completion_day() -> None:
    outcome = order().outcome(date(2031, 3, 6))
    assert outcome is not None and (outcome.delay_days, outcome.ended_on) == (5.0, date(2031, 3, 6))
