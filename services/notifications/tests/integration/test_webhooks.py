"""Webhooks against a real database and a real HTTP receiver started by the test, which checks
every signature with the Standard Webhooks library (standardwebhooks, from PyPI)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from looptrace_notifications.app import create_app
from looptrace_notifications.webhook_sender import send_due
from looptrace_notifications.webhook_tables import WebhookDeliveryRow
from looptrace_shared.auth import mint_token
from looptrace_shared.embedded import free_port

pytestmark = pytest.mark.integration


@dataclass
class Receiver:
    """A real HTTP endpoint: verifies each request with the secrets it was given, answers
    ``fail_first`` errors per webhook-id before accepting, and records everything."""

    secrets: list[str] = field(default_factory=list)
    fail_first: int = 0
    always_fail: bool = False
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def answer(self, body: bytes, headers: dict[str, str]) -> int:
        verified = []
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
                verified.append(secret)
            except WebhookVerificationError:
                pass
        with self.lock:
            mid = headers.get("webhook-id", "")
            tries = sum(1 for r in self.requests if r["id"] == mid)
            code = 503 if self.always_fail or tries < self.fail_first else 200
            if not verified:
                code = 401
            self.requests.append(
                {"id": mid, "body": json.loads(body), "code": code, "verified": verified}
            )
        return code

    def accepted(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["code"] == 200]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver(port=free_port())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["content-length"]))
            code = rec.answer(body, {k.lower(): v for k, v in self.headers.items()})
            self.send_response(code)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", rec.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def hook_settings(settings):  # type: ignore[no-untyped-def]
    settings.webhook_allow_private_targets = True  # the receiver listens on 127.0.0.1
    settings.webhook_backoff_base_s = 0.01
    settings.webhook_backoff_cap_s = 0.05
    return settings


@pytest_asyncio.fixture
async def app(hook_settings):  # type: ignore[no-untyped-def]
    app = create_app(hook_settings)
    yield app
    client = app.state.runtime.state.webhook
    if client is not None:
        await client.close()
    await app.state.runtime.engine.dispose()


@pytest_asyncio.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c


@pytest.fixture
def processor(app):  # type: ignore[no-untyped-def]
    from looptrace_notifications.handlers import consumer_group
    from looptrace_notifications.models import plumbing
    from looptrace_shared.messaging.consumer import BatchProcessor

    rt = app.state.runtime
    return BatchProcessor(consumer_group(rt.settings), rt.sessions, plumbing, rt.settings)


def auth(settings, role: str, subject: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {mint_token(settings.jwt_secret, role, subject)}"}


async def subscribe(client, settings, buyer: str, url: str, types: list[str]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    body = {
        "url": url,
        "event_types": types,
        "description": "ERP",
        "contact_email": "it@buyer.example",
    }
    r = await client.post("/v1/webhooks", json=body, headers=auth(settings, "buyer", buyer))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def send_until(app, done, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    """Run the sender until ``done()`` holds (retries are due within milliseconds here)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not done():
        assert asyncio.get_running_loop().time() < deadline, "webhooks not delivered in time"
        await send_due(app.state.runtime)
        await asyncio.sleep(0.02)


async def pending(app) -> int:  # type: ignore[no-untyped-def]
    async with app.state.runtime.sessions() as s:
        q = select(func.count()).where(WebhookDeliveryRow.state.in_(("pending", "sending")))
        return int(await s.scalar(q) or 0)


TYPES = ["order.created", "production.stage_started"]
LATER = [*TYPES, "order.status_changed"]


async def test_deliveries_are_signed_envelopes_the_library_verifies(
    app, client, hook_settings, processor, story, receiver
) -> None:  # type: ignore[no-untyped-def]
    o = story()
    sub = await subscribe(client, hook_settings, o.buyer.id, receiver.url, TYPES)
    receiver.secrets = [sub["secret"]]
    events = [o.created(), o.supplier_assigned(), o.first_stage_started()]
    await processor.process(o.records(*events))
    await send_until(app, lambda: len(receiver.accepted()) == 2)
    got = sorted(receiver.accepted(), key=lambda r: TYPES.index(r["body"]["type"]))
    assert [r["body"]["type"] for r in got] == TYPES  # supplier_assigned was not subscribed
    assert {r["id"] for r in got} == {f"msg_{events[0].id}", f"msg_{events[2].id}"}
    assert all(r["verified"] == [sub["secret"]] for r in got)
    assert got[0]["body"]["data"]["order_id"] == o.order_id
    assert await pending(app) == 0


