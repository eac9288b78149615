from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from looptrace_predictions.domain import LiveOrder, LiveStage
from looptrace_predictions.features import epoch_days
from looptrace_predictions.quality_drivers import (
    BOOK_INLINE,
    BOOK_PRE_FINAL,
    SHIPMENT_SAMPLE,
    TIGHTEN_AQL,
    explain_quality,
)
from looptrace_predictions.quality_model import BetaPrior
from looptrace_predictions.quality_scoring import LiveQualityModel, assess_quality, next_inspection
from looptrace_predictions.state import SupplierRecord
from looptrace_predictions.training.quality_workflows import train_quality
from looptrace_predictions.training.simulate import simulate

TODAY = date(2026, 3, 10)


def _order(sewing_done: bool = False) -> LiveOrder:
    d = lambda n: TODAY + timedelta(days=n)  # noqa: E731
    stages = [
        LiveStage(1, "Sewing & Assembly", d(-10), d(2), d(-10), d(-1) if sewing_done else None),
        LiveStage(2, "Quality Control (Internal)", d(2), d(4)),
        LiveStage(3, "Final Inspection", d(4), d(6)),
    ]
    return LiveOrder("PO-1", "PO-1", "b-1", "S-new", "cut-and-sew", 2000, d(-20), d(9),
                     d(7), stages, has_print=True)  # fmt: skip


def _log(rows: list[tuple]) -> pd.DataFrame:
    columns = ["order_id", "supplier_id", "inspection_stage", "inspected_on", "sample_size",
               "critical", "major", "minor", "result"]  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns)
    return frame.assign(day=epoch_days(frame["inspected_on"]) if rows else [])


def _assess(model: LiveQualityModel, log: pd.DataFrame, previous: str | None = None):  # type: ignore[no-untyped-def]
    order = _order()
    state = order.to_order_state(SupplierRecord(), 3)
    (assessed,) = assess_quality(model, [state], [order], log, [previous], TODAY, 0.05)
    return assessed


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> LiveQualityModel:
    root = tmp_path_factory.mktemp("quality")
    sim = simulate(800, seed=8)
    with threadpool_limits(limits=1):
        train_quality(sim.stages, sim.inspections, "sha", root)
    return LiveQualityModel(root)


def test_the_next_inspection_is_the_first_qc_stage_not_done() -> None:
    order = _order()
    assert next_inspection(order) == "Quality Control (Internal)"
    order.stages[1].actual_end = TODAY
    assert next_inspection(order) == "Final Inspection"
    order.stages[2].actual_end = TODAY
    assert next_inspection(order) is None


def test_without_a_model_the_supplier_baseline_serves(tmp_path: Path) -> None:
    model = LiveQualityModel(tmp_path)  # no active version
    log = _log([("PO-9", "S-new", "Final Inspection", TODAY - timedelta(days=3), 125, 0, 9, 0,
                 "rejected")])  # fmt: skip
    a = _assess(model, log)
    assert (a.model_version, a.baseline) == ("baseline", True)
    assert a.probability == pytest.approx(BetaPrior().rate(1, 1), abs=1e-4)
    assert a.inspection_stage == "Quality Control (Internal)" and a.inspection_round == 1


def test_todays_inline_checks_count_and_a_bad_line_raises_the_risk(
    trained: LiveQualityModel,
) -> None:
    clean = _assess(trained, _log([]))
    check = ("PO-1", "S-new", "Sewing & Assembly", TODAY, 100, 0, 30, 15, "inline")
    bad = _assess(trained, _log([check]))
    assert (clean.baseline, bad.model_version) == (False, "v1")
    assert bad.probability > clean.probability
    assert any("45.0 defects per hundred units" in d for d in bad.drivers)
    assert TIGHTEN_AQL in bad.actions and BOOK_INLINE in bad.actions


def test_the_level_holds_within_the_hysteresis_margin(trained: LiveQualityModel) -> None:
    first = _assess(trained, _log([]))
    again = _assess(trained, _log([]), previous=first.level)
    assert first.changed and not again.changed and again.level == first.level


def test_drivers_name_supplier_rejections_rework_and_pressure() -> None:
    row = {"supplier_id": "S-7", "supplier_recent_rejections": 3.0, "supplier_severity": 2.0,
           "order_rejections_so_far": 2.0, "progress_gap": 0.3, "inline_dhu": float("nan"),
           "has_print": 0.0}  # fmt: skip
    drivers, actions = explain_quality(row)
    assert drivers == [  # by weight: rework 3, supplier 2.5, pressure 0.8
        "this order's lots were rejected 2 time(s) so far (rework)",
        "supplier S-7 had 3 of its last 5 lots rejected and is on tightened inspection",
        "production is 30% behind plan (rushed work)",
    ]
    assert actions == [SHIPMENT_SAMPLE, TIGHTEN_AQL, BOOK_PRE_FINAL]
    assert explain_quality({"inline_dhu": 1.0}) == ([], [])
