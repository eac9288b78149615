"""Signing in and out: the development sign-in form (pick a role and subject), the identity
provider's sign-in (OIDC, see ``oidc``), and where the browser goes afterwards."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from looptrace_shared.auth import Unauthenticated, mint_token, verify_token
from looptrace_shared.events.bounds import check_id
from looptrace_web import oidc
from looptrace_web.backend import BackendError
from looptrace_web.deps import Csrf, SettingsDep
from looptrace_web.pages import page
from looptrace_web.session import end_session, signed_in, start_session

router = APIRouter()

NEXT_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9/._~%?&=+\-:@]*")


def safe_next(value: str | None) -> str:
    """Only a path of this site is followed after sign-in: never //host, a scheme, a
    backslash, or the tabs and new lines browsers drop (``/\t/evil`` is ``//evil``)."""
    if value and NEXT_PATH.fullmatch(value):
        return value
    return "/orders"


@router.get("/", include_in_schema=False)
async def home(request: Request, settings: SettingsDep) -> Response:
    found = await run_in_threadpool(signed_in, request, settings)
    return RedirectResponse("/orders" if found else "/signin", status_code=303)


@router.get("/signin", response_class=HTMLResponse)
async def signin_form(request: Request, settings: SettingsDep, next: str | None = None) -> Response:
    return page(request, "signin.html", next=safe_next(next), dev=settings.console_dev_signin,
                oidc=settings.oidc_enabled, error=None)  # fmt: skip


@router.post("/signin", dependencies=[Csrf])
async def signin(
    request: Request,
    settings: SettingsDep,
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
        return page(request, "signin.html", 422, next=safe_next(next), dev=True,
                    oidc=settings.oidc_enabled, error=str(err))  # fmt: skip
    resp = RedirectResponse(safe_next(next), status_code=303)
    start_session(resp, settings, token)
    return resp


@router.get("/signin/oidc")
async def signin_oidc(request: Request, settings: SettingsDep, next: str | None = None) -> Response:
    if not settings.oidc_enabled:
        raise BackendError(404, "no identity provider is configured (OIDC_ISSUER_URL, "
                                "OIDC_CLIENT_ID)")  # fmt: skip
    url, flow = await oidc.start(request.app.state.http, settings, safe_next(next))
    resp = RedirectResponse(url, status_code=303)
    resp.set_cookie(oidc.FLOW_COOKIE, flow, max_age=oidc.FLOW_TTL_S, httponly=True,
                    secure=settings.session_cookie_secure, samesite="lax", path="/signin")  # fmt: skip
    return resp


@router.get("/signin/callback")
async def signin_callback(
    request: Request, settings: SettingsDep, code: str = "", state: str = "", error: str = ""
) -> Response:
    if error or not code:
        raise oidc.SignInFailed(f"the provider did not sign you in: {error or 'no code'}")
    token, next_ = await oidc.finish(request.app.state.http, settings,
                                     request.cookies.get(oidc.FLOW_COOKIE), code, state)  # fmt: skip
    try:
        await run_in_threadpool(verify_token, settings, token)
    except Unauthenticated as err:
        raise oidc.SignInFailed(f"the services would not accept this token: {err}") from None
    resp = RedirectResponse(safe_next(next_), status_code=303)
    resp.delete_cookie(oidc.FLOW_COOKIE, path="/signin")
    start_session(resp, settings, token)
    return resp


@router.post("/signout", dependencies=[Csrf])
async def signout() -> Response:
    resp = RedirectResponse("/signin", status_code=303)
    end_session(resp)
    return resp