async def test_a_receiver_failing_three_times_gets_one_accepted_delivery_per_event(
    app, client, hook_settings, processor, story, receiver
) -> None:  # type: ignore[no-untyped-def]
    o = story()
    sub = await subscribe(client, hook_settings, o.buyer.id, receiver.url, TYPES)
    receiver.secrets, receiver.fail_first = [sub["secret"]], 3
    await processor.process(o.records(o.created(), o.first_stage_started()))
    await send_until(app, lambda: len(receiver.accepted()) == 2)
    await asyncio.sleep(0.2)
    await send_due(app.state.runtime)  # nothing is left to send
    per_id = Counter(r["id"] for r in receiver.requests)
    assert len(per_id) == 2 and set(per_id.values()) == {4}  # same webhook-id on every retry
    assert Counter(r["id"] for r in receiver.accepted()) == {i: 1 for i in per_id}
    me = auth(hook_settings, "buyer", o.buyer.id)
    page = (await client.get(f"/v1/webhooks/{sub['id']}/deliveries", headers=me)).json()
    assert {(d["state"], d["attempts"], d["last_status_code"]) for d in page["items"]} == {
        ("succeeded", 4, 200)
    }
    one = page["items"][0]["id"]
    log = (await client.get(f"/v1/webhooks/{sub['id']}/deliveries/{one}", headers=me)).json()
    assert [a["status_code"] for a in log["log"]] == [503, 503, 503, 200]
    assert all(a["latency_ms"] > 0 for a in log["log"])


async def test_a_disabled_subscription_gets_nothing_until_enabled(
    app, client, hook_settings, processor, story, receiver
) -> None:  # type: ignore[no-untyped-def]
    o = story()
    sub = await subscribe(client, hook_settings, o.buyer.id, receiver.url, LATER)
    receiver.secrets = [sub["secret"]]
    me = auth(hook_settings, "buyer", o.buyer.id)
    off = await client.patch(f"/v1/webhooks/{sub['id']}", json={"enabled": False}, headers=me)
    assert off.json()["state"] == "disabled"
    await processor.process(o.records(o.created(), o.first_stage_started()))
    for _ in range(10):
        await send_due(app.state.runtime)
    assert receiver.requests == []
    on = await client.patch(f"/v1/webhooks/{sub['id']}", json={"enabled": True}, headers=me)
    assert on.json()["state"] == "active"
    await processor.process(o.records(o.qc_passed(), o.shipped()))
    await send_until(app, lambda: len(receiver.accepted()) == 1)  # stage_started is not back
    for _ in range(5):
        await send_due(app.state.runtime)
    assert [r["body"]["type"] for r in receiver.requests] == ["order.status_changed"]


async def test_repeated_failure_disables_and_tells_the_owner_by_mail(
    app, client, hook_settings, processor, story, receiver, smtp, mailer_drain
) -> None:  # type: ignore[no-untyped-def]
    hook_settings.webhook_disable_after = 3
    o = story()
    sub = await subscribe(client, hook_settings, o.buyer.id, receiver.url, TYPES)
    receiver.secrets, receiver.always_fail = [sub["secret"]], True
    await processor.process(o.records(o.created()))
    me = auth(hook_settings, "buyer", o.buyer.id)

    async def state() -> str:
        return (await client.get(f"/v1/webhooks/{sub['id']}", headers=me)).json()["state"]  # type: ignore[no-any-return]

    deadline = asyncio.get_running_loop().time() + 30
    while await state() != "disabled":
        assert asyncio.get_running_loop().time() < deadline
        await send_due(app.state.runtime)
        await asyncio.sleep(0.02)
    tried = len(receiver.requests)
    assert tried == 3
    for _ in range(5):
        await send_due(app.state.runtime)
    assert len(receiver.requests) == tried, "a disabled subscription is not sent to"
    await mailer_drain(app.state.runtime)
    mails = smtp[0].to("it@buyer.example")
    assert len(mails) == 1 and receiver.url in str(mails[0]["Subject"])
    assert "3 failed attempts in a row" in mails[0].get_body(("plain",)).get_content()


async def test_a_buyer_never_receives_another_buyers_events(
    app, client, hook_settings, processor, story, receiver
) -> None:  # type: ignore[no-untyped-def]
    mine, theirs = story(), story()
    sub = await subscribe(client, hook_settings, mine.buyer.id, receiver.url, TYPES)
    receiver.secrets = [sub["secret"]]
    await processor.process(theirs.records(theirs.created(), theirs.first_stage_started()))
    await processor.process(mine.records(mine.created()))
    await send_until(app, lambda: len(receiver.accepted()) == 1)
    for _ in range(5):
        await send_due(app.state.runtime)
    assert {r["body"]["subject"] for r in receiver.requests} == {mine.order_id}
    other = auth(hook_settings, "buyer", theirs.buyer.id)
    assert (await client.get(f"/v1/webhooks/{sub['id']}", headers=other)).status_code == 404
    assert (await client.get("/v1/webhooks", headers=other)).json() == []
    spoof = {"url": receiver.url, "event_types": TYPES, "owner_id": mine.buyer.id}
    assert (await client.post("/v1/webhooks", json=spoof, headers=other)).status_code == 404


