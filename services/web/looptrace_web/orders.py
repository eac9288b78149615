"""The order list and an order's page as every role sees it (buyer, supplier, admin): its
timeline, inspections, risk, messages and history; the messages posted on it and its photos."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from looptrace_web import charts
from looptrace_web.backend import BackendError
from looptrace_web.deps import Csrf, SettingsDep, User, UserDep
from looptrace_web.pages import page

router = APIRouter()

STATUSES = [
    "placed", "assigned_to_supplier", "in_production", "delayed", "quality_check", "shipped",
    "delivered", "completed", "cancelled", "quote_requested", "quote_provided", "quote_accepted",
]  # fmt: skip
SORTS = {
    "-created_at": "newest first",
    "created_at": "oldest first",
    "target_date": "target date, soonest",
    "-target_date": "target date, latest",
    "order_number": "order number",
}
PAGE_SIZE = 20


def _list_params(
    status: str, q: str, sort: str, cursor: str, limit: int, delayed: bool
) -> dict[str, Any]:
    """The orders service's query for the list's filters (unknown ones left out)."""
    params: dict[str, Any] = {
        "limit": limit,
        "delayed_only": delayed,
        "sort": sort if sort in SORTS else "-created_at",
    }
    if status in STATUSES:
        params["status"] = status
    if q.strip():
        params["number_prefix"] = q.strip()
    if cursor:
        params["cursor"] = cursor
    return params


async def _orders_or_error(user: User, params: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The page of orders, or none and why the orders service refused the filters."""
    try:
        return await user.backend.get("orders", "/v1/orders", params), None
    except BackendError as err:
        if err.status >= 500:
            raise
        return {"items": [], "next_cursor": None}, err.detail


def _next_url(found: dict[str, Any], status: str, q: str, sort: str, limit: int,
              delayed: bool) -> str | None:  # fmt: skip
    if not found.get("next_cursor"):
        return None
    query = httpx.QueryParams({"status": status, "q": q, "sort": sort,
                               "cursor": found["next_cursor"], "limit": limit, "delayed": delayed})  # fmt: skip
    return "/orders?" + str(query)


@router.get("/orders", response_class=HTMLResponse)
async def orders(
    request: Request,
    user: UserDep,
    status: str = "",
    q: str = "",
    sort: str = "-created_at",
    cursor: str = "",
    limit: Annotated[int, Query(ge=1, le=100)] = PAGE_SIZE,
    delayed: bool = False,
) -> Response:
    params = _list_params(status, q, sort, cursor, limit, delayed)
    found, error = await _orders_or_error(user, params)
    nxt = _next_url(found, status, q, params["sort"], limit, delayed)
    return page(request, "orders.html", orders=found["items"], next_url=nxt, status=status,
                q=q, sort=params["sort"], statuses=STATUSES, sorts=SORTS, error=error,
                first_page=not cursor, delayed=delayed)  # fmt: skip


async def _suppliers(user: User) -> list[str]:
    """For an admin's assignment form: the suppliers of recent orders."""
    if user.role != "admin":
        return []
    recent = await user.backend.maybe("orders", "/v1/orders", {"limit": 200})
    return sorted({o["supplier"]["id"] for o in (recent or {}).get("items", [])
                   if o.get("supplier")})  # fmt: skip


async def order_view(user: User, ref: str) -> dict[str, Any]:
    b = user.backend
    order = await b.get("orders", f"/v1/orders/{quote(ref, safe='')}")
    oid = quote(order["id"], safe="")
    timeline, inspections, risk, messages, history = await asyncio.gather(
        b.maybe("production", f"/v1/orders/{oid}/timeline"),
        b.maybe("quality", f"/v1/orders/{oid}/inspections"),
        b.maybe("predictions", f"/v1/orders/{oid}/risk", {"limit": 1}),
        b.maybe("notifications", f"/v1/orders/{oid}/messages"),
        b.maybe("orders", f"/v1/orders/{oid}/history"),
    )
    suppliers = await _suppliers(user)
    chart = charts.stage_timeline(timeline["stages"], timeline["target_date"]) if timeline else ""
    latest = (risk or {}).get("history") or [{}]
    return {
        "order": order, "timeline": timeline, "chart": chart,
        "inspections": (inspections or {}).get("items", []), "risk": risk,
        "assessment": latest[0], "messages": (messages or {}).get("items", []),
        "history": history or [], "suppliers": suppliers,
    }  # fmt: skip


@router.get("/orders/{ref}", response_class=HTMLResponse)
async def order_page(request: Request, ref: str, user: UserDep) -> Response:
    return page(request, "order.html", **await order_view(user, ref))


@router.get("/orders/{ref}/panel", response_class=HTMLResponse)
async def order_panel(request: Request, ref: str, user: UserDep) -> Response:
    """The order page's body alone: what the live script swaps in when something changed."""
    return page(request, "_order_body.html", **await order_view(user, ref))


@router.post("/orders/{ref}/messages", dependencies=[Csrf])
async def post_message(ref: str, user: UserDep, text: Annotated[str, Form()]) -> Response:
    oid = quote(ref, safe="")
    await user.backend.post("notifications", f"/v1/orders/{oid}/messages", {"text": text})
    return RedirectResponse(f"/orders/{oid}#messages", status_code=303)


@router.post("/orders/{ref}/messages/{message_id}/read", dependencies=[Csrf])
async def read_message(ref: str, message_id: str, user: UserDep) -> Response:
    """A read receipt: the page says it when it showed the user another's message."""
    path = f"/v1/orders/{quote(ref, safe='')}/messages/{quote(message_id, safe='')}/read"
    await user.backend.post("notifications", path, None)
    return Response(status_code=204)


@router.get("/orders/{ref}/photos/{photo_id}")
async def photo(
    ref: str, photo_id: str, user: UserDep, settings: SettingsDep, thumbnail: bool = False
) -> Response:
    """A photo (or its thumbnail) fetched from production with the user's token."""
    path = f"/v1/orders/{quote(ref, safe='')}/photos/{quote(photo_id, safe='')}"
    path += "/thumbnail" if thumbnail else ""
    r = await user.backend.http.get(settings.service_url("production") + path,
                                    headers=user.backend._headers())  # fmt: skip
    if r.status_code != 200:
        raise BackendError(404, f"no photo {photo_id!r} on order {ref!r} visible to you")
    return Response(r.content, media_type=r.headers.get("content-type", "image/jpeg"),
                    headers={"Cache-Control": "private, max-age=3600"})  # fmt: skip
