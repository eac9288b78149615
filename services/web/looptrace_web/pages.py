"""Drawing a page: the templates with their filters, and ``page`` (a template rendered for the
signed-in user, with the CSRF token its forms send back)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from looptrace_shared.auth import ROLES
from looptrace_web.config import WebSettings
from looptrace_web.session import browser_value, csrf_token, remember_browser

HERE = Path(__file__).parent


def link(url: object) -> str:
    """Only web links are rendered as links (never ``javascript:`` or ``data:``)."""
    text = str(url or "")
    return text if text.lower().startswith(("https://", "http://")) else "#"


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["ROLES"] = ROLES
    templates.env.filters["day"] = lambda v: str(v)[:10] if v else "—"
    templates.env.filters["link"] = link
    templates.env.filters["moment"] = lambda v: str(v)[:16].replace("T", " ") if v else "—"
    return templates


def page(request: Request, name: str, code: int = 200, **ctx: Any) -> HTMLResponse:
    settings: WebSettings = request.app.state.settings
    templates: Jinja2Templates = request.app.state.templates
    ctx.setdefault("user", getattr(request.state, "user", None))
    ctx["csrf"] = csrf_token(settings, browser_value(request))
    resp = templates.TemplateResponse(request, name, ctx, status_code=code)
    remember_browser(request, resp, settings)
    return resp


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")
