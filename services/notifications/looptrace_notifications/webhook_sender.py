"""Sending due webhook deliveries: a periodic job, off the event path.

Each run claims up to ``webhook_batch`` due deliveries of active subscriptions (``FOR UPDATE
SKIP LOCKED``: replicas share the work; one stuck in ``sending`` past the lease is taken
again — at least once), posts them concurrently, then records every attempt in one
transaction: a 2xx succeeds; anything else (an error, a timeout, a refused target) is retried
with exponential backoff and full jitter until ``webhook_retry_period_s`` has passed since the
first attempt, then the delivery fails. ``webhook_disable_after`` failed attempts in a row
disable the subscription and tell its owner. Every attempt keeps the same ``webhook-id``.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from looptrace_notifications import webhooks
from looptrace_notifications.config import NotificationsSettings
from looptrace_notifications.services import NotificationsContext
from looptrace_notifications.webhook_signing import headers
from looptrace_notifications.webhook_tables import (
    WebhookAttemptRow,
    WebhookDeliveryRow,
    WebhookSubscriptionRow,
)
from looptrace_notifications.webhook_targets import WebhookTargetRefused, check_target

D, S = WebhookDeliveryRow, WebhookSubscriptionRow


@dataclass
class Claimed:
    delivery: Any  # a row of (delivery columns…, url, secrets)
    url: str
    secrets: list[str]


@dataclass
class Result:
    claimed: Claimed
    at: datetime
    status_code: int | None
    latency_ms: float
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def backoff_s(settings: NotificationsSettings, attempts: int) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base·2^(n−1))]."""
    ceiling = min(
        settings.webhook_backoff_cap_s, settings.webhook_backoff_base_s * 2 ** (attempts - 1)
    )
    return random.uniform(0, ceiling)


def client_for(runtime: Any) -> aiohttp.ClientSession:
    """One HTTP client per process (its connections are kept alive between runs)."""
    client = runtime.extras.get("webhook_client")
    if client is None or client.closed:
        s: NotificationsSettings = runtime.settings
        connector = aiohttp.TCPConnector(limit=s.webhook_concurrency, ttl_dns_cache=60)
        timeout = aiohttp.ClientTimeout(total=s.webhook_timeout_s)
        client = runtime.extras["webhook_client"] = aiohttp.ClientSession(
            connector=connector, timeout=timeout, auto_decompress=False
        )
    return client


RUN_BATCHES = 20  # batches one run may send before it returns (the next run goes on)


async def send_due(runtime: Any) -> int:
    """Periodic job: send what is due, batch after batch; return how many attempts were made.

    While one batch's results are being recorded the next batch is claimed and sent (at most
    two batches in memory); a delivery is in one batch only, since a claimed one stays
    ``sending`` until its result is committed."""
    settings: NotificationsSettings = runtime.settings
    client, gate = client_for(runtime), asyncio.Semaphore(settings.webhook_concurrency)
    recording: asyncio.Task[None] | None = None
    sent = 0
    try:
        for _ in range(RUN_BATCHES):
            claimed = await _claim(runtime, settings)
            if not claimed:
                break
            results = await asyncio.gather(*(_send(client, gate, c, settings) for c in claimed))
            if recording is not None:
                await recording
            recording = asyncio.create_task(_record(runtime, settings, results))
            sent += len(results)
    finally:
        if recording is not None:
            await recording
    return sent


async def _claim(runtime: Any, settings: NotificationsSettings) -> list[Claimed]:
    now = datetime.now(UTC)
    stale = now - timedelta(seconds=settings.webhook_lease_s)
    due = or_(
        and_(D.state == "pending", D.next_attempt_at <= now),
        and_(D.state == "sending", D.claimed_at < stale),
    )
    async with runtime.sessions() as session:
        ids = (
            select(D.id)
            .join(S, S.id == D.subscription_id)
            .where(due, S.state == "active")
            .order_by(D.next_attempt_at)
            .limit(settings.webhook_batch)
            .with_for_update(of=D, skip_locked=True)
        )
        rows = (
            await session.execute(
                update(D)
                .where(D.id.in_(ids.scalar_subquery()))
                .values(state="sending", claimed_at=now)
                .returning(
                    D.id, D.subscription_id, D.message_id, D.body, D.attempts, D.first_attempt_at
                )
            )
        ).all()
        subs = await _subscriptions(session, {r.subscription_id for r in rows})
        await session.commit()
    return [
        Claimed(
            r, subs[r.subscription_id].url, webhooks.signing_secrets(subs[r.subscription_id], now)
        )
        for r in rows
    ]


