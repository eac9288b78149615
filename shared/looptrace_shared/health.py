"""Liveness, readiness and drain state of one service process.

- ``/health/live``: the process answers (its event loop runs). Restart it when this fails.
- ``/health/ready``: it can do its work: the database answers, the broker answers, its schema
  is at the migrations' head and every consumer has joined its group. Send it traffic only
  while this is 200. 503 once it has been asked to drain or stop.
- ``/health/drain``: what is still in flight here: rows in the outbox and, per consumer group,
  messages not yet consumed (committed offsets behind the end of each partition).

While draining (``SIGUSR1``, sent by ``up`` before it stops the system) the service takes no new
HTTP requests (503, except ``/health*`` and ``/metrics``) but keeps consuming and relaying.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select, text

from looptrace_shared.lag import LagProbe
from looptrace_shared.process import Health, Runtime

PROBLEM = "application/problem+json"
ALWAYS_OPEN = ("/health", "/metrics")
PROBE_TIMEOUT_S = 3.0


def migration_heads(script_location: Path) -> set[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    return set(ScriptDirectory.from_config(cfg).get_heads())


async def _check(coro: Any) -> str:
    try:
        result = await asyncio.wait_for(coro, PROBE_TIMEOUT_S)
    except Exception as err:  # noqa: BLE001 - a probe reports any failure
        return f"down: {type(err).__name__}: {err}"
    return "ok" if result in (None, True) else str(result)


async def _database(rt: Runtime[Any, Any], health: Health) -> str | None:
    async with rt.sessions() as s:
        await s.execute(text("SELECT 1"))
    return None


async def _migrations(rt: Runtime[Any, Any], health: Health) -> str | None:
    async with rt.sessions() as s:
        rows = await s.execute(text(f'SELECT version_num FROM "{health.schema}".alembic_version'))
        at = {r[0] for r in rows}
    return None if at == health.heads else f"at {sorted(at)}, head is {sorted(health.heads)}"


async def _broker(app: FastAPI) -> str | None:
    if not app.state.broker_started:
        return "not started"
    producer = app.state.runtime.producer
    if producer is not None and not await producer.client.force_metadata_update():
        return "metadata request failed"
    return None


def _consumers(app: FastAPI) -> str | None:
    waiting = []
    for sub in app.state.broker.subscribers:
        consumer = getattr(sub, "consumer", None)
        coordinator = getattr(consumer, "_coordinator", None)
        if coordinator is None or getattr(coordinator, "generation", -1) < 0:
            waiting.append(",".join(getattr(sub, "topics", ()) or ("?",)))
    return f"not in their group yet: {', '.join(map(str, waiting))}" if waiting else None


async def ready(app: FastAPI) -> tuple[bool, dict[str, str]]:
    rt: Runtime[Any, Any] = app.state.runtime
    health: Health = app.state.health
    checks = {
        "database": await _check(_database(rt, health)),
        "migrations": await _check(_migrations(rt, health)),
        "broker": await _check(_broker(app)),
        "consumers": (_consumers(app) or "ok") if app.state.broker_started else "not started",
    }
    if health.draining:
        checks["draining"] = "asked to stop: takes no new requests"
    return all(v == "ok" for v in checks.values()), checks


async def drain_state(app: FastAPI) -> dict[str, Any]:
    rt: Runtime[Any, Any] = app.state.runtime
    health: Health = app.state.health
    async with rt.sessions() as s:
        outbox = int(await s.scalar(select(func.count()).select_from(rt.plumbing.outbox)) or 0)
    if health.lag is None:
        health.lag = LagProbe(rt.settings.kafka_bootstrap_servers)
    lag = {p.group.name: await health.lag.lag(p.group.name, p.group.topics) for p in rt.processors}
    return {"outbox": outbox, "lag": lag, "drained": outbox == 0 and not any(lag.values())}


class StopIntake:
    """ASGI middleware: once draining, new requests get 503 (probes and metrics still answer)."""

    def __init__(self, app: Any, health: Health) -> None:
        self.app = app
        self.health = health

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not self.health.draining or path.startswith(ALWAYS_OPEN):
            await self.app(scope, receive, send)
            return
        body = {
            "type": "about:blank",
            "title": "Service stopping",
            "status": 503,
            "detail": "this service is draining before a stop; retry against another replica "
            "or after the restart",
        }
        response = JSONResponse(body, 503, headers={"Retry-After": "5"}, media_type=PROBLEM)
        await response(scope, receive, send)


def install_health(app: FastAPI, schema: str, migrations: Path) -> None:
    app.state.health = health = Health(schema, migration_heads(migrations))
    app.add_middleware(StopIntake, health=health)

    @app.get("/health/live", tags=["ops"])
    async def live() -> dict[str, str]:
        return {"status": "ok", "service": app.state.runtime.settings.service_name}

    @app.get(
        "/health/ready",
        tags=["ops"],
        responses={503: {"description": "not ready: the checks say which part is missing"}},
    )
    async def ready_(request: Request) -> JSONResponse:
        ok, checks = await ready(request.app)
        body = {"status": "ready" if ok else "not ready", "checks": checks}
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/health/drain", tags=["ops"])
    async def drain(request: Request) -> dict[str, Any]:
        return await drain_state(request.app)
