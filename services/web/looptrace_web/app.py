"""The console's application: its routers by concept (``signin``, ``orders``, ``live``,
``supplier``, ``analytics``, ``admin``, ``health``), the refusals as pages (``errors``), the
security headers on every response, and one HTTP client to the services for its lifetime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from looptrace_web import admin, analytics, errors, health, live, orders, signin, supplier
from looptrace_web.config import WebSettings
from looptrace_web.pages import HERE, make_templates

ROUTERS = [health, signin, orders, live, supplier, analytics, admin]
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; script-src 'self'; "
    "style-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def load_settings() -> WebSettings:
    return WebSettings()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.http = httpx.AsyncClient(timeout=10)
    yield
    await app.state.http.aclose()


async def security_headers(request: Request, call_next: Any) -> Response:
    response: Response = await call_next(request)
    for k, v in SECURITY_HEADERS.items():
        response.headers.setdefault(k, v)
    if request.url.path != "/static" and not request.url.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def create_app(settings: WebSettings | None = None) -> FastAPI:
    app = FastAPI(title="LoopTrace console", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings or load_settings()
    app.state.templates = make_templates()
    app.middleware("http")(security_headers)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    errors.install(app)
    for module in ROUTERS:
        app.include_router(module.router)
    return app
