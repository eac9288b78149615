"""HTTP schemas and routes of the notifications service."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AfterValidator, BaseModel, Field
from sqlalchemy.dialects.postgresql import insert as pg_insert

from looptrace_notifications import conversations as conv
from looptrace_notifications import repository as repo
from looptrace_notifications.config import RuntimeDep
from looptrace_notifications.domain.delivery import DeliveryMode, InvalidQuietHours, QuietHours
from looptrace_notifications.domain.rules import Category
from looptrace_notifications.models import NotificationRow, PreferenceRow
from looptrace_notifications.services import NotificationsContext
from looptrace_shared.auth import CurrentUser
from looptrace_shared.errors import NotFound, RuleViolation, as_rule_violation
from looptrace_shared.events.bounds import LIST_MAX, Text, Url
from looptrace_shared.http import UowDep
from looptrace_shared.params import CursorQuery, IdPath

router = APIRouter(prefix="/v1", tags=["notifications"])


class NotificationOut(BaseModel):
    id: int
    order_id: str
    order_number: str | None
    notification_type: str
    category: str
    subject: str
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(cls, n: NotificationRow) -> NotificationOut:
        return cls.model_validate(n, from_attributes=True)


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None = Field(
        description="pass as ?cursor= for the next page; null at the end"
    )
    next_offset: int | None = Field(description="deprecated: use next_cursor")


def encode_cursor(n: NotificationRow) -> str:
    raw = f"{int(n.read_at is not None)}:{n.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> repo.InboxPosition:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        read, _, nid = raw.partition(":")
        if read not in ("0", "1"):
            raise ValueError(read)
        return repo.InboxPosition(read == "1", int(nid))
    except ValueError:
        raise RuleViolation(
            f"cursor {cursor!r} is not one this API returned; pass next_cursor back unchanged"
        ) from None


@router.get("/notifications", response_model=NotificationPage)
async def list_notifications(
    user: CurrentUser,
    uow: UowDep,
    unread_only: bool = False,
    cursor: CursorQuery = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000, deprecated=True)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> NotificationPage:
    """Unread first, then newest first, in keyset pages that never repeat or skip."""
    if cursor is not None and offset:
        raise RuleViolation("pass either cursor or offset (deprecated), not both")
    after = decode_cursor(cursor) if cursor is not None else None
    rows = await repo.inbox_page(
        uow.session, user.role, user.subject, unread_only, limit + 1, after, offset
    )
    more, rows = len(rows) > limit, rows[:limit]
    return NotificationPage(
        items=[NotificationOut.of(n) for n in rows],
        next_cursor=encode_cursor(rows[-1]) if more else None,
        next_offset=offset + limit if more and cursor is None else None,
    )


@router.get("/notifications/unread-count")
async def unread_count(user: CurrentUser, uow: UowDep) -> dict[str, int]:
    return {"unread": await repo.unread_count(uow.session, user.role, user.subject)}


@router.post("/notifications/read-all")
async def read_all(user: CurrentUser, uow: UowDep) -> dict[str, int]:
    marked = await repo.mark_read(uow.session, user.role, user.subject, None, datetime.now(UTC))
    await uow.commit()
    return {"marked_read": marked}


@router.post("/notifications/{notification_id}/read", response_model=NotificationOut)
async def read_one(
    notification_id: Annotated[int, Path(ge=1, le=2**63 - 1)], user: CurrentUser, uow: UowDep
) -> NotificationOut:
    await repo.mark_read(uow.session, user.role, user.subject, [notification_id], datetime.now(UTC))
    found = await repo.notification(uow.session, user.role, user.subject, notification_id)
    if found is None:
        raise NotFound(f"notification {notification_id} does not exist or is not yours")
    await uow.commit()
    return NotificationOut.of(found)


# ---- preferences ------------------------------------------------------------------------


def _known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"unknown time zone {name[:64]!r}; use an IANA name such as 'Europe/Berlin'"
        ) from None
    return name


TimeZone = Annotated[
    str,
    Field(min_length=1, max_length=64, json_schema_extra={"pattern": r"^[A-Za-z0-9_+/-]+$"}),
    AfterValidator(_known_zone),
]


class QuietWindow(BaseModel):
    start: time = Field(examples=["22:00"])
    end: time = Field(examples=["07:00"])


class PreferencesIn(BaseModel):
    email_off: list[Category] = Field(
        default_factory=list, max_length=20, description="categories without e-mail"
    )
    mode: DeliveryMode = DeliveryMode.IMMEDIATE
    time_zone: TimeZone = Field(
        default="UTC", description="IANA zone for quiet hours and the digest"
    )
    quiet_hours: QuietWindow | None = None


class PreferencesOut(PreferencesIn):
    user_id: str


def _out(user_id: str, row: PreferenceRow | None) -> PreferencesOut:
    if row is None:
        return PreferencesOut(user_id=user_id)
    quiet = (
        QuietWindow(start=row.quiet_start, end=row.quiet_end)
        if row.quiet_start and row.quiet_end
        else None
    )
    return PreferencesOut(
        user_id=user_id,
        email_off=row.email_off,
        mode=row.mode,
        time_zone=row.time_zone,
        quiet_hours=quiet,
    )


def check_zone(prefs: PreferencesIn) -> None:
    try:
        if prefs.quiet_hours:
            QuietHours(prefs.quiet_hours.start, prefs.quiet_hours.end, prefs.time_zone)
        else:
            ZoneInfo(prefs.time_zone)
    except InvalidQuietHours as err:
        raise as_rule_violation(err) from err
    except (ZoneInfoNotFoundError, ValueError):
        raise RuleViolation(
            f"unknown time zone '{prefs.time_zone}'; use an IANA name such as 'Europe/Berlin'"
        ) from None


@router.get("/preferences", response_model=PreferencesOut)
async def get_preferences(user: CurrentUser, uow: UowDep) -> PreferencesOut:
    rows = await repo.load_preferences(uow.session, [(user.role, user.subject)])
    return _out(user.subject, rows.get((user.role, user.subject)))


@router.put("/preferences", response_model=PreferencesOut)
async def put_preferences(body: PreferencesIn, user: CurrentUser, uow: UowDep) -> PreferencesOut:
    check_zone(body)
    q = body.quiet_hours
    values: dict[str, Any] = {
        "email_off": sorted(c.value for c in body.email_off),
        "mode": body.mode.value,
        "time_zone": body.time_zone,
        "quiet_start": q.start if q else None,
        "quiet_end": q.end if q else None,
        "updated_at": datetime.now(UTC),
    }
    stmt = pg_insert(PreferenceRow).values(role=user.role, user_id=user.subject, **values)
    upsert = stmt.on_conflict_do_update(index_elements=["role", "user_id"], set_=values)
    await uow.session.execute(upsert)
    await uow.commit()
    return PreferencesOut(user_id=user.subject, **body.model_dump())


# ---- messages ---------------------------------------------------------------------------


class MessageIn(BaseModel):
    text: Text(10_000, 1)
    attachments: list[Url] = Field(
        default_factory=list, max_length=LIST_MAX, description="references (URLs, file ids)"
    )


def _ctx(uow: UowDep, rt: RuntimeDep) -> NotificationsContext:
    return NotificationsContext(uow, rt.settings)


@router.post("/orders/{order_id}/messages", status_code=201)
async def post_message(
    order_id: IdPath, body: MessageIn, user: CurrentUser, uow: UowDep, rt: RuntimeDep
) -> dict[str, Any]:
    ctx = _ctx(uow, rt)
    row = await conv.post_message(ctx, user, order_id, body.text, body.attachments)
    await uow.commit()
    return conv.listed(row, [])


@router.get("/orders/{order_id}/messages")
async def get_thread(
    order_id: IdPath, user: CurrentUser, uow: UowDep, rt: RuntimeDep
) -> dict[str, Any]:
    return {"items": await conv.thread(_ctx(uow, rt), user, order_id)}


@router.post("/orders/{order_id}/messages/{message_id}/read", status_code=204)
async def read_message(
    order_id: IdPath, message_id: IdPath, user: CurrentUser, uow: UowDep, rt: RuntimeDep
) -> None:
    await conv.mark_message_read(_ctx(uow, rt), user, order_id, message_id)
    await uow.commit()


# ---- live stream --------------------------------------------------------------------------


def _is_event_id(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= 18


@router.get("/stream")
async def stream(
    request: Request,
    user: CurrentUser,
    rt: RuntimeDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=32)] = None,
) -> StreamingResponse:
    """Server-sent events: the user's new notifications; ``Last-Event-ID`` resends missed ones."""
    if last_event_id is not None and not _is_event_id(last_event_id.strip()):
        raise RuleViolation(
            f"Last-Event-ID must be a notification id (digits); got {last_event_id!r}"
        )
    async with rt.sessions() as s:
        start = (
            int(last_event_id.strip())
            if last_event_id
            else await repo.last_notification_id(s, user.role, user.subject)
        )
    events = sse_events(rt, request, user, start)
    return StreamingResponse(
        events, media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


async def sse_events(rt: Any, request: Request, user: Any, after: int) -> AsyncIterator[str]:
    yield ": connected\n\n"
    while not await request.is_disconnected():
        async with rt.sessions() as s:
            rows = await repo.notifications_after(s, user.role, user.subject, after)
        for n in rows:
            after = n.id
            yield f"id: {n.id}\nevent: notification\ndata: {NotificationOut.of(n).model_dump_json()}\n\n"
        if not rows:
            await asyncio.sleep(rt.settings.stream_poll_s)
