"""Use cases of AQL overrides: a buyer's defaults, one order's own, and what applies to a lot."""

from __future__ import annotations

from enum import StrEnum

from looptrace_quality import repository as repo
from looptrace_quality.aql_policy import AqlChoice, ResolvedAqls, resolve_aqls
from looptrace_quality.config import QualitySettings
from looptrace_quality.models import AqlOverrideRow, OrderLotRow
from looptrace_quality.services.context import QualityContext, domain_rules


class Scope(StrEnum):
    BUYER = "buyer"
    ORDER = "order"


def settings_choice(settings: QualitySettings) -> AqlChoice:
    return AqlChoice(**settings.default_aqls, level=settings.inspection_level)


async def stored_choice(ctx: QualityContext, scope: Scope, owner_id: str | None) -> AqlChoice:
    if owner_id is None:
        return AqlChoice()
    row = await repo.aql_override(ctx.uow.session, scope.value, owner_id)
    return AqlChoice.from_dict(_values(row)) if row else AqlChoice()


async def effective_aqls(ctx: QualityContext, lot: OrderLotRow) -> ResolvedAqls:
    """What applies to the lot's next inspection: order override > buyer default > settings."""
    buyer = await stored_choice(ctx, Scope.BUYER, lot.buyer_id)
    order = await stored_choice(ctx, Scope.ORDER, lot.order_id)
    return resolve_aqls(settings_choice(ctx.settings), buyer, order)


async def buyer_effective(ctx: QualityContext, buyer_id: str) -> ResolvedAqls:
    buyer = await stored_choice(ctx, Scope.BUYER, buyer_id)
    return resolve_aqls(settings_choice(ctx.settings), buyer)


async def set_override(
    ctx: QualityContext, scope: Scope, owner_id: str, values: dict[str, str | None]
) -> AqlChoice:
    """Replace the scope's override (unset values fall through to the next layer)."""
    with domain_rules():
        choice = AqlChoice.validated(**values)
    row = await repo.aql_override(ctx.uow.session, scope.value, owner_id)
    if row is None:
        row = AqlOverrideRow(scope=scope.value, owner_id=owner_id)
        ctx.uow.session.add(row)
    for name, value in choice.to_dict().items():
        setattr(row, name, value)
    row.updated_by = ctx.actor
    return choice


def _values(row: AqlOverrideRow) -> dict[str, str | None]:
    return {name: getattr(row, name) for name in AqlChoice.__dataclass_fields__}
