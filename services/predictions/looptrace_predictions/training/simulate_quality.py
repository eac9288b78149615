"""Inspections of a simulated order, consistent with its supplier's quality.

Every order has a true defect rate (``order_defect_rate``: major defects per unit, from the
supplier's QC failure rate, the order's hidden trouble, the supplier's load and print or
embroidery). Inspectors see it through samples:

* inline checks — ``INLINE_CHECKS`` per sewing/knitting/linking stage, ``result = "inline"``:
  ``INLINE_UNITS`` units checked, defects of all classes drawn at that rate (majors are
  ``CLASS_SHARE[1]`` of them, with noise), the later check drifting up or down with the
  order's trouble (the DHU trend);
* lot inspections — one per round of each QC stage (round 1 on the stage's first day, a
  re-inspection after each rework, which removes ``1 - REWORK_KEEPS`` of the defects),
  sampled by ISO 2859-1 general level II, normal severity (``sample_plan``). A round is
  rejected when its major defects reach the rejection number (AQL 2.5): the simulator draws
  that with ``round_fail_chance`` (its QC loop, ``simulate.py``) and this module draws the
  counts on the side of the acceptance number the result requires.

Assumption stated plainly: inline checks and the lot inspection sample the same defect rate,
so a line with a high DHU tends to fail its inspection; nothing else about the order is known
to the inspectors.
"""

from __future__ import annotations

from bisect import bisect_right

import numpy as np
import pandas as pd
from scipy.stats import poisson

from looptrace_predictions.quality_features import qc_stage_names
from looptrace_predictions.training.inspections import (
    ACCEPTED,
    INLINE,
    INSPECTION_COLUMNS,
    REJECTED,
)

PRINT_FACTOR, PLAIN_FACTOR = 1.3, 0.8
MAX_DEFECT_RATE = 0.3
REWORK_KEEPS = 0.5  # share of the defects a rework round leaves
QUALITY_STREAM = 23  # a second random stream, so the stage history keeps its own draws
INLINE_STAGES = frozenset({"Sewing & Assembly", "Knitting", "Linking"})
INLINE_CHECKS = 2
INLINE_UNITS = (120, 251)
CLASS_SHARE = (0.03, 0.57, 0.40)  # critical, major, minor share of defects found inline
# ISO 2859-1 general inspection level II, single sampling, normal: lot size up to → n,
# with the acceptance numbers at AQL 2.5 (major) and 4.0 (minor); critical: Ac 0
_LOT_UPTO = (8, 15, 25, 50, 90, 150, 280, 500, 1200, 3200, 10000, 35000, 150000)
_PLANS = (
    (2, 0, 0), (3, 0, 0), (5, 0, 0), (8, 0, 1), (13, 1, 1), (20, 1, 2), (32, 2, 3),
    (50, 3, 5), (80, 5, 7), (125, 7, 10), (200, 10, 14), (315, 14, 21), (500, 21, 21),
)  # fmt: skip


def sample_plan(lot_size: int) -> tuple[int, int, int]:
    """(sample size, Ac major, Ac minor) for a lot of ``lot_size`` units."""
    return _PLANS[min(bisect_right(_LOT_UPTO, max(lot_size, 2) - 1), len(_PLANS) - 1)]


def order_defect_rate(
    qc_fail_rate: float, trouble: float, load_factor: float, has_print: bool
) -> float:
    """Major defects per unit of an order's production."""
    factor = (0.5 + 0.5 * trouble) * (PRINT_FACTOR if has_print else PLAIN_FACTOR)
    return float(min(MAX_DEFECT_RATE, (0.01 + 0.2 * qc_fail_rate) * factor * load_factor**0.5))


def round_fail_chance(defect_rate: float, lot_size: int, round_index: int) -> float:
    """P(round ``round_index`` (0 = first) of a lot inspection is rejected): its sample's
    major defects reach the rejection number."""
    n, ac_major, _ = sample_plan(lot_size)
    return float(poisson.sf(ac_major, n * defect_rate * REWORK_KEEPS**round_index))


def inline_dhu(defect_rate: float) -> float:
    """The line's true DHU (all classes, per hundred units) behind its inline checks."""
    return 100.0 * defect_rate / CLASS_SHARE[1]


def order_inspections(
    rng: np.random.Generator,
    order_rows: list[tuple],
    defect_rate: float,
    rework: np.ndarray,
    trouble: float,
) -> list[tuple]:
    """Inspection rows ``INSPECTION_COLUMNS`` of one order (its stage rows from the simulator)."""
    out: list[tuple] = []
    order_id, quantity = order_rows[0][0], int(order_rows[0][3])
    drift = 0.25 * (trouble - 0.8)
    qc_stages = qc_stage_names(str(order_rows[0][2]))
    for row in order_rows:
        stage_number, name, start, end, failures = row[6], row[7], row[10], row[11], row[12]
        if name in INLINE_STAGES:
            out += _inline_checks(rng, order_id, name, start, end, defect_rate, drift)
        elif name in qc_stages:
            days = start + np.concatenate([[0], np.cumsum(rework[stage_number - 1, :failures])])
            for r, day in enumerate(np.minimum(days, end)):
                rate = defect_rate * REWORK_KEEPS**r
                lot = _lot_inspection(rng, quantity, rate, rejected=r < failures)
                out.append((order_id, name, int(day), *lot))
    return out


def _inline_checks(
    rng: np.random.Generator, order_id: str, stage: str, start: int, end: int, rate: float,
    drift: float,
) -> list[tuple]:  # fmt: skip
    out = []
    for j in range(1, INLINE_CHECKS + 1):
        day = start + int(round(j * (end - start) / (INLINE_CHECKS + 1)))
        units = int(rng.integers(*INLINE_UNITS))
        dhu = inline_dhu(rate) * np.exp(rng.normal(0.0, 0.15) + drift * (j - 1))
        found = int(rng.poisson(units * dhu / 100.0))
        critical, major, minor = (int(n) for n in rng.multinomial(found, CLASS_SHARE))
        out.append((order_id, stage, int(min(day, end)), units, critical, major, minor, INLINE))
    return out


def _lot_inspection(
    rng: np.random.Generator, lot_size: int, rate: float, rejected: bool
) -> tuple[int, int, int, int, str]:
    """(sample size, critical, major, minor, result) of one round at this defect rate."""
    n, ac_major, ac_minor = sample_plan(lot_size)
    lam = n * rate
    accept = float(poisson.cdf(ac_major, lam))  # a draw of the majors below it is accepted
    u = rng.uniform(accept, 1.0) if rejected else rng.uniform(0.0, accept)
    major = int(poisson.ppf(min(u, 1.0 - 1e-12), lam))
    minor = min(int(rng.poisson(lam * CLASS_SHARE[2] / CLASS_SHARE[1])), ac_minor)
    return (
        n,
        0,
        max(major, ac_major + 1) if rejected else min(major, ac_major),
        minor,
        (REJECTED if rejected else ACCEPTED),
    )


def inspections_frame(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(INSPECTION_COLUMNS))
    epoch = np.datetime64("1970-01-01", "D")
    days = frame["inspected_on"].to_numpy(dtype="int64").astype("timedelta64[D]")
    frame["inspected_on"] = pd.to_datetime(epoch + days).astype("datetime64[ns]")
    return frame.sort_values(["inspected_on", "order_id"], kind="stable").reset_index(drop=True)
