"""HTTP routes of the webhooks: subscriptions, their delivery log, redelivery, secret rotation.

A buyer manages their own subscriptions; an admin manages any, and creates them for a buyer
(``owner_id``). Someone else's subscription looks like none (404)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, EmailStr, Field
from sqlalchemy import select

from looptrace_notifications import webhooks as uc
from looptrace_notifications.config import NotificationsSettings, RuntimeDep
from looptrace_notifications.webhook_tables import (
    WebhookAttemptRow,
    WebhookDeliveryRow,
    WebhookSubscriptionRow,
)
from looptrace_shared.auth import CurrentUser
from looptrace_shared.http import UowDep

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


class SubscriptionIn(BaseModel):
    url: str = Field(min_length=1, max_length=2000, examples=["https://erp.example.com/looptrace"])
    event_types: list[str] = Field(min_length=1, examples=[["order.status_changed"]])
    description: str = Field(default="", max_length=500)
    owner_id: str | None = Field(default=None, description="the buyer id (admins only)")
    contact_email: EmailStr | None = Field(
        default=None, description="told when the subscription is disabled"
    )


class SubscriptionChange(BaseModel):
    url: str | None = Field(default=None, min_length=1, max_length=2000)
    event_types: list[str] | None = Field(default=None, min_length=1)
    description: str | None = Field(default=None, max_length=500)
    contact_email: EmailStr | None = None
    enabled: bool | None = Field(default=None, description="true re-enables a disabled one")


class SubscriptionOut(BaseModel):
    id: str
    owner_id: str
    url: str
    event_types: list[str]
    description: str
    contact_email: str | None
    state: str
    disabled_reason: str | None
    failures_in_a_row: int
    previous_secret_until: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: WebhookSubscriptionRow) -> SubscriptionOut:
        return cls.model_validate(row, from_attributes=True)


class SubscriptionWithSecret(SubscriptionOut):
    secret: str = Field(description="whsec_…: verify signatures with it; shown only here")


class DeliveryOut(BaseModel):
    id: int
    message_id: str = Field(description="the webhook-id header (the same on every attempt)")
    event_id: str
    event_type: str
    order_id: str
    state: str = Field(description="pending | sending | succeeded | failed")
    attempts: int
    last_status_code: int | None
    last_latency_ms: float | None
    last_error: str | None
    next_attempt_at: datetime
    delivered_at: datetime | None
    created_at: datetime


class AttemptOut(BaseModel):
    attempted_at: datetime
    status_code: int | None
    latency_ms: float
    error: str | None
    succeeded: bool


class DeliveryDetail(DeliveryOut):
    log: list[AttemptOut]


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: int | None = Field(description="pass as ?cursor= for older deliveries")


def _settings(rt: RuntimeDep) -> NotificationsSettings:
    return rt.settings


def _with_secret(row: WebhookSubscriptionRow) -> SubscriptionWithSecret:
    return SubscriptionWithSecret(**SubscriptionOut.of(row).model_dump(), secret=row.secret)


@router.get("/event-types")
async def event_types() -> dict[str, list[str]]:
    """The event types a subscription can carry."""
    return {"event_types": uc.subscribable_types()}


@router.post("", status_code=201, response_model=SubscriptionWithSecret)
async def create(
    body: SubscriptionIn, user: CurrentUser, uow: UowDep, rt: RuntimeDep
) -> SubscriptionWithSecret:
    req = uc.SubscriptionRequest(**body.model_dump())
    row = await uc.create_subscription(uow.session, _settings(rt), user, req)
    await uow.commit()
    return _with_secret(row)


@router.get("", response_model=list[SubscriptionOut])
async def list_subscriptions(
    user: CurrentUser, uow: UowDep, owner_id: str | None = None
) -> list[SubscriptionOut]:
    """Your subscriptions (an admin: everyone's, or one buyer's with ``owner_id``)."""
    q = select(WebhookSubscriptionRow).order_by(WebhookSubscriptionRow.created_at)
    if not user.is_admin:
        q = q.where(WebhookSubscriptionRow.owner_id == user.subject)
    elif owner_id is not None:
        q = q.where(WebhookSubscriptionRow.owner_id == owner_id)
    return [SubscriptionOut.of(r) for r in await uow.session.scalars(q)]


@router.get("/{sub_id}", response_model=SubscriptionOut)
async def get_one(sub_id: str, user: CurrentUser, uow: UowDep) -> SubscriptionOut:
    return SubscriptionOut.of(await uc.load_subscription(uow.session, user, sub_id))


@router.patch("/{sub_id}", response_model=SubscriptionOut)
async def change(
    sub_id: str, body: SubscriptionChange, user: CurrentUser, uow: UowDep, rt: RuntimeDep
) -> SubscriptionOut:
    row = await uc.load_subscription(uow.session, user, sub_id, lock=True)
    changes = body.model_dump(exclude_unset=True)
    await uc.change_subscription(_settings(rt), row, changes, datetime.now(UTC))
    await uow.commit()
    return SubscriptionOut.of(row)


@router.delete("/{sub_id}", status_code=204)
async def delete(sub_id: str, user: CurrentUser, uow: UowDep) -> Response:
    row = await uc.load_subscription(uow.session, user, sub_id, lock=True)
    await uow.session.delete(row)
    await uow.commit()
    return Response(status_code=204)


@router.post("/{sub_id}/rotate-secret", response_model=SubscriptionWithSecret)
async def rotate(
    sub_id: str, user: CurrentUser, uow: UowDep, rt: RuntimeDep
) -> SubscriptionWithSecret:
    """A new secret; deliveries carry a second signature with the old one until
    ``previous_secret_until`` (WEBHOOK_SECRET_OVERLAP_S)."""
    row = await uc.load_subscription(uow.session, user, sub_id, lock=True)
    uc.rotate_secret(row, _settings(rt).webhook_secret_overlap_s, datetime.now(UTC))
    await uow.commit()
    return _with_secret(row)


@router.get("/{sub_id}/deliveries", response_model=DeliveryPage)
async def deliveries(
    sub_id: str,
    user: CurrentUser,
    uow: UowDep,
    state: str | None = None,
    cursor: Annotated[int | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveryPage:
    """The delivery log, newest first: state, attempts, last response code and latency."""
    await uc.load_subscription(uow.session, user, sub_id)
    q = select(WebhookDeliveryRow).where(WebhookDeliveryRow.subscription_id == sub_id)
    if state is not None:
        q = q.where(WebhookDeliveryRow.state == state)
    if cursor is not None:
        q = q.where(WebhookDeliveryRow.id < cursor)
    rows = list(
        await uow.session.scalars(q.order_by(WebhookDeliveryRow.id.desc()).limit(limit + 1))
    )
    more, rows = len(rows) > limit, rows[:limit]
    items = [DeliveryOut.model_validate(r, from_attributes=True) for r in rows]
    return DeliveryPage(items=items, next_cursor=rows[-1].id if more else None)


@router.get("/{sub_id}/deliveries/{delivery_id}", response_model=DeliveryDetail)
async def delivery(sub_id: str, delivery_id: int, user: CurrentUser, uow: UowDep) -> DeliveryDetail:
    await uc.load_subscription(uow.session, user, sub_id)
    row = await uow.session.get(WebhookDeliveryRow, delivery_id)
    if row is None or row.subscription_id != sub_id:
        raise uc.NotFound(f"delivery {delivery_id} of webhook subscription {sub_id} not found")
    q = select(WebhookAttemptRow).where(WebhookAttemptRow.delivery_id == delivery_id)
    log = [
        AttemptOut.model_validate(a, from_attributes=True)
        for a in await uow.session.scalars(q.order_by(WebhookAttemptRow.id))
    ]
    return DeliveryDetail(
        **DeliveryOut.model_validate(row, from_attributes=True).model_dump(), log=log
    )


@router.post(
    "/{sub_id}/deliveries/{delivery_id}/redeliver", status_code=202, response_model=DeliveryOut
)
async def redeliver(sub_id: str, delivery_id: int, user: CurrentUser, uow: UowDep) -> DeliveryOut:
    """Send it again (same webhook-id); a disabled subscription sends once it is enabled."""
    row = await uc.load_subscription(uow.session, user, sub_id)
    found = await uc.redeliver(uow.session, row, delivery_id, datetime.now(UTC))
    await uow.commit()
    return DeliveryOut.model_validate(found, from_attributes=True)
