import pandas as pd

from looptrace_predictions.history import summarise_orders
from looptrace_predictions.simulate import simulate_history
from looptrace_predictions.stages import CUT_AND_SEW, KNITWEAR


def test_same_seed_same_history_other_seed_other_history() -> None:
    first = simulate_history(120, seed=7)
    pd.testing.assert_frame_equal(first, simulate_history(120, seed=7))
    assert not first.equals(simulate_history(120, seed=8))


def test_orders_follow_their_category_template_finish_to_start() -> None:
    history = simulate_history(200, seed=3)
    for _, stages in history.groupby("order_id"):
        template = CUT_AND_SEW if stages["product_category"].iloc[0] == "cut-and-sew" else KNITWEAR
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
