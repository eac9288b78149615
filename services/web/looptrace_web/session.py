"""The session (the user's bearer token in a Secure, HttpOnly, SameSite=Lax cookie) and CSRF
protection (a per-browser random value in its own cookie; every form and fetch carries
HMAC(secret, value), so a page of another site, which can read neither cookie, cannot forge it)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request, Response

from looptrace_shared.auth import Principal, Unauthenticated, verify_token
from looptrace_web.config import WebSettings

SESSION_COOKIE = "lt_session"
CSRF_COOKIE = "lt_csrf"


def csrf_token(settings: WebSettings, browser_value: str) -> str:
    key = ("csrf:" + settings.jwt_secret).encode()
    return hmac.new(key, browser_value.encode(), hashlib.sha256).hexdigest()


def browser_value(request: Request) -> str:
    """This browser's CSRF value (a new one, set as a cookie by ``remember_browser``)."""
    value = request.cookies.get(CSRF_COOKIE)
    if not value or len(value) > 100:
        value = request.state.__dict__.setdefault("new_csrf", secrets.token_urlsafe(32))
    return value


def remember_browser(request: Request, response: Response, settings: WebSettings) -> None:
    new = request.state.__dict__.get("new_csrf")
    if new:
        response.set_cookie(
            CSRF_COOKIE, new, httponly=True, secure=settings.session_cookie_secure,
            samesite="strict", path="/",
        )  # fmt: skip


def csrf_ok(request: Request, settings: WebSettings, sent: str | None) -> bool:
    value = request.cookies.get(CSRF_COOKIE)
    if not value or not sent:
        return False
    return hmac.compare_digest(csrf_token(settings, value), sent)


def start_session(response: Response, settings: WebSettings, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE, token, max_age=int(settings.session_hours * 3600), httponly=True,
        secure=settings.session_cookie_secure, samesite="lax", path="/",
    )  # fmt: skip


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def signed_in(request: Request, settings: WebSettings) -> tuple[Principal, str] | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return verify_token(settings, token), token
    except Unauthenticated:
        return None
