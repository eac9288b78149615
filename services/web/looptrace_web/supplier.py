"""The supplier's pages: its own page (calendar, load, quality record, scorecard), the change
of its working calendar, and the stage card on an order's page (progress and photos)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from looptrace_shared.events.bounds import check_id
from looptrace_web.backend import BackendError, problem_of
from looptrace_web.deps import Csrf, SettingsDep, User, UserDep
from looptrace_web.pages import page, wants_json

router = APIRouter()

ACTIVE = ["assigned_to_supplier", "in_production", "delayed", "quality_check"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def supplier_of(user: User, supplier: str) -> str:
    if user.role == "supplier":
        return user.subject
    if user.role == "admin" and supplier.strip():
        try:
            return check_id(supplier.strip())
        except ValueError as err:
            raise BackendError(422, f"supplier: {err}") from None
    raise BackendError(403, "this page is a supplier's own (admins: ?supplier=<id>)")


@router.post("/orders/{ref}/stages/{stage}/progress", dependencies=[Csrf])
async def report_progress(request: Request, ref: str, stage: int, user: UserDep) -> Response:
    """The supplier's stage card: percentage and notes, reported to production."""
    if "json" in request.headers.get("content-type", ""):
        body = await request.json()
    else:
        body = dict(await request.form())
    try:
        percentage = float(body.get("percentage", ""))
    except (TypeError, ValueError):
        raise BackendError(422, "percentage: give a number from 0 to 100") from None
    report: dict[str, Any] = {
        "order_id": ref, "stage": stage, "percentage": percentage,
        "reported_at": datetime.now(UTC).isoformat(),
    }  # fmt: skip
    notes = str(body.get("notes") or "").strip()
    if notes:
        report["notes"] = notes
    result = await user.backend.post("production", "/v1/progress", report)
    if wants_json(request):
        return JSONResponse({"ok": True, "result": result})
    return RedirectResponse(f"/orders/{quote(ref, safe='')}#stage-{stage}", status_code=303)


@router.get("/supplier", response_class=HTMLResponse)
async def supplier_page(request: Request, user: UserDep, supplier: str = "") -> Response:
    sid = supplier_of(user, supplier)
    b, q = user.backend, quote(sid, safe="")
    calendar, quality, cards, active = await asyncio.gather(
        b.get("production", f"/v1/suppliers/{q}/calendar"),
        b.maybe("quality", f"/v1/suppliers/{q}/quality"),
        b.maybe("predictions", "/v1/analytics/scorecards", {"supplier": sid}),
        b.get("orders", "/v1/orders", {"supplier_id": sid, "limit": 200, "status": ACTIVE}),
    )
    card = next(iter((cards or {}).get("suppliers", [])), None)
    return page(request, "supplier.html", sid=sid, calendar=calendar, quality=quality,
                card=card, active=active["items"], more=bool(active.get("next_cursor")),
                days=DAYS)  # fmt: skip


@router.post("/supplier/calendar", dependencies=[Csrf])
async def change_calendar(request: Request, user: UserDep) -> Response:
    form = await request.form()
    sid = supplier_of(user, str(form.get("supplier") or ""))
    weekend = sorted({int(str(d)) for d in form.getlist("weekend") if str(d).isdigit()})
    holidays = [h.strip() for h in str(form.get("holidays") or "").splitlines() if h.strip()]
    version = str(form.get("version") or "")
    await user.backend.call(
        "PUT", "production", f"/v1/suppliers/{quote(sid, safe='')}/calendar",
        json={"weekend": weekend, "holidays": holidays},
        headers={"If-Match": f'"{version}"'} if version.isdigit() else None,
    )  # fmt: skip
    back = "/supplier" + (f"?supplier={quote(sid)}" if user.role == "admin" else "")
    return RedirectResponse(back, status_code=303)


@router.post("/orders/{ref}/stages/{stage}/photos", dependencies=[Csrf])
async def upload_photo(
    request: Request, ref: str, stage: int, user: UserDep, settings: SettingsDep
) -> Response:
    """A stage photo from the supplier's card, passed on to production as it came."""
    form = await request.form()
    upload = form.get("photo")
    if upload is None or isinstance(upload, str) or not upload.filename:
        raise BackendError(422, "photo: choose a JPEG, PNG or WebP file")
    data = await upload.read()
    oid = quote(ref, safe="")
    url = settings.service_url("production") + f"/v1/orders/{oid}/stages/{stage}/photos"
    r = await user.backend.http.post(
        url, headers=user.backend._headers(),
        files={"file": (upload.filename, data, upload.content_type or "application/octet-stream")},
    )  # fmt: skip
    if r.status_code >= 400:
        raise problem_of(r)
    return RedirectResponse(f"/orders/{oid}#stage-{stage}", status_code=303)
