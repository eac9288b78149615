"""HTTP plumbing every service shares: problem details (RFC 9457), /health, /metrics, session dep."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException

from looptrace_shared.db import UnitOfWork
from looptrace_shared.errors import RuleViolation
from looptrace_shared.openapi_docs import install_openapi
from looptrace_shared.problems import ProblemEdge
from looptrace_shared.process import Runtime
from looptrace_shared.settings import ServiceSettings

PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc if p not in ("body", "query", "path", "header"))


def install_http(app: FastAPI, rt: Runtime[Any, Any]) -> None:
    settings = rt.settings
    app.add_middleware(
        ProblemEdge,
        max_body=getattr(settings, "http_max_body_bytes", 1_048_576),
        max_upload=getattr(settings, "http_max_upload_bytes", 11_534_336),
    )
    install_openapi(app)
    _install_problems(app)
    _install_ops_routes(app, rt)


def _install_problems(app: FastAPI) -> None:
    """Rule violations, invalid and unparsable requests and HTTP errors as problem details."""

    @app.exception_handler(RuleViolation)
    async def _rule(_: Request, err: RuleViolation) -> JSONResponse:
        return problem(err.status, err.title, str(err), rule=err.rule)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, err: RequestValidationError) -> JSONResponse:
        errors = [{"field": _field(tuple(e["loc"])), "message": e["msg"]} for e in err.errors()]
        detail = "; ".join(f"{e['field'] or 'body'}: {e['message']}" for e in errors)
        return problem(422, "Invalid request", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, err: StarletteHTTPException) -> JSONResponse:
        if err.status_code == 400:  # FastAPI could not parse the body (not JSON, not UTF-8)
            detail = f"body: {err.detail}; send UTF-8 JSON as the route's schema describes"
            return problem(422, "Invalid request", detail, rule="unparsable_body")
        title = {413: "Request body too large", 404: "Not found", 405: "Method not allowed"}
        return problem(err.status_code, title.get(err.status_code, "HTTP error"), str(err.detail))


def _install_ops_routes(app: FastAPI, rt: Runtime[Any, Any]) -> None:
    """``/health`` (database and broker) and ``/metrics`` (Prometheus)."""

    @app.get("/health", tags=["ops"])
    async def health(request: Request) -> JSONResponse:
        checks = {"database": "ok", "broker": "ok"}
        try:
            async with rt.sessions() as s:
                await s.execute(text("SELECT 1"))
        except Exception as err:  # noqa: BLE001 - health reports any failure
            checks["database"] = f"down: {err}"
        if not request.app.state.broker_started:
            checks["broker"] = "not started"
        ok = all(v == "ok" for v in checks.values())
        body = {
            "status": "ok" if ok else "degraded",
            "service": rt.settings.service_name,
            "checks": checks,
        }
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/metrics", tags=["ops"])
    async def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest().decode(), media_type=CONTENT_TYPE_LATEST)


def runtime(request: Request) -> Runtime[Any, Any]:
    return request.app.state.runtime  # type: ignore[no-any-return]


async def unit_of_work(request: Request) -> AsyncIterator[UnitOfWork]:
    rt = runtime(request)
    async with rt.sessions() as session:
        yield rt.uow(session)


UowDep = Annotated[UnitOfWork, Depends(unit_of_work)]
S = TypeVar("S", bound=ServiceSettings)
T = TypeVar("T")
# A route's runtime, typed by its service: ``ServiceRuntime[QualitySettings, None]``.
ServiceRuntime = Annotated[Runtime[S, T], Depends(runtime)]
RuntimeDep = ServiceRuntime[ServiceSettings, Any]  # for routes that read only shared settings
