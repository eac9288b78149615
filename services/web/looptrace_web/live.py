"""An open order page's live stream (server-sent events): ``changed`` whenever anything the
page shows changed, and the user's notifications about this order as they come."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Request
from starlette.responses import StreamingResponse

from looptrace_web.config import WebSettings
from looptrace_web.deps import SettingsDep, User, UserDep

router = APIRouter()

CHANGED = "event: changed\ndata: {}\n\n"


async def fingerprint(user: User, ref: str) -> str:
    b, oid = user.backend, quote(ref, safe="")
    parts = await asyncio.gather(
        b.maybe("orders", f"/v1/orders/{oid}"),
        b.maybe("production", f"/v1/orders/{oid}/timeline"),
        b.maybe("quality", f"/v1/orders/{oid}/inspections"),
        b.maybe("predictions", f"/v1/orders/{oid}/risk", {"limit": 1}),
        b.maybe("notifications", f"/v1/orders/{oid}/messages"),
        return_exceptions=True,
    )
    text = json.dumps([p if not isinstance(p, BaseException) else None for p in parts],
                      sort_keys=True, default=str)  # fmt: skip
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class OrderFeed:
    """What one open order page is told, queued as server-sent events."""

    user: User
    order_id: str
    settings: WebSettings
    queue: asyncio.Queue[str] = field(default_factory=asyncio.Queue)

    async def poll(self) -> None:
        seen = await fingerprint(self.user, self.order_id)
        while True:
            await asyncio.sleep(self.settings.live_poll_s)
            now = await fingerprint(self.user, self.order_id)
            if now != seen:
                seen = now
                await self.queue.put(CHANGED)

    async def relay_notifications(self) -> None:
        """The user's own notifications stream (notifications service), this order's
        notifications passed on: shown at once, and the page refreshed."""
        url = self.settings.service_url("notifications") + "/v1/stream"
        backend = self.user.backend
        while True:
            try:
                async with backend.http.stream(
                    "GET", url, headers=backend._headers(), timeout=None
                ) as r:
                    async for line in r.aiter_lines():
                        await self._pass_on(line)
            except (httpx.HTTPError, ValueError):
                pass
            await asyncio.sleep(2)  # the notifications service is away: try again

    async def _pass_on(self, line: str) -> None:
        if not line.startswith("data: "):
            return
        note = json.loads(line[6:])
        if note.get("order_id") == self.order_id:
            body = json.dumps({"subject": note.get("subject"),
                               "type": note.get("notification_type")})  # fmt: skip
            await self.queue.put(f"event: notification\ndata: {body}\n\n")
            await self.queue.put(CHANGED)

    async def events(self, request: Request) -> AsyncIterator[str]:
        tasks = [asyncio.create_task(self.poll()), asyncio.create_task(self.relay_notifications())]
        try:
            yield "retry: 1000\n: connected\n\n"
            while not await request.is_disconnected():
                try:
                    yield await asyncio.wait_for(self.queue.get(), timeout=15)
                except TimeoutError:
                    yield ": keep-alive\n\n"
        finally:
            for t in tasks:
                t.cancel()


@router.get("/orders/{ref}/live")
async def order_live(
    request: Request, ref: str, user: UserDep, settings: SettingsDep
) -> StreamingResponse:
    """Server-sent events: ``changed`` whenever anything the order page shows changed."""
    order = await user.backend.get("orders", f"/v1/orders/{quote(ref, safe='')}")
    feed = OrderFeed(user, order["id"], settings)
    return StreamingResponse(feed.events(request), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})  # fmt: skip
