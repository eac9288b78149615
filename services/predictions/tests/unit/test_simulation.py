import pandas as pd

from looptrace_predictions.stage_params import STAGE_PARAMS
from looptrace_predictions.training.history import summarise_orders
from looptrace_predictions.training.simulate import simulate_history
from looptrace_shared.contracts import stage_templates


def test_same_seed_same_history_other_seed_other_history() -> None:
    first = simulate_history(120, seed=7)
    pd.testing.assert_frame_equal(first, simulate_history(120, seed=7))
    assert not first.equals(simulate_history(120, seed=8))


def test_orders_follow_their_category_template_finish_to_start() -> None:
    history = simulate_history(200, seed=3)
    for _, stages in history.groupby("order_id"):
        template = stage_templates.load()[stages["product_category"].iloc[0]]
        assert stages["stage_name"].tolist() == [t.name for t in template]
        starts = stages["actual_start"].to_numpy()[1:]
        previous_ends = stages["actual_end"].to_numpy()[:-1]
        assert (starts >= previous_ends).all()


def test_lateness_is_common_but_not_universal_and_qc_rework_happens() -> None:
    history = simulate_history(600, seed=5)
    late_share = summarise_orders(history)["late"].mean()
    assert 0.1 < late_share < 0.6
    assert history["qc_failures"].sum() > 0


def test_unreliable_suppliers_are_late_more_often() -> None:
    orders = summarise_orders(simulate_history(1500, seed=11))
    by_supplier = orders.groupby("supplier_id")["late"].agg(["mean", "size"])
    busy = by_supplier[by_supplier["size"] >= 20]["mean"]
    assert busy.max() - busy.min() > 0.3


def test_every_template_stage_has_predictions_parameters() -> None:
    stages = {(c, s.name) for c, template in stage_templates.load().items() for s in template}
    assert stages == set(STAGE_PARAMS), "add the missing stages to stage_params.STAGE_PARAMS"


def test_unscaled_stages_are_planned_with_production_s_durations() -> None:
    history = simulate_history(300, seed=4)
    for (category, name), rows in history.groupby(["product_category", "stage_name"]):
        planned = (rows["planned_end"] - rows["planned_start"]).dt.days
        stage = next(s for s in stage_templates.load()[category] if s.name == name)
        if STAGE_PARAMS[category, name].scales_with_quantity:
            assert planned.nunique() > 1
        else:
            assert (planned == stage.duration_days).all(), (category, name)