async def test_an_admin_subscribes_for_a_buyer_and_must_name_one(
    client, hook_settings, receiver
) -> None:  # type: ignore[no-untyped-def]
    admin = auth(hook_settings, "admin", "ops@looptrace.example")
    body = {"url": receiver.url, "event_types": TYPES}
    refused = await client.post("/v1/webhooks", json=body, headers=admin)
    assert refused.status_code == 422 and "owner_id" in refused.json()["detail"]
    made = await client.post("/v1/webhooks", json={**body, "owner_id": "b-9"}, headers=admin)
    assert made.status_code == 201 and made.json()["owner_id"] == "b-9"
    mine = (await client.get("/v1/webhooks", headers=auth(hook_settings, "buyer", "b-9"))).json()
    assert [s["id"] for s in mine] == [made.json()["id"]]
    bad = await client.post(
        "/v1/webhooks",
        json={**body, "owner_id": "b-9", "event_types": ["OrderPlaced"]},
        headers=admin,
    )
    assert bad.status_code == 422 and "order.created" in bad.json()["detail"]


async def test_secret_rotation_keeps_the_old_secret_valid_for_the_overlap(
    app, client, hook_settings, processor, story, receiver
) -> None:  # type: ignore[no-untyped-def]
    o = story()
    sub = await subscribe(client, hook_settings, o.buyer.id, receiver.url, ["order.created"])
    me = auth(hook_settings, "buyer", o.buyer.id)
    rotated = (await client.post(f"/v1/webhooks/{sub['id']}/rotate-secret", headers=me)).json()
    old, new = sub["secret"], rotated["secret"]
    assert old != new and rotated["previous_secret_until"]
    receiver.secrets = [old, new]
    await processor.process(o.records(o.created()))
    await send_until(app, lambda: len(receiver.accepted()) == 1)
    assert sorted(receiver.accepted()[0]["verified"]) == sorted([old, new])

    hook_settings.webhook_secret_overlap_s = 0  # a rotation without overlap: the old one is out
    again = (await client.post(f"/v1/webhooks/{sub['id']}/rotate-secret", headers=me)).json()
    receiver.secrets = [new, again["secret"]]
    delivery = (await client.get(f"/v1/webhooks/{sub['id']}/deliveries", headers=me)).json()
    did = delivery["items"][0]["id"]
    r = await client.post(f"/v1/webhooks/{sub['id']}/deliveries/{did}/redeliver", headers=me)
    assert r.status_code == 202
    await send_until(app, lambda: len(receiver.accepted()) == 2)
    first, second = receiver.accepted()
    assert second["id"] == first["id"], "a redelivery keeps its webhook-id"
    assert second["verified"] == [again["secret"]]


async def test_private_targets_are_refused_unless_allowed(client, hook_settings) -> None:  # type: ignore[no-untyped-def]
    hook_settings.webhook_allow_private_targets = False
    me = auth(hook_settings, "buyer", "b-1")
    for url in ("http://127.0.0.1:9/hook", "http://10.0.0.7/hook", "http://169.254.169.254/"):
        r = await client.post("/v1/webhooks", json={"url": url, "event_types": TYPES}, headers=me)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "WEBHOOK_ALLOW_PRIVATE_TARGETS" in r.json()["detail"]


async def test_an_event_before_its_order_is_known_waits_then_is_delivered(
    app, client, hook_settings, processor, story, receiver
) -> None:  # type: ignore[no-untyped-def]
    o = story()
    sub = await subscribe(client, hook_settings, o.buyer.id, receiver.url, TYPES)
    receiver.secrets = [sub["secret"]]
    await processor.process(o.records(o.first_stage_started()))  # before order.created
    await processor.process(o.records(o.created()))
    await processor.retry_parked()
    await send_until(app, lambda: len(receiver.accepted()) == 2)
    assert sorted(r["body"]["type"] for r in receiver.accepted()) == sorted(TYPES)


async def test_a_name_that_resolves_internally_at_send_time_is_never_connected_to(
    app, client, hook_settings, processor, story, receiver
) -> None:  # type: ignore[no-untyped-def]
    """Saved while the name looked fine (here: while private targets were allowed), it resolves
    to loopback when the sender connects: the client's own lookup refuses it, nothing arrives."""
    o = story()
    by_name = receiver.url.replace("127.0.0.1", "localhost")
    by_name_sub = await subscribe(client, hook_settings, o.buyer.id, by_name, TYPES)
    by_literal_sub = await subscribe(client, hook_settings, o.buyer.id, receiver.url, TYPES)
    hook_settings.webhook_allow_private_targets = False
    await processor.process(o.records(o.created()))
    assert await send_due(app.state.runtime) == 2
    assert receiver.requests == [], "a delivery reached the loopback receiver"
    me = auth(hook_settings, "buyer", o.buyer.id)
    for sub, why in ((by_name_sub, "'localhost' resolves to "), (by_literal_sub, "127.0.0.1")):
        page = (await client.get(f"/v1/webhooks/{sub['id']}/deliveries", headers=me)).json()
        (delivery,) = page["items"]
        assert delivery["state"] == "pending" and delivery["attempts"] == 1
        assert (
            why in delivery["last_error"]
            and "WEBHOOK_ALLOW_PRIVATE_TARGETS" in (delivery["last_error"])
        )
