"""Stage templates of the two product categories the simulator knows.

Planned durations are in days for a reference order of ``REFERENCE_QUANTITY``
pieces; production stages (``scales_with_quantity``) grow with the quantity.
"""

from __future__ import annotations

from dataclasses import dataclass

REFERENCE_QUANTITY = 2000


@dataclass(frozen=True)
class StageTemplate:
    name: str
    planned_days: int
    slip_weight: float  # how much this stage tends to slip (1.0 = average)
    scales_with_quantity: bool = False
    is_quality_check: bool = False


KNITWEAR: tuple[StageTemplate, ...] = (
    StageTemplate("Yarn Received", 7, 1.6),
    StageTemplate("Knitting", 12, 1.4, scales_with_quantity=True),
    StageTemplate("Linking", 6, 1.0, scales_with_quantity=True),
    StageTemplate("Washing & Finishing", 3, 0.6),
    StageTemplate("Final QC", 2, 0.4, is_quality_check=True),
    StageTemplate("Packing", 2, 0.3),
    StageTemplate("Ready to Ship", 1, 0.2),
    StageTemplate("Shipped", 3, 0.5),
)

CUT_AND_SEW: tuple[StageTemplate, ...] = (
    StageTemplate("Order Confirmation", 2, 0.3),
    StageTemplate("Fabric & Trim Sourcing", 10, 1.8),
    StageTemplate("Pattern & Grading", 5, 0.6),
    StageTemplate("Cutting", 3, 0.6, scales_with_quantity=True),
    StageTemplate("Printing / Embroidery", 5, 0.9),
    StageTemplate("Sewing & Assembly", 14, 1.5, scales_with_quantity=True),
    StageTemplate("Washing & Finishing", 3, 0.5),
    StageTemplate("Quality Control (Internal)", 2, 0.4, is_quality_check=True),
    StageTemplate("Final Inspection", 2, 0.4, is_quality_check=True),
    StageTemplate("Packaging", 2, 0.3),
)

TEMPLATES: dict[str, tuple[StageTemplate, ...]] = {
    "knitwear": KNITWEAR,
    "cut-and-sew": CUT_AND_SEW,
}

SOURCING_STAGES = frozenset({"Yarn Received", "Fabric & Trim Sourcing"})
MAKING_STAGES = frozenset(
    {"Knitting", "Linking", "Cutting", "Printing / Embroidery", "Sewing & Assembly"}
)
QUALITY_STAGES = frozenset(t.name for ts in TEMPLATES.values() for t in ts if t.is_quality_check)
