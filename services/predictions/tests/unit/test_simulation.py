import hashlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from looptrace_predictions.stage_params import STAGE_PARAMS
from looptrace_predictions.training import simulate_shocks
from looptrace_predictions.training.history import summarise_orders
from looptrace_predictions.training.simulate import (
    MAX_QC_LOOPS,
    MAX_STAGES,
    HiddenOrder,
    StageDraws,
    draw_stage,
    season_factor,
    simulate,
    simulate_history,
    stage_duration,
)
from looptrace_predictions.training.simulate_quality import MAX_DEFECT_RATE, round_fail_chance
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


# sha256 of simulate(200, seed) stages/inspections as CSV, computed when the simulator began to
# play the pre-production sample loop and its gate (simulate_samples.py; the stage draws are
# the same, the gated stages start after the approval, so the world changed on purpose), with
# independent stage slips: the world of SLIP_PERSISTENCE = 0
_INDEPENDENT = {
    7: (
        "82e34367c703f8d4fec7b23dfc02e421d6fdc38aa2359a224b51fc783749a0dc",
        "920be95fcb5a9a4e84a183d3bf2e883120214925a606635dbeaa38cb4e088d2b",
    ),
    2: (
        "ec42a271aba9720b63e04bf770a7557e1a41d0d8e60f8e8e461d58fc2b3612aa",
        "1fb1b55c9adcf765edc29b52a384e26b12bf67b804db8ea96172ca28e08260af",
    ),
}


# the same since stage slips persist within an order (simulate_shocks.py, ρ = 0.7): only the
# slip draws changed, on purpose
_FROZEN = {
    7: (
        "e934920ab53419b4ee3c04774d974587c0731ea58285ec8de72636ca5a9bf490",
        "09d163b5f313daf999197a55442387990bd7d3e6d726a1f00ee416cecda2953f",
    ),
    2: (
        "097dff97df88b756b70c473c2b0bbf09e681eecd0bdd1c2e5972e08028ec1a31",
        "2cce6c8aa3226349f6bd98d4d7a51a56b54b64d6ec936d281e1c1e73fb1df2fd",
    ),
}


def _sha(frame: pd.DataFrame) -> str:
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()


@pytest.mark.parametrize("seed", sorted(_FROZEN))
def test_the_simulated_world_of_a_seed_stays_byte_identical(seed: int) -> None:
    simulated = simulate(200, seed, keep_hidden=True)
    assert (_sha(simulated.stages), _sha(simulated.inspections)) == _FROZEN[seed]
    plain = simulate(200, seed)
    assert plain.hidden is None
    pd.testing.assert_frame_equal(plain.stages, simulated.stages)


