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
from sqlalchemy import and_, or_, select, text, update

from looptrace_notifications import webhooks
from looptrace_notifications.config import NotificationsSettings
from looptrace_notifications.services import NotificationsContext
from looptrace_notifications.webhook_signing import headers
from looptrace_notifications.webhook_tables import (
    WebhookDeliveryRow,
    WebhookSubscriptionRow,
)
from looptrace_notifications.webhook_targets import (
    InternalAddress,
    PublicOnlyResolver,
    WebhookTargetRefused,
    refuse_internal_literal,
)
from looptrace_shared.db import json_rows
from looptrace_shared.runtime import Runtime

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


@dataclass
class Clients:
    """What notifications keeps for the life of the process (``Runtime.state``): one HTTP
    client for webhooks, made on first use, whose connections are kept alive between runs."""

    webhook: aiohttp.ClientSession | None = None


def client_for(runtime: Runtime[NotificationsSettings, Clients]) -> aiohttp.ClientSession:
    """The process's webhook client (a new one if there is none yet or it was closed)."""
    clients = runtime.state
    if clients.webhook is None or clients.webhook.closed:
        s = runtime.settings
        resolver = PublicOnlyResolver(lambda: s.webhook_allow_private_targets)
        connector = aiohttp.TCPConnector(
            limit=s.webhook_concurrency, ttl_dns_cache=60, resolver=resolver
        )
        timeout = aiohttp.ClientTimeout(total=s.webhook_timeout_s)
        clients.webhook = aiohttp.ClientSession(
            connector=connector, timeout=timeout, auto_decompress=False
        )
    return clients.webhook


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
            refuse_internal_literal(c.url, s.webhook_allow_private_targets)
            sent = headers(c.secrets, c.delivery.message_id, int(time.time()), body)
            async with client.post(c.url, data=body, headers=sent, allow_redirects=False) as r:
                text = await r.text(errors="replace") if r.status >= 300 else ""
                code, error = (
                    r.status,
                    f"HTTP {r.status}: {text[:300]}" if r.status >= 300 else None,
                )
        except WebhookTargetRefused as err:
            code, error = None, str(err)
        except aiohttp.ClientConnectorDNSError as err:
            refused = isinstance(err.os_error, InternalAddress)
            code, error = None, str(err.os_error) if refused else f"{type(err).__name__}: {err}"
        except (aiohttp.ClientError, TimeoutError) as err:
            code, error = None, f"{type(err).__name__}: {err}"[:500]
        return Result(c, at, code, (time.perf_counter() - started) * 1000, error)


SCHEMA = "notifications"
RECORD_ATTEMPTS = text(
    f"INSERT INTO {SCHEMA}.webhook_attempts"
    " (delivery_id, attempted_at, status_code, latency_ms, error, succeeded)"
    " SELECT delivery_id, attempted_at, status_code, latency_ms, error, succeeded"
    " FROM json_to_recordset(CAST(:rows AS json)) AS r(delivery_id bigint,"
    " attempted_at timestamptz, status_code int, latency_ms float8, error text, succeeded bool)"
)
RECORD_OUTCOMES = text(
    f"UPDATE {SCHEMA}.webhook_deliveries AS d SET state = r.state, attempts = r.attempts,"
    " first_attempt_at = r.first_attempt_at, next_attempt_at = r.next_attempt_at,"
    " claimed_at = NULL, last_status_code = r.last_status_code,"
    " last_latency_ms = r.last_latency_ms, last_error = r.last_error,"
    " delivered_at = r.delivered_at"
    " FROM json_to_recordset(CAST(:rows AS json)) AS r(did bigint, state text, attempts int,"
    " first_attempt_at timestamptz, next_attempt_at timestamptz, last_status_code int,"
    " last_latency_ms float8, last_error text, delivered_at timestamptz)"
    " WHERE d.id = r.did"
)
COUNT_FAILURES = text(
    f"UPDATE {SCHEMA}.webhook_subscriptions AS s SET failures_in_a_row ="
    " CASE WHEN r.reset THEN r.failed ELSE s.failures_in_a_row + r.failed END"
    " FROM json_to_recordset(CAST(:rows AS json)) AS r(id text, reset bool, failed int)"
    " WHERE s.id = r.id RETURNING s.id, s.failures_in_a_row, s.state"
)


async def _record(runtime: Any, settings: NotificationsSettings, results: list[Result]) -> None:
    """Every attempt, every delivery's new state and every subscription's failure count: one
    statement each (a batch's rows as one JSON parameter)."""
    async with runtime.unit_of_work() as uow:
        session = uow.session
        await session.execute(RECORD_ATTEMPTS, {"rows": json_rows([_attempt(r) for r in results])})
        outcomes = [_outcome(settings, r) for r in results]
        await session.execute(RECORD_OUTCOMES, {"rows": json_rows(outcomes)})
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
        "last_status_code": r.status_code,
        "last_latency_ms": r.latency_ms,
        "last_error": r.error,
        "delivered_at": r.at if r.succeeded else None,
    }


def failure_counts(results: list[Result]) -> dict[str, tuple[bool, int]]:
    """Per subscription: (whether an attempt succeeded — the count restarts —, failures since
    the last success, or in all when none did)."""
    out: dict[str, tuple[bool, int]] = {}
    for r in sorted(results, key=lambda r: r.at):
        reset, failed = out.get(r.claimed.delivery.subscription_id, (False, 0))
        out[r.claimed.delivery.subscription_id] = (True, 0) if r.succeeded else (reset, failed + 1)
    return out


async def _count_failures(
    ctx: NotificationsContext, settings: NotificationsSettings, results: list[Result]
) -> None:
    """Failed attempts in a row per subscription (a success resets it); disable at the limit."""
    rows = [{"id": k, "reset": v[0], "failed": v[1]} for k, v in failure_counts(results).items()]
    counted = (await ctx.uow.session.execute(COUNT_FAILURES, {"rows": json_rows(rows)})).all()
    limit = settings.webhook_disable_after
    for sub_id, failures, state in counted:
        if state == "active" and failures >= limit:
            sub = (await ctx.uow.session.scalars(select(S).where(S.id == sub_id))).one()
            last = next(
                r.error for r in reversed(results) if r.claimed.delivery.subscription_id == sub_id
            )
            reason = f"{failures} failed attempts in a row (last: {last or 'no answer'})"
            await webhooks.disable(ctx, sub, reason)
