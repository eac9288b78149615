"""What the user sees when a request is refused: a sign-in redirect, a bad CSRF token, a
service's refusal, a failed sign-in at the identity provider — a page, or a problem as JSON
for a fetch that asked for it."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from looptrace_web import oidc
from looptrace_web.backend import BackendError
from looptrace_web.deps import BadCsrf, NeedsSignIn
from looptrace_web.pages import page, wants_json

TITLES = {404: "Not found", 403: "Not allowed", 401: "Sign in again"}


async def _sign_in(request: Request, exc: NeedsSignIn) -> Response:
    if wants_json(request) or request.url.path.endswith("/live"):
        return JSONResponse({"detail": "sign in first", "status": 401}, status_code=401)
    return RedirectResponse(f"/signin?next={quote(exc.path)}", status_code=303)


async def _bad_csrf(request: Request, exc: BadCsrf) -> Response:
    detail = "the form's CSRF token is missing or wrong: reload the page and send it again"
    if wants_json(request):
        return JSONResponse({"detail": detail, "status": 403}, status_code=403)
    return page(request, "error.html", 403, title="Refused", detail=detail)


async def _backend(request: Request, exc: BackendError) -> Response:
    if wants_json(request):
        body = {"detail": exc.detail, "rule": exc.rule, "status": exc.status}
        return JSONResponse(body, status_code=exc.status)
    status = exc.status if exc.status < 500 else 502
    return page(request, "error.html", status, title=TITLES.get(exc.status, "Refused"),
                detail=exc.detail)  # fmt: skip


async def _sign_in_failed(request: Request, exc: oidc.SignInFailed) -> Response:
    return page(request, "error.html", 400, title="Sign-in failed", detail=str(exc))


def install(app: FastAPI) -> None:
    app.exception_handler(NeedsSignIn)(_sign_in)
    app.exception_handler(BadCsrf)(_bad_csrf)
    app.exception_handler(BackendError)(_backend)
    app.exception_handler(oidc.SignInFailed)(_sign_in_failed)