@pytest.mark.parametrize("seed", sorted(_INDEPENDENT))
def test_without_persistence_the_world_is_the_former_one_draw_for_draw(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(simulate_shocks, "SLIP_PERSISTENCE", 0.0)
    simulated = simulate(200, seed)
    assert (_sha(simulated.stages), _sha(simulated.inspections)) == _INDEPENDENT[seed]


def test_persistent_slips_keep_the_exponential_marginal_and_carry_over() -> None:
    fresh = np.random.default_rng(3).exponential(1.0, (40_000, 8))
    same_shocks, same = simulate_shocks.persistent_slips(fresh, rho=0.0)
    np.testing.assert_allclose(same, fresh, rtol=1e-8)
    shocks, slips = simulate_shocks.persistent_slips(fresh, rho=0.7)
    assert abs(slips.mean() - 1.0) < 0.02 and abs(slips.std() - 1.0) < 0.03
    assert abs(np.median(slips[:, 5]) - np.log(2)) < 0.02  # still exponential(1) per stage
    lag_one = np.corrcoef(slips[:, 2], slips[:, 3])[0, 1]
    lag_three = np.corrcoef(slips[:, 2], slips[:, 5])[0, 1]
    assert 0.6 < lag_one < 0.72 and 0.2 < lag_three < 0.4  # fades with the distance
    assert abs(np.corrcoef(same[:, 2], same[:, 3])[0, 1]) < 0.02
    np.testing.assert_allclose(np.corrcoef(shocks[:, 2], shocks[:, 3])[0, 1], 0.7, atol=0.02)


def test_the_next_shock_continues_the_chain() -> None:
    rng = np.random.default_rng(5)
    after_high = simulate_shocks.next_shock(rng, np.full(20_000, 2.0), 20_000, rho=0.7)
    assert abs(after_high.mean() - 1.4) < 0.03 and abs(after_high.std() - 0.714) < 0.02
    first = simulate_shocks.next_shock(rng, None, 20_000)
    assert abs(first.mean()) < 0.03 and abs(first.std() - 1.0) < 0.02


def test_hidden_state_explains_each_order_and_replays_its_stages() -> None:
    simulated = simulate(150, seed=4, keep_hidden=True)
    assert simulated.hidden is not None
    assert set(simulated.hidden) == set(simulated.stages["order_id"])
    first = simulated.stages.groupby("order_id").first()
    for order_id, secret in simulated.hidden.items():
        assert secret.supplier_id == first.loc[order_id, "supplier_id"]
        assert secret.has_print == first.loc[order_id, "has_print"]
        assert 0 < secret.defect_rate <= MAX_DEFECT_RATE
        assert 1.0 <= secret.load_factor <= 2.0
        assert len(secret.slip_shocks) == MAX_STAGES
    # a stage's duration with no noise, no slip and no QC rejection is its plan
    order_id, stages = next(iter(simulated.stages.groupby("order_id")))
    category, quantity = stages["product_category"].iloc[0], int(stages["quantity"].iloc[0])
    calm = StageDraws(np.log(1.0), 0.0, np.ones(MAX_QC_LOOPS), np.full(MAX_QC_LOOPS, 3))
    for stage, row in zip(stage_templates.load()[category], stages.itertuples(), strict=True):
        days, failures = stage_duration(
            simulated.hidden[order_id], category, stage, quantity, 0, calm
        )
        assert (float(days), int(failures)) == ((row.planned_end - row.planned_start).days, 0)


@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 300),
    defect_rate=st.floats(0.001, MAX_DEFECT_RATE),
    quantity=st.integers(300, 8000),
)
@settings(max_examples=30, deadline=None)
def test_fresh_stage_draws_rework_qc_stages_per_rejected_round(
    seed: int, n: int, defect_rate: float, quantity: int
) -> None:
    secret = HiddenOrder("S1", 0.4, 0.2, 0.8, 1.1, True, defect_rate)
    draws = draw_stage(np.random.default_rng(seed), n)
    chances = [round_fail_chance(defect_rate, quantity, r) for r in range(MAX_QC_LOOPS)]
    rejected_in_a_row = np.cumprod(draws.qc < np.array(chances), axis=1)
    for stage in stage_templates.load()["cut-and-sew"]:
        days, failures = stage_duration(secret, "cut-and-sew", stage, quantity, np.arange(n), draws)
        assert days.shape == failures.shape == (n,)
        assert (days > 0).all()
        expected = rejected_in_a_row.sum(axis=1) if stage.qc else np.zeros(n)
        assert (failures == expected).all()
        if stage.qc:  # each rejected round adds its rework days on top of the same stage draw
            plain = StageDraws(draws.noise, draws.slip, np.ones_like(draws.qc), draws.rework)
            base, _ = stage_duration(secret, "cut-and-sew", stage, quantity, np.arange(n), plain)
            rework = (draws.rework * rejected_in_a_row).sum(axis=1)
            np.testing.assert_allclose(days - base, rework)


@given(days=st.lists(st.integers(0, 40_000), min_size=1, max_size=50))
def test_season_factor_of_many_start_days_is_each_day_s(days: list[int]) -> None:
    many = np.asarray(season_factor(np.array(days)))
    assert many.tolist() == [season_factor(d) for d in days]
