"""The console's routes: sign-in, the order list and page (buyer, supplier, admin), the
supplier's stage card, the admin's assignment and model registry, and a live stream per order."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import httpx
from fastapi import Depends, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from looptrace_shared.auth import ROLES, Principal, Unauthenticated, mint_token, verify_token
from looptrace_shared.events.bounds import check_id
from looptrace_shared.messaging.dlq import read_dead_letters, replay
from looptrace_shared.topics import ALL_TOPICS, dlq
from looptrace_web import charts, oidc
from looptrace_web.backend import Backend, BackendError, problem_of
from looptrace_web.config import WebSettings
from looptrace_web.session import (
    browser_value,
    csrf_ok,
    csrf_token,
    end_session,
    remember_browser,
    signed_in,
    start_session,
)

HERE = Path(__file__).parent
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
DLQ_PAGE = 200


class NeedsSignIn(Exception):
    def __init__(self, path: str) -> None:
        self.path = path


class BadCsrf(Exception):
    pass


class User:
    """The signed-in user of this request, and the services as that user sees them."""

    def __init__(self, principal: Principal, backend: Backend) -> None:
        self.principal, self.backend = principal, backend
        self.role, self.subject = principal.role, principal.subject


async def current_user(request: Request) -> User:
    settings: WebSettings = request.app.state.settings
    found = await run_in_threadpool(signed_in, request, settings)
    if found is None:
        query = f"?{request.url.query}" if request.url.query else ""
        raise NeedsSignIn(request.url.path + query)
    principal, token = found
    user = User(principal, Backend(request.app.state.http, settings, token))
    request.state.user = user
    return user


async def check_csrf(request: Request) -> None:
    sent = request.headers.get("x-csrf-token")
    if sent is None and "form" in request.headers.get("content-type", ""):
        sent = str((await request.form()).get("csrf") or "") or None
    if not csrf_ok(request, request.app.state.settings, sent):
        raise BadCsrf


UserDep = Annotated[User, Depends(current_user)]
Csrf = Depends(check_csrf)


def load_settings() -> WebSettings:
    return WebSettings()


NEXT_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9/._~%?&=+\-:@]*")


def _safe_next(value: str | None) -> str:
    """Only a path of this site is followed after sign-in: never //host, a scheme, a
    backslash, or the tabs and new lines browsers drop (``/\t/evil`` is ``//evil``)."""
    if value and NEXT_PATH.fullmatch(value):
        return value
    return "/orders"


def _link(url: object) -> str:
    """Only web links are rendered as links (never ``javascript:`` or ``data:``)."""
    text = str(url or "")
    return text if text.lower().startswith(("https://", "http://")) else "#"


SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; script-src 'self'; "
    "style-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def create_app(settings: WebSettings | None = None) -> FastAPI:
    settings = settings or load_settings()
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["ROLES"] = ROLES
    templates.env.filters["day"] = lambda v: str(v)[:10] if v else "—"
    templates.env.filters["link"] = _link
    templates.env.filters["moment"] = lambda v: str(v)[:16].replace("T", " ") if v else "—"

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.http = httpx.AsyncClient(timeout=10)
        yield
        await app.state.http.aclose()

    app = FastAPI(title="LoopTrace console", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        if request.url.path != "/static" and not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    def page(request: Request, name: str, code: int = 200, **ctx: Any) -> HTMLResponse:
        ctx.setdefault("user", getattr(request.state, "user", None))
        ctx["csrf"] = csrf_token(settings, browser_value(request))
        resp = templates.TemplateResponse(request, name, ctx, status_code=code)
        remember_browser(request, resp, settings)
        return resp

    def wants_json(request: Request) -> bool:
        return "application/json" in request.headers.get("accept", "")

    @app.exception_handler(NeedsSignIn)
    async def _sign_in(request: Request, exc: NeedsSignIn) -> Response:
        if wants_json(request) or request.url.path.endswith("/live"):
            return JSONResponse({"detail": "sign in first", "status": 401}, status_code=401)
        return RedirectResponse(f"/signin?next={quote(exc.path)}", status_code=303)

    @app.exception_handler(BadCsrf)
    async def _bad_csrf(request: Request, exc: BadCsrf) -> Response:
        detail = "the form's CSRF token is missing or wrong: reload the page and send it again"
        if wants_json(request):
            return JSONResponse({"detail": detail, "status": 403}, status_code=403)
        return page(request, "error.html", 403, title="Refused", detail=detail)

    @app.exception_handler(BackendError)
    async def _backend(request: Request, exc: BackendError) -> Response:
        if wants_json(request):
            body = {"detail": exc.detail, "rule": exc.rule, "status": exc.status}
            return JSONResponse(body, status_code=exc.status)
        titles = {404: "Not found", 403: "Not allowed", 401: "Sign in again"}
        status = exc.status if exc.status < 500 else 502
        return page(request, "error.html", status, title=titles.get(exc.status, "Refused"),
                    detail=exc.detail)  # fmt: skip

    # ---- health (what `up` and compose look at) --------------------------------------------

    @app.get("/health/live", include_in_schema=False)
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/health/ready", include_in_schema=False)
    async def ready() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/health/drain", include_in_schema=False)
    async def drain() -> dict[str, object]:
        return {"outbox": 0, "lag": {}, "drained": True}  # the console holds nothing in flight

    # ---- sign-in ------------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    async def home(request: Request) -> Response:
        found = await run_in_threadpool(signed_in, request, settings)
        return RedirectResponse("/orders" if found else "/signin", status_code=303)

    @app.get("/signin", response_class=HTMLResponse)
    async def signin_form(request: Request, next: str | None = None) -> Response:
        return page(request, "signin.html", next=_safe_next(next), dev=settings.console_dev_signin,
                    oidc=settings.oidc_enabled, error=None)  # fmt: skip

    @app.post("/signin", dependencies=[Csrf])
    async def signin(
        request: Request,
        role: Annotated[str, Form()] = "",
        subject: Annotated[str, Form()] = "",
        next: Annotated[str, Form()] = "/orders",
    ) -> Response:
        if not settings.console_dev_signin:
            return page(request, "error.html", 403, title="Refused",
                        detail="development sign-in is off (CONSOLE_DEV_SIGNIN=false)")  # fmt: skip
        try:
            check_id(subject.strip())
            token = mint_token(settings.jwt_secret, role, subject.strip(), settings.session_hours,
                               settings.jwt_issuer)  # fmt: skip
        except ValueError as err:
            return page(request, "signin.html", 422, next=_safe_next(next), dev=True,
                        oidc=settings.oidc_enabled, error=str(err))  # fmt: skip
        resp = RedirectResponse(_safe_next(next), status_code=303)
        start_session(resp, settings, token)
        return resp

    @app.get("/signin/oidc")
    async def signin_oidc(request: Request, next: str | None = None) -> Response:
        if not settings.oidc_enabled:
            raise BackendError(404, "no identity provider is configured (OIDC_ISSUER_URL, "
                                    "OIDC_CLIENT_ID)")  # fmt: skip
        url, flow = await oidc.start(request.app.state.http, settings, _safe_next(next))
        resp = RedirectResponse(url, status_code=303)
        resp.set_cookie(oidc.FLOW_COOKIE, flow, max_age=oidc.FLOW_TTL_S, httponly=True,
                        secure=settings.session_cookie_secure, samesite="lax", path="/signin")  # fmt: skip
        return resp

    @app.get("/signin/callback")
    async def signin_callback(
        request: Request, code: str = "", state: str = "", error: str = ""
    ) -> Response:
        if error or not code:
            raise oidc.SignInFailed(f"the provider did not sign you in: {error or 'no code'}")
        token, next_ = await oidc.finish(request.app.state.http, settings,
                                         request.cookies.get(oidc.FLOW_COOKIE), code, state)  # fmt: skip
        try:
            await run_in_threadpool(verify_token, settings, token)
        except Unauthenticated as err:
            raise oidc.SignInFailed(f"the services would not accept this token: {err}") from None
        resp = RedirectResponse(_safe_next(next_), status_code=303)
        resp.delete_cookie(oidc.FLOW_COOKIE, path="/signin")
        start_session(resp, settings, token)
        return resp

    @app.exception_handler(oidc.SignInFailed)
    async def _sign_in_failed(request: Request, exc: oidc.SignInFailed) -> Response:
        return page(request, "error.html", 400, title="Sign-in failed", detail=str(exc))

    @app.post("/signout", dependencies=[Csrf])
    async def signout() -> Response:
        resp = RedirectResponse("/signin", status_code=303)
        end_session(resp)
        return resp

    # ---- orders -------------------------------------------------------------------------

    @app.get("/orders", response_class=HTMLResponse)
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
        try:
            found = await user.backend.get("orders", "/v1/orders", params)
            error = None
        except BackendError as err:
            if err.status >= 500:
                raise
            found, error = {"items": [], "next_cursor": None}, err.detail
        nxt = None
        if found.get("next_cursor"):
            nxt = (
                "/orders?"
                + httpx.QueryParams(
                    {
                        "status": status,
                        "q": q,
                        "sort": params["sort"],
                        "cursor": found["next_cursor"],
                        "limit": limit,
                        "delayed": delayed,
                    }
                ).__str__()
            )
        return page(request, "orders.html", orders=found["items"], next_url=nxt, status=status,
                    q=q, sort=params["sort"], statuses=STATUSES, sorts=SORTS, error=error,
                    first_page=not cursor, delayed=delayed)  # fmt: skip

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
        suppliers: list[str] = []
        if user.role == "admin":
            recent = await b.maybe("orders", "/v1/orders", {"limit": 200})
            suppliers = sorted({o["supplier"]["id"] for o in (recent or {}).get("items", [])
                                if o.get("supplier")})  # fmt: skip
        chart = (
            charts.stage_timeline(timeline["stages"], timeline["target_date"]) if timeline else ""
        )
        latest = (risk or {}).get("history") or [{}]
        return {
            "order": order, "timeline": timeline, "chart": chart,
            "inspections": (inspections or {}).get("items", []), "risk": risk,
            "assessment": latest[0], "messages": (messages or {}).get("items", []),
            "history": history or [], "suppliers": suppliers,
        }  # fmt: skip

    @app.get("/orders/{ref}", response_class=HTMLResponse)
    async def order_page(request: Request, ref: str, user: UserDep) -> Response:
        return page(request, "order.html", **await order_view(user, ref))

    @app.get("/orders/{ref}/panel", response_class=HTMLResponse)
    async def order_panel(request: Request, ref: str, user: UserDep) -> Response:
        """The order page's body alone: what the live script swaps in when something changed."""
        return page(request, "_order_body.html", **await order_view(user, ref))

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

    @app.get("/orders/{ref}/live")
    async def order_live(request: Request, ref: str, user: UserDep) -> StreamingResponse:
        """Server-sent events: ``changed`` whenever anything the order page shows changed."""
        order = await user.backend.get("orders", f"/v1/orders/{quote(ref, safe='')}")

        queue: asyncio.Queue[str] = asyncio.Queue()

        async def poll() -> None:
            seen = await fingerprint(user, order["id"])
            while True:
                await asyncio.sleep(settings.live_poll_s)
                now = await fingerprint(user, order["id"])
                if now != seen:
                    seen = now
                    await queue.put("event: changed\ndata: {}\n\n")

        async def relay_notifications() -> None:
            """The user's own notifications stream (notifications service), this order's
            notifications passed on: shown at once, and the page refreshed."""
            url = settings.service_url("notifications") + "/v1/stream"
            while True:
                try:
                    async with user.backend.http.stream(
                        "GET", url, headers=user.backend._headers(), timeout=None
                    ) as r:
                        async for line in r.aiter_lines():
                            if not line.startswith("data: "):
                                continue
                            note = json.loads(line[6:])
                            if note.get("order_id") == order["id"]:
                                body = json.dumps({"subject": note.get("subject"),
                                                   "type": note.get("notification_type")})  # fmt: skip
                                await queue.put(f"event: notification\ndata: {body}\n\n")
                                await queue.put("event: changed\ndata: {}\n\n")
                except (httpx.HTTPError, ValueError):
                    pass
                await asyncio.sleep(2)  # the notifications service is away: try again

        async def events() -> AsyncIterator[str]:
            tasks = [asyncio.create_task(poll()), asyncio.create_task(relay_notifications())]
            try:
                yield "retry: 1000\n: connected\n\n"
                while not await request.is_disconnected():
                    try:
                        yield await asyncio.wait_for(queue.get(), timeout=15)
                    except TimeoutError:
                        yield ": keep-alive\n\n"
            finally:
                for t in tasks:
                    t.cancel()

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})  # fmt: skip

    @app.post("/orders/{ref}/stages/{stage}/progress", dependencies=[Csrf])
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

    @app.post("/orders/{ref}/messages", dependencies=[Csrf])
    async def post_message(ref: str, user: UserDep, text: Annotated[str, Form()]) -> Response:
        oid = quote(ref, safe="")
        await user.backend.post("notifications", f"/v1/orders/{oid}/messages", {"text": text})
        return RedirectResponse(f"/orders/{oid}#messages", status_code=303)

    @app.post("/orders/{ref}/messages/{message_id}/read", dependencies=[Csrf])
    async def read_message(ref: str, message_id: str, user: UserDep) -> Response:
        """A read receipt: the page says it when it showed the user another's message."""
        path = f"/v1/orders/{quote(ref, safe='')}/messages/{quote(message_id, safe='')}/read"
        await user.backend.post("notifications", path, None)
        return Response(status_code=204)

    @app.post("/orders/{ref}/assign", dependencies=[Csrf])
    async def assign(
        ref: str,
        user: UserDep,
        supplier_id: Annotated[str, Form()],
        supplier_name: Annotated[str, Form()] = "",
        supplier_email: Annotated[str, Form()] = "",
    ) -> Response:
        party: dict[str, Any] = {
            "id": supplier_id.strip(),
            "name": supplier_name.strip() or supplier_id.strip(),
        }
        if supplier_email.strip():
            party["email"] = supplier_email.strip()
        oid = quote(ref, safe="")
        await user.backend.post("orders", f"/v1/orders/{oid}/assign", {"supplier": party})
        return RedirectResponse(f"/orders/{oid}", status_code=303)

    @app.get("/orders/{ref}/photos/{photo_id}")
    async def photo(ref: str, photo_id: str, user: UserDep, thumbnail: bool = False) -> Response:
        """A photo (or its thumbnail) fetched from production with the user's token."""
        path = f"/v1/orders/{quote(ref, safe='')}/photos/{quote(photo_id, safe='')}"
        path += "/thumbnail" if thumbnail else ""
        r = await user.backend.http.get(settings.service_url("production") + path,
                                        headers=user.backend._headers())  # fmt: skip
        if r.status_code != 200:
            raise BackendError(404, f"no photo {photo_id!r} on order {ref!r} visible to you")
        return Response(r.content, media_type=r.headers.get("content-type", "image/jpeg"),
                        headers={"Cache-Control": "private, max-age=3600"})  # fmt: skip

    # ---- the supplier's own page: calendar, load, quality record, scorecard ----------------

    def supplier_of(user: User, supplier: str) -> str:
        if user.role == "supplier":
            return user.subject
        if user.role == "admin" and supplier.strip():
            return check_id(supplier.strip())
        raise BackendError(403, "this page is a supplier's own (admins: ?supplier=<id>)")

    @app.get("/supplier", response_class=HTMLResponse)
    async def supplier_page(request: Request, user: UserDep, supplier: str = "") -> Response:
        sid = supplier_of(user, supplier)
        b, q = user.backend, quote(sid, safe="")
        calendar, quality, cards, active = await asyncio.gather(
            b.get("production", f"/v1/suppliers/{q}/calendar"),
            b.maybe("quality", f"/v1/suppliers/{q}/quality"),
            b.maybe("predictions", "/v1/analytics/scorecards", {"supplier": sid}),
            b.get("orders", "/v1/orders", {"supplier_id": sid, "limit": 200,
                  "status": ["assigned_to_supplier", "in_production", "delayed", "quality_check"]}),
        )  # fmt: skip
        card = next(iter((cards or {}).get("suppliers", [])), None)
        return page(request, "supplier.html", sid=sid, calendar=calendar, quality=quality,
                    card=card, active=active["items"], more=bool(active.get("next_cursor")),
                    days=["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
                          "Sunday"])  # fmt: skip

    @app.post("/supplier/calendar", dependencies=[Csrf])
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

    @app.post("/orders/{ref}/stages/{stage}/photos", dependencies=[Csrf])
    async def upload_photo(request: Request, ref: str, stage: int, user: UserDep) -> Response:
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

    # ---- analytics (each role sees its own scope: the predictions service decides) -----------

    @app.get("/analytics", response_class=HTMLResponse)
    async def analytics(
        request: Request,
        user: UserDep,
        season: str = "",
        category: str = "",
        start: Annotated[str, Query(alias="from")] = "",
        end: Annotated[str, Query(alias="to")] = "",
    ) -> Response:
        params = {k: v.strip() for k, v in
                  {"season": season, "category": category, "from": start, "to": end}.items()
                  if v.strip()}  # fmt: skip
        b = user.backend
        error = None
        try:
            overview, stages, quality, delivery, cards = await asyncio.gather(
                *(b.get("predictions", f"/v1/analytics/{name}", params)
                  for name in ("overview", "stages", "quality", "delivery", "scorecards"))
            )  # fmt: skip
        except BackendError as err:
            if err.status >= 500:
                raise
            overview = stages = quality = delivery = cards = {}
            error = err.detail
        figures = {
            "Orders by workflow status": charts.bars(
                "orders by workflow status",
                [(r["status"].replace("_", " "), r["orders"])
                 for r in overview.get("by_workflow_status", [])]),
            "Work in progress by stage": charts.bars(
                "open orders by current stage",
                [(r["stage"], r["orders"]) for r in overview.get("wip_by_stage", [])]),
            "Lateness created by stage (days)": charts.bars(
                "days of lateness created per stage",
                [(r["stage"], r["lateness_created_days"]) for r in stages.get("stages", [])]),
            "QC first pass by supplier (%)": charts.bars(
                "first-pass inspections per supplier",
                [(r["key"], r["first_pass_pct"]) for r in quality.get("by_supplier", [])
                 if r.get("first_pass_pct") is not None], " %"),
        }  # fmt: skip
        return page(request, "analytics.html", figures=figures, overview=overview,
                    stages=stages, delivery=delivery, cards=cards.get("suppliers", []),
                    filters={"season": season, "category": category, "from": start, "to": end},
                    error=error)  # fmt: skip

    # ---- admin ----------------------------------------------------------------------------

    def admin_only(user: User) -> None:
        if user.role != "admin":
            raise BackendError(403, f"role {user.role!r} may not do this; admins only")

    @app.get("/admin/dead-letters", response_class=HTMLResponse)
    async def dead_letters(
        request: Request, user: UserDep, topic: str = ALL_TOPICS[0], replayed: int | None = None
    ) -> Response:
        """A topic's dead letters (``<topic>.dlq``), read from the broker (admins only: no
        service answers these over HTTP; the console reads them as `looptrace dlq list` does)."""
        admin_only(user)
        if topic not in ALL_TOPICS:
            raise BackendError(404, f"no topic {topic!r}; choose one of {', '.join(ALL_TOPICS)}")
        letters = await read_dead_letters(settings, topic, DLQ_PAGE, timeout_ms=700)
        return page(request, "dead_letters.html", topics=ALL_TOPICS, topic=topic,
                    letters=letters, replayed=replayed)  # fmt: skip

    @app.post("/admin/dead-letters/replay", dependencies=[Csrf])
    async def replay_dead_letters(user: UserDep, topic: Annotated[str, Form()]) -> Response:
        """Publish the topic's dead letters back to it (as `looptrace dlq replay` does)."""
        admin_only(user)
        if topic not in ALL_TOPICS:
            raise BackendError(404, f"no topic {topic!r}; choose one of {', '.join(ALL_TOPICS)}")
        n = await replay(settings, dlq(topic), DLQ_PAGE)
        return RedirectResponse(f"/admin/dead-letters?topic={quote(topic)}&replayed={n}",
                                status_code=303)  # fmt: skip

    @app.get("/admin/models", response_class=HTMLResponse)
    async def models(request: Request, user: UserDep) -> Response:
        found = await user.backend.get("predictions", "/v1/models")
        items = [(v["version"], float(v["metrics"].get("auc") or v["metrics"].get("roc_auc") or 0))
                 for v in found["versions"]]  # fmt: skip
        chart = (
            charts.bars("validation AUC per model version", items)
            if any(v for _, v in items)
            else ""
        )
        return page(request, "models.html", models=found, chart=chart)

    @app.post("/admin/models/{version}/promote", dependencies=[Csrf])
    async def promote(version: str, user: UserDep) -> Response:
        await user.backend.post(
            "predictions", f"/v1/models/{quote(version, safe='')}/promote", None
        )
        return RedirectResponse("/admin/models", status_code=303)

    return app
