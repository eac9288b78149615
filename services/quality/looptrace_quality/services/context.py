"""What every quality use case works in: the unit of work, the order lots, the domain's refusals."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from looptrace_quality import repository as repo
from looptrace_quality.aql import SamplingError
from looptrace_quality.catalogue import UnknownDefectClass, UnknownDefectType
from looptrace_quality.config import QualitySettings
from looptrace_quality.dhu import StageNameMissing
from looptrace_quality.domain import (
    ConcessionNeedsAdmin,
    ConcessionNeedsReason,
    ConcessionNotNeeded,
    InvalidQuantity,
    NoUnitsInspected,
    SampleLargerThanLot,
    SampleTooSmall,
)
from looptrace_quality.models import OrderLotRow
from looptrace_quality.switching import InspectionDiscontinued
from looptrace_shared.errors import Refusals, WaitingFor, refused_as
from looptrace_shared.messaging.dispatch import Context

SOURCE = "quality"
REFUSALS = (
    SamplingError, SampleTooSmall, SampleLargerThanLot, InvalidQuantity, UnknownDefectClass, UnknownDefectType,
    InspectionDiscontinued, ConcessionNeedsReason, NoUnitsInspected, StageNameMissing,
)  # fmt: skip


STATUSES: Refusals = {ConcessionNotNeeded: 409, ConcessionNeedsAdmin: 403, REFUSALS: 422}


def domain_rules() -> AbstractContextManager[None]:
    """Domain refusals become rule violations (HTTP 4xx, or a dead letter)."""
    return refused_as(STATUSES)


@dataclass
class QualityContext(Context):
    """One batch (or one request): the unit of work and the order lots loaded for it."""

    SOURCE = SOURCE

    settings: QualitySettings
    lots: dict[str, OrderLotRow] = field(default_factory=dict)
    actor: str = "system"

    async def preload(self, order_ids: list[str]) -> None:
        self.lots.update(await repo.load_lots(self.uow.session, order_ids))

    async def find_lot(self, order_id: str) -> OrderLotRow | None:
        if order_id not in self.lots:
            self.lots.update(await repo.load_lots(self.uow.session, [order_id]))
        return self.lots.get(order_id)

    async def lot(self, order_id: str) -> OrderLotRow:
        lot = await self.find_lot(order_id)
        if lot is None:
            raise WaitingFor(
                f"order {order_id} is not known to quality yet (no stages_initialized)"
            )
        return lot
