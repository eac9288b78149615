"""The HTTP API against a real database: inbox, preferences, messages, live stream."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
import pytest_asyncio
import uvicorn
from sqlalchemy import select, text

from looptrace_notifications.app import create_app
from looptrace_notifications.models import NotificationRow
from looptrace_shared.auth import mint_token

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture
async def app(settings):  # type: ignore[no-untyped-def]
    app = create_app(settings)  # no lifespan: the test migrated already, no broker needed
    yield app
    await app.state.runtime.engine.dispose()


@pytest_asyncio.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c


def auth(settings, role: str, subject: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {mint_token(settings.jwt_secret, role, subject)}"}


async def test_inbox_unread_first_and_read_receipts(client, settings, processor, story):  # type: ignore[no-untyped-def]
    o = story()
    await processor.process(o.records(o.created(), o.supplier_assigned(), o.first_stage_started()))
    me = auth(settings, "buyer", o.buyer.id)
    page = (await client.get("/v1/notifications", headers=me)).json()
    assert [n["notification_type"] for n in page["items"]] == [
        "production_started",
        "supplier_assigned",
        "order_confirmed",
    ]
    oldest = page["items"][2]["id"]
    read = await client.post(f"/v1/notifications/{oldest}/read", headers=me)
    assert read.status_code == 200 and read.json()["read_at"]
    assert (await client.get("/v1/notifications/unread-count", headers=me)).json() == {"unread": 2}
    page = (await client.get("/v1/notifications?limit=2", headers=me)).json()
    assert page["next_offset"] == 2 and all(n["read_at"] is None for n in page["items"])
    rest = await client.get(f"/v1/notifications?limit=2&cursor={page['next_cursor']}", headers=me)
    assert [n["id"] for n in rest.json()["items"]] == [oldest] and rest.json()[
        "next_cursor"
    ] is None
    other = auth(settings, "buyer", "someone-else")
    assert (await client.post(f"/v1/notifications/{oldest}/read", headers=other)).status_code == 404
    assert (await client.post("/v1/notifications/read-all", headers=me)).json() == {
        "marked_read": 2
    }
    assert (await client.get("/v1/notifications/unread-count", headers=me)).json() == {"unread": 0}
    assert (await client.get("/v1/notifications")).status_code == 401


async def add_notifications(runtime, user: str, count: int, read: bool = False) -> None:  # type: ignore[no-untyped-def]
    async with runtime.sessions() as s:
        for _ in range(count):
            eid = uuid.uuid4().hex
            s.add(
                NotificationRow(
                    source_event_id=eid,
                    source_event_type="order.created",
                    recipient_id=user,
                    recipient_role="buyer",
                    order_id=f"ord-{eid[:6]}",
                    notification_type="order_confirmed",
                    category="order_updates",
                    subject=f"Order {eid[:6]} confirmed",
                    context={},
                    read_at=datetime.now(UTC) if read else None,
                )
            )
            await s.flush()  # one id after another, as arrivals get them
        await s.commit()


async def page_through(client, headers, first_page, arrive):  # type: ignore[no-untyped-def]
    """Follow next_cursor to the end; ``arrive()`` runs before every following page."""
    seen, page = [], first_page
    while True:
        seen += [(n["read_at"] is not None, n["id"]) for n in page["items"]]
        if page["next_cursor"] is None:
            return seen
        await arrive()
        url = f"/v1/notifications?limit=3&cursor={page['next_cursor']}"
        page = (await client.get(url, headers=headers)).json()


async def inbox_rows(runtime, user: str) -> set[tuple[bool, int]]:  # type: ignore[no-untyped-def]
    q = select(NotificationRow.read_at, NotificationRow.id)
    async with runtime.sessions() as s:
        rows = (await s.execute(q.where(NotificationRow.recipient_id == user))).all()
    return {(read_at is not None, nid) for read_at, nid in rows}


async def test_keyset_pages_neither_repeat_nor_skip_while_notifications_arrive(
    client, settings, runtime
):  # type: ignore[no-untyped-def]
    user = "b-keyset"
    me = auth(settings, "buyer", user)
    await add_notifications(runtime, user, 4, read=True)
    await add_notifications(runtime, user, 5)
    existing = await inbox_rows(runtime, user)
    first = (await client.get("/v1/notifications?limit=3", headers=me)).json()
    seen = await page_through(client, me, first, lambda: add_notifications(runtime, user, 2))

    assert len(await inbox_rows(runtime, user)) == 9 + 2 * 2  # arrivals before pages 2 and 3
    assert len(seen) == len(set(seen)) == 9 and set(seen) == existing
    assert seen == sorted(existing, key=lambda r: (r[0], -r[1]))  # unread first, newest first
    newest = (await client.get("/v1/notifications?limit=1", headers=me)).json()["items"][0]
    assert newest["id"] == max(i for _, i in await inbox_rows(runtime, user))


async def test_cursor_errors_say_what_to_do(client, settings):  # type: ignore[no-untyped-def]
    me = auth(settings, "buyer", "b-cursor")
    bad = await client.get("/v1/notifications?cursor=not-ours", headers=me)
    assert bad.status_code == 422 and "pass next_cursor back unchanged" in bad.json()["detail"]
    both = await client.get("/v1/notifications?cursor=MDox&offset=2", headers=me)
    assert both.status_code == 422 and "either cursor or offset" in both.json()["detail"]


async def test_preferences_round_trip_and_zone_validation(client, settings):  # type: ignore[no-untyped-def]
    me = auth(settings, "buyer", "b-prefs")
    assert (await client.get("/v1/preferences", headers=me)).json()["mode"] == "immediate"
    bad = {"time_zone": "Mars/Olympus_Mons", "quiet_hours": {"start": "22:00", "end": "07:00"}}
    r = await client.put("/v1/preferences", json=bad, headers=me)
    assert r.status_code == 422 and "unknown time zone 'Mars/Olympus_Mons'" in r.json()["detail"]
    r = await client.put("/v1/preferences", json={"time_zone": "Nowhere/Land"}, headers=me)
    assert r.status_code == 422 and "IANA" in r.json()["detail"]
    good = {
        "email_off": ["risk"],
        "mode": "daily_digest",
        "time_zone": "Asia/Dhaka",
        "quiet_hours": {"start": "22:00", "end": "07:00"},
    }
    assert (await client.put("/v1/preferences", json=good, headers=me)).status_code == 200
    got = (await client.get("/v1/preferences", headers=me)).json()
    assert got["mode"] == "daily_digest" and got["email_off"] == ["risk"]
    assert got["quiet_hours"] == {"start": "22:00:00", "end": "07:00:00"}


async def test_a_read_receipt_says_in_which_role_it_was_read(  # type: ignore[no-untyped-def]
    client, settings, processor, story
) -> None:
    """A subject is unique within its role only: the buyer "acme" and the supplier "acme" of
    one order are two readers (keyed by subject alone, the supplier's read was swallowed)."""
    o = story()
    o.buyer = o.buyer.model_copy(update={"id": "acme"})
    o.supplier = o.supplier.model_copy(update={"id": "acme"})
    await processor.process(o.records(o.created(), o.supplier_assigned()))
    buyer, supplier = auth(settings, "buyer", "acme"), auth(settings, "supplier", "acme")
    url = f"/v1/orders/{o.order_id}/messages"
    posted = await client.post(url, json={"text": "Lab dips approved?"}, headers=buyer)
    assert posted.status_code == 201, posted.text
    mid = posted.json()["id"]
    assert (await client.post(f"{url}/{mid}/read", headers=buyer)).status_code == 204
    first = (await client.get(url, headers=supplier)).json()["items"][0]["read_by"]
    assert [(r["reader_role"], r["reader_id"]) for r in first] == [("buyer", "acme")]
    assert (await client.post(f"{url}/{mid}/read", headers=supplier)).status_code == 204
    assert (await client.post(f"{url}/{mid}/read", headers=supplier)).status_code == 204  # once
    both = (await client.get(url, headers=buyer)).json()["items"][0]["read_by"]
    assert sorted((r["reader_role"], r["reader_id"]) for r in both) == [
        ("buyer", "acme"),
        ("supplier", "acme"),
    ]


async def test_messages_between_buyer_and_supplier(client, settings, processor, runtime, story):  # type: ignore[no-untyped-def]
    o = story()
    await processor.process(o.records(o.created(), o.supplier_assigned()))
    supplier, buyer = auth(settings, "supplier", o.supplier.id), auth(settings, "buyer", o.buyer.id)
    url = f"/v1/orders/{o.order_id}/messages"
    posted = await client.post(
        url, json={"text": "Trims arrive Monday.", "attachments": ["f-1"]}, headers=supplier
    )
    assert posted.status_code == 201, posted.text
    mid = posted.json()["id"]
    inbox = (await client.get("/v1/notifications", headers=buyer)).json()["items"]
    assert inbox[0]["notification_type"] == "message_posted" and o.number in inbox[0]["subject"]
    assert (await client.post(f"{url}/{mid}/read", headers=buyer)).status_code == 204
    thread = (await client.get(url, headers=supplier)).json()["items"]
    assert thread[0]["attachments"] == ["f-1"]
    assert [r["reader_id"] for r in thread[0]["read_by"]] == [o.buyer.id]
    stranger = auth(settings, "buyer", "intruder")
    assert (await client.get(url, headers=stranger)).status_code == 404  # not yours = not there
    assert (await client.post(url, json={"text": "hi"}, headers=stranger)).status_code == 404
    assert (
        await client.get(url, headers=auth(settings, "admin", "ops@looptrace.example"))
    ).status_code == 200
    async with runtime.sessions() as s:
        types = list(await s.scalars(text("select headers->>'type' from notifications.outbox")))
    assert "notifications.message_posted" in types


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def read_events(resp: httpx.Response, n: int) -> list[str]:
    ids: list[str] = []
    async for line in resp.aiter_lines():
        if line.startswith("id: "):
            ids.append(line[4:])
            if len(ids) == n:
                return ids
    return ids


async def test_stream_resends_what_was_missed(app, settings, processor, story):  # type: ignore[no-untyped-def]
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.02)
    o = story()
    me = auth(settings, "buyer", o.buyer.id)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as c:
            async with c.stream("GET", "/v1/stream", headers=me) as resp:
                await processor.process(o.records(o.created()))
                (first,) = await asyncio.wait_for(read_events(resp, 1), 5)
            await processor.process(o.records(o.supplier_assigned(), o.first_stage_started()))
            headers = {**me, "Last-Event-ID": first}
            async with c.stream("GET", "/v1/stream", headers=headers) as resp:
                missed = await asyncio.wait_for(read_events(resp, 2), 5)
            ids = [
                int(i) for i in missed
            ]  # the buyer's two newer ones (the supplier's is not sent)
            assert ids == sorted(ids) and len(set(ids)) == 2 and min(ids) > int(first)
            bad = await c.get("/v1/stream", headers={**me, "Last-Event-ID": "yesterday"})
            assert bad.status_code == 422
    finally:
        server.should_exit = True
        await task
