"""What the routes depend on: the settings, the signed-in user (and the services as that user
sees them), and the CSRF check of every form and fetch that changes something."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from looptrace_shared.auth import Principal
from looptrace_web.backend import Backend
from looptrace_web.config import WebSettings
from looptrace_web.session import csrf_ok, signed_in


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


def settings_of(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.settings
    return settings


async def current_user(request: Request) -> User:
    settings = settings_of(request)
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
    if not csrf_ok(request, settings_of(request), sent):
        raise BadCsrf


UserDep = Annotated[User, Depends(current_user)]
SettingsDep = Annotated[WebSettings, Depends(settings_of)]
Csrf = Depends(check_csrf)
