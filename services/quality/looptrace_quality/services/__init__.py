"""Quality's use cases, in one place; the same functions serve Kafka handlers and HTTP routes.

- ``inspections``: lots and their inspections (booking, results, concessions, reassignment);
- ``inline_checks``: an inline check at a production stage, with its DHU;
- ``aql_overrides``: a buyer's AQL defaults, an order's own, and what applies to a lot;
- ``suppliers``: a supplier's severity record and resuming a discontinued one;
- ``context``: what every use case works in; ``outcomes``: the facts quality publishes.

The inspection use cases are re-exported here (``from looptrace_quality import services as uc``).
"""

from looptrace_quality.services.context import QualityContext
from looptrace_quality.services.inspections import (
    Stage,
    book_on_request,
    concede,
    move_to_supplier,
    record_order,
    schedule_for_stage,
    submit_result,
)

__all__ = [
    "QualityContext",
    "Stage",
    "book_on_request",
    "concede",
    "move_to_supplier",
    "record_order",
    "schedule_for_stage",
    "submit_result",
]
