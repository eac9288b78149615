"""HTTP schemas and routes of the predictions service: an order's risk, the model registry."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from looptrace_predictions import registry
from looptrace_predictions import repository as repo
from looptrace_predictions.config import PredictionsSettings
from looptrace_predictions.models import OrderFeaturesRow, RiskAssessmentRow
from looptrace_predictions.risk import INTERVAL_LEVEL
from looptrace_predictions.scoring import LiveModel
from looptrace_predictions.services import Scoring
from looptrace_shared.auth import AdminUser, Principal, Roles
from looptrace_shared.errors import NotFound
from looptrace_shared.http import ServiceRuntime, UowDep
from looptrace_shared.params import IdPath

router = APIRouter(prefix="/v1", tags=["predictions"])


class DelayInterval(BaseModel):
    """The model's 80 % interval: the delay lies within [p10, p90] days with that probability."""

    level: float
    delay_p10_days: float
    delay_p90_days: float
    completion_earliest: date | None
    completion_latest: date | None

    @classmethod
    def of(cls, r: OrderFeaturesRow | RiskAssessmentRow) -> DelayInterval | None:
        if r.delay_p10_days is None or r.delay_p90_days is None:
            return None  # the baseline rule gives no interval
        return cls(
            level=INTERVAL_LEVEL, delay_p10_days=r.delay_p10_days,
            delay_p90_days=r.delay_p90_days, completion_earliest=r.completion_earliest,
            completion_latest=r.completion_latest,
        )  # fmt: skip


class AssessmentOut(BaseModel):
    at: datetime
    as_of: date
    probability: float
    risk_level: str
    previous_risk_level: str | None
    expected_delay_days: float
    interval: DelayInterval | None
    model_version: str
    baseline: bool
    alerted: bool
    drivers: list[str]
    recommended_actions: list[str]

    @classmethod
    def of(cls, r: RiskAssessmentRow) -> AssessmentOut:
        return cls(
            at=r.at, as_of=r.as_of, probability=r.p_late, risk_level=r.level,
            previous_risk_level=r.previous_level, expected_delay_days=r.expected_delay_days,
            interval=DelayInterval.of(r), model_version=r.model_version, baseline=r.baseline, alerted=r.alerted,
            drivers=r.drivers, recommended_actions=r.actions,
        )  # fmt: skip


class OrderRiskOut(BaseModel):
    order_id: str
    open: bool
    risk_level: str | None
    probability: float | None
    expected_delay_days: float | None
    interval: DelayInterval | None
    model_version: str | None
    assessed_on: date | None
    history: list[AssessmentOut]
    quality_risk_level: str | None = Field(
        default=None, description="quality risk of the next inspection: low | medium | high"
    )
    quality_probability: float | None = Field(
        default=None, description="P(the next inspection is rejected); advisory, no verdict"
    )


def _may_see(user: Principal, row: OrderFeaturesRow) -> bool:
    if user.is_admin:
        return True
    party = {"buyer": row.buyer_id, "supplier": row.supplier_id}.get(user.role)
    return party is not None and party == user.subject


@router.get("/orders/{order_id}/risk")
async def order_risk(
    order_id: IdPath,
    uow: UowDep,
    user: Roles("buyer", "supplier"),
    limit: Annotated[int, Query(ge=1, le=500, description="newest assessments first")] = 50,
) -> OrderRiskOut:
    """The order's current delay risk and its assessments (its buyer, its supplier, admin)."""
    row = await repo.order(uow.session, order_id)
    if row is None or not _may_see(user, row):
        raise NotFound(f"order {order_id} has no risk assessment you may see")
    history = await repo.history_of(uow.session, order_id, limit)
    return OrderRiskOut(
        order_id=order_id, open=row.closed_at is None, risk_level=row.risk_level,
        probability=row.probability, expected_delay_days=row.expected_delay_days,
        interval=DelayInterval.of(row), model_version=row.model_version, assessed_on=row.assessed_on,
        history=[AssessmentOut.of(h) for h in history], quality_risk_level=row.quality_risk_level,
        quality_probability=row.quality_probability,
    )  # fmt: skip


class ModelVersionOut(BaseModel):
    version: str
    active: bool
    serving: bool
    created_at: str | None
    metrics: dict[str, Any]
    n_orders: int | None


class ModelsOut(BaseModel):
    """The registry's versions (no server paths)."""

    active: str | None
    serving: str
    versions: list[ModelVersionOut]


RuntimeDep = ServiceRuntime[PredictionsSettings, Scoring]


def _live(rt: RuntimeDep) -> LiveModel:
    return rt.state.live


def _models(rt: RuntimeDep) -> ModelsOut:
    live = _live(rt)
    active = registry.active_version(live.model_dir)
    versions = []
    for v in registry.list_versions(live.model_dir):
        meta = registry.read_metadata(live.model_dir, v)
        versions.append(
            ModelVersionOut(
                version=v, active=v == active, serving=v == live.version,
                created_at=meta.get("created_at"), metrics=meta.get("metrics", {}),
                n_orders=meta.get("n_orders"),
            )
        )  # fmt: skip
    return ModelsOut(active=active, serving=live.version, versions=versions)


@router.get("/models")
async def models(rt: RuntimeDep, user: AdminUser) -> ModelsOut:
    """Model versions with their validation metrics; which is active and which this replica
    serves (admin)."""
    return _models(rt)


@router.post("/models/{version}/promote")
async def promote(version: IdPath, rt: RuntimeDep, user: AdminUser) -> ModelsOut:
    """Make ``version`` the active model (admin); every replica picks it up on its next reload."""
    live = _live(rt)
    try:
        registry.promote(live.model_dir, version)
    except registry.ModelNotFound as err:
        raise NotFound(str(err)) from err
    live.reload()
    return _models(rt)
