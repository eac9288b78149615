"""Predictions' own modelling parameters per template stage, keyed by (category, stage name).

The stages themselves (names, durations, which ones quality inspects) are production's: they come
from the stage templates contract (``looptrace_shared.contracts.stage_templates``). What is
predictions' own is how a stage behaves in the model: how much it tends to slip, whether its
work grows with the order quantity (the simulator), and which kind of work it is (the drivers'
recommended actions). A test fails when a template stage has no parameters here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from looptrace_shared.contracts import stage_templates


class Work(Enum):
    SOURCING = "sourcing"
    MAKING = "making"
    OTHER = "other"


@dataclass(frozen=True)
class StageParams:
    slip_weight: float  # how much this stage tends to slip (1.0 = average)
    scales_with_quantity: bool = False
    work: Work = Work.OTHER


def _make(slip_weight: float, scales: bool = True) -> StageParams:
    return StageParams(slip_weight, scales_with_quantity=scales, work=Work.MAKING)


def _source(slip_weight: float) -> StageParams:
    return StageParams(slip_weight, work=Work.SOURCING)


STAGE_PARAMS: dict[tuple[str, str], StageParams] = {
    ("knitwear", "Yarn Received"): _source(1.6),
    ("knitwear", "Knitting"): _make(1.4),
    ("knitwear", "Linking"): _make(1.0),
    ("knitwear", "Washing & Finishing"): StageParams(0.6),
    ("knitwear", "Final QC"): StageParams(0.4),
    ("knitwear", "Packing"): StageParams(0.3),
    ("knitwear", "Ready to Ship"): StageParams(0.2),
    ("knitwear", "Shipped"): StageParams(0.5),
    ("cut-and-sew", "Order Confirmation"): StageParams(0.3),
    ("cut-and-sew", "Fabric & Trim Sourcing"): _source(1.8),
    ("cut-and-sew", "Pattern & Grading"): StageParams(0.6),
    ("cut-and-sew", "Cutting"): _make(0.6),
    ("cut-and-sew", "Printing / Embroidery"): _make(0.9, scales=False),
    ("cut-and-sew", "Sewing & Assembly"): _make(1.5),
    ("cut-and-sew", "Washing & Finishing"): StageParams(0.5),
    ("cut-and-sew", "Quality Control (Internal)"): StageParams(0.4),
    ("cut-and-sew", "Final Inspection"): StageParams(0.4),
    ("cut-and-sew", "Packaging"): StageParams(0.3),
}

SOURCING_STAGES = frozenset(
    name for (_, name), p in STAGE_PARAMS.items() if p.work is Work.SOURCING
)
MAKING_STAGES = frozenset(name for (_, name), p in STAGE_PARAMS.items() if p.work is Work.MAKING)
QUALITY_STAGES = frozenset(
    stage.name for stages in stage_templates.load().values() for stage in stages if stage.qc
)