async def _subscriptions(session: Any, ids: set[str]) -> dict[str, WebhookSubscriptionRow]:
    if not ids:
        return {}
    return {s.id: s for s in await session.scalars(select(S).where(S.id.in_(ids)))}


async def _send(
    client: aiohttp.ClientSession, gate: asyncio.Semaphore, c: Claimed, s: NotificationsSettings
) -> Result:
    async with gate:
        at, started = datetime.now(UTC), time.perf_counter()
        body = c.delivery.body.encode()
        try:
            await check_target(c.url, s.webhook_allow_private_targets)
            sent = headers(c.secrets, c.delivery.message_id, int(time.time()), body)
            async with client.post(c.url, data=body, headers=sent, allow_redirects=False) as r:
                text = await r.text(errors="replace") if r.status >= 300 else ""
                code, error = (
                    r.status,
                    f"HTTP {r.status}: {text[:300]}" if r.status >= 300 else None,
                )
        except WebhookTargetRefused as err:
            code, error = None, str(err)
        except (aiohttp.ClientError, TimeoutError) as err:
            code, error = None, f"{type(err).__name__}: {err}"[:500]
        return Result(c, at, code, (time.perf_counter() - started) * 1000, error)


async def _record(runtime: Any, settings: NotificationsSettings, results: list[Result]) -> None:
    async with runtime.unit_of_work() as uow:
        session = uow.session
        await session.execute(pg_insert(WebhookAttemptRow), [_attempt(r) for r in results])
        await session.execute(
            update(D.__table__).where(D.__table__.c.id == bindparam("did")),
            [_outcome(settings, r) for r in results],
        )
        await _count_failures(NotificationsContext(uow, settings), settings, results)
        await uow.commit()


def _attempt(r: Result) -> dict[str, Any]:
    return {
        "delivery_id": r.claimed.delivery.id,
        "attempted_at": r.at,
        "status_code": r.status_code,
        "latency_ms": r.latency_ms,
        "error": r.error,
        "succeeded": r.succeeded,
    }


def _outcome(settings: NotificationsSettings, r: Result) -> dict[str, Any]:
    d = r.claimed.delivery
    attempts, first = d.attempts + 1, d.first_attempt_at or r.at
    if r.succeeded:
        state, next_at = "succeeded", r.at
    else:
        next_at = r.at + timedelta(seconds=backoff_s(settings, attempts))
        expired = next_at - first > timedelta(seconds=settings.webhook_retry_period_s)
        state = "failed" if expired else "pending"
    return {
        "did": d.id,
        "state": state,
        "attempts": attempts,
        "first_attempt_at": first,
        "next_attempt_at": next_at,
        "claimed_at": None,
        "last_status_code": r.status_code,
        "last_latency_ms": r.latency_ms,
        "last_error": r.error,
        "delivered_at": r.at if r.succeeded else None,
    }


async def _count_failures(
    ctx: NotificationsContext, settings: NotificationsSettings, results: list[Result]
) -> None:
    """Failed attempts in a row per subscription (a success resets it); disable at the limit."""
    by_sub: dict[str, list[Result]] = {}
    for r in sorted(results, key=lambda r: r.at):
        by_sub.setdefault(r.claimed.delivery.subscription_id, []).append(r)
    session = ctx.uow.session
    for sub_id, rs in by_sub.items():
        sub = (await session.scalars(select(S).where(S.id == sub_id).with_for_update())).one()
        for r in rs:
            sub.failures_in_a_row = 0 if r.succeeded else sub.failures_in_a_row + 1
        if sub.state == "active" and sub.failures_in_a_row >= settings.webhook_disable_after:
            last = rs[-1].error or "no answer"
            reason = f"{sub.failures_in_a_row} failed attempts in a row (last: {last})"
            await webhooks.disable(ctx, sub, reason)
