"""The pre-production sample loop of a simulated order, and the gate it holds.

The buyer requests the PP sample when the order is placed (earlier when that leaves less than
``WINDOW_DAYS``: development starts before the order), due ``LEAD_DAYS`` before the gated
stage's planned start (production's templates: the stage the PP sample gates,
``PP_GATE_STAGE``). The supplier submits somewhere in that window, later the less reliable it
is and the more trouble the order has; each decision takes ``DECISION_DAYS``; a rejection
(likelier with the supplier's QC failure rate and the order's trouble) asks for a resubmission
``RESUBMIT_DAYS`` later. The gated stage may not start before the approval, so a late or
rejected sample delays the order: the signal ``pp_sample_rounds`` and ``pp_sample_days_late``
carry (``samples.py``). Drawn from a stream of its own: the stage draws stay as they were.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from looptrace_predictions.samples import MAX_REJECTIONS

SAMPLE_STREAM = 29
# the stage the pre_production sample gates, per category (production's templates.yaml)
PP_GATE_STAGE = {"knitwear": 2, "cut-and-sew": 4}
LEAD_DAYS = 3
WINDOW_DAYS = 10  # the least time between request and due date (development starts early)
DECISION_DAYS = 2
RESUBMIT_DAYS = (4, 10)  # integers in [low, high)


@dataclass(frozen=True)
class SampleDraws:
    prep: np.ndarray  # where in the window round 1 is submitted (uniform)
    slip: np.ndarray  # how late beyond that (exponential)
    reject: np.ndarray  # orders × (MAX_REJECTIONS + 1): a round is rejected below its chance
    resubmit: np.ndarray  # orders × MAX_REJECTIONS: days to resubmit after a rejection


def draw_samples(seed: int, n: int) -> SampleDraws:
    rng = np.random.default_rng([seed, SAMPLE_STREAM])
    return SampleDraws(
        prep=rng.random(n),
        slip=rng.exponential(1.0, n),
        reject=rng.random((n, MAX_REJECTIONS + 1)),
        resubmit=rng.integers(*RESUBMIT_DAYS, (n, MAX_REJECTIONS)),
    )


@dataclass(frozen=True)
class SampleLoop:
    requested: int
    due: int
    rejected: tuple[int, ...]
    approved: int

    def columns(self) -> tuple[float, ...]:
        """The history's pp_*_date columns as epoch days (NaN: no such rejection)."""
        rejected = [*self.rejected, *[np.nan] * (MAX_REJECTIONS - len(self.rejected))]
        return (self.requested, self.due, *rejected, self.approved)


NO_LOOP: tuple[float, ...] = (np.nan,) * (MAX_REJECTIONS + 3)


def pp_loop(
    i: int, order_day: int, gate_start: int, reliability: tuple[float, float, float],
    draws: SampleDraws,
) -> SampleLoop:  # fmt: skip
    """Order ``i``'s loop; ``reliability`` = (supplier slip scale, its QC failure rate, the
    order's trouble)."""
    slip_scale, qc_fail_rate, trouble = reliability
    due = gate_start - LEAD_DAYS
    requested = min(order_day, due - WINDOW_DAYS)
    late = slip_scale * (0.3 + trouble) * float(draws.slip[i]) * 4.0
    submitted = requested + round((due - requested) * (0.3 + 0.5 * float(draws.prep[i])) + late)
    chance = min(0.5, 0.05 + 0.5 * qc_fail_rate + 0.1 * trouble)
    rejected: list[int] = []
    for r in range(MAX_REJECTIONS + 1):
        decided = submitted + DECISION_DAYS
        if r == MAX_REJECTIONS or draws.reject[i, r] >= chance:
            return SampleLoop(requested, due, tuple(rejected), decided)
        rejected.append(decided)
        submitted = decided + int(draws.resubmit[i, r])
    raise AssertionError("unreachable: the last round is always approved")
