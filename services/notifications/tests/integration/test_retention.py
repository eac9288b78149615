"""Retention of messages: a completed order's thread moves to cold storage after
RETENTION_YEARS and reads the same over HTTP; a rerun moves nothing twice (real PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text

from looptrace_notifications import retention
from looptrace_notifications.app import create_app
from looptrace_shared.auth import mint_token
from looptrace_shared.envelope import new_envelope
from looptrace_shared.events import orders as o

pytestmark = pytest.mark.integration


def auth(settings, role: str, subject: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {mint_token(settings.jwt_secret, role, subject)}"}


def completed(story, years_ago: float):  # type: ignore[no-untyped-def]
    data = o.OrderStatusChanged(
        order_id=story.order_id, order_number=story.number, from_status="delivered",
        to_status="completed", status="completed", production_status="completed",
    )  # fmt: skip
    env = new_envelope("order.status_changed", "orders", story.order_id, data)
    return env.model_copy(update={"time": datetime.now(UTC) - timedelta(days=365 * years_ago)})


async def test_a_completed_order_s_messages_move_and_read_the_same(
    settings, processor, runtime, story
) -> None:  # type: ignore[no-untyped-def]
    old, recent = story(), story()
    for s in (old, recent):
        await processor.process(s.records(s.created(), s.supplier_assigned()))
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        supplier = auth(settings, "supplier", old.supplier.id)
        buyer = auth(settings, "buyer", old.buyer.id)
        for s in (old, recent):
            url = f"/v1/orders/{s.order_id}/messages"
            sup = auth(settings, "supplier", s.supplier.id)
            mid = (await c.post(url, json={"text": "Trims arrive Monday."}, headers=sup)).json()[
                "id"
            ]
            await c.post(f"{url}/{mid}/read", headers=auth(settings, "buyer", s.buyer.id))
            await c.post(url, json={"text": "Thanks"}, headers=auth(settings, "buyer", s.buyer.id))
        await processor.process(
            old.records(completed(old, 3)) + recent.records(completed(recent, 1))
        )
        url = f"/v1/orders/{old.order_id}/messages"
        before = [(await c.get(url, headers=h)).json() for h in (supplier, buyer)]
        assert len(before[0]["items"]) == 2 and before[0]["items"][0]["read_by"]

        dry = await retention.run(runtime.engine, settings, dry_run=True)
        assert dry.rows == {"messages": 2, "message_reads": 1} and dry.orders == 1
        report = await retention.run(runtime.engine, settings)
        assert report.rows == {"messages": 2, "message_reads": 1} and report.orders == 1
        assert [(await c.get(url, headers=h)).json() for h in (supplier, buyer)] == before
        stranger = auth(settings, "buyer", "intruder")
        assert (await c.get(url, headers=stranger)).status_code == 404
        again = await retention.run(runtime.engine, settings)
        assert again.orders == 0 and again.rows == {}
        async with runtime.sessions() as s:
            q = "SELECT count(*) FROM {}.messages WHERE order_id = :o"
            live = await s.scalar(text(q.format("notifications")), {"o": old.order_id})
            cold = await s.scalar(text(q.format("notifications_archive")), {"o": old.order_id})
            kept = await s.scalar(text(q.format("notifications")), {"o": recent.order_id})
        assert (live, cold, kept) == (0, 2, 2)  # the recent order's thread stays live
    await app.state.runtime.engine.dispose()
