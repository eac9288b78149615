"""The HTTP edge: an unexpected error is a problem with a correlation id (and one JSON log
line), an oversized body a 413 problem, an unparsable one a 422 — never a bare 500."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from looptrace_shared.http import install_http
from looptrace_shared.observability.logs import JsonFormatter
from looptrace_shared.settings import ServiceSettings


class Body(BaseModel):
    text: str


def app_with_a_bug() -> FastAPI:
    app = FastAPI()
    install_http(app, SimpleNamespace(settings=ServiceSettings(http_max_body_bytes=2048)))  # type: ignore[arg-type]

    @app.get("/v1/orders/{order_id}/boom")
    async def boom(order_id: str) -> None:
        raise RuntimeError("a bug")

    @app.get("/v1/orders/{order_id}/db-down")
    async def db_down(order_id: str) -> None:
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")

    @app.post("/echo")
    async def echo(body: Body) -> dict[str, str]:
        return {"text": body.text}

    return app


@pytest.fixture
async def http():  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app_with_a_bug())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


async def test_an_unexpected_error_is_a_problem_with_a_correlation_id(http, caplog) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.ERROR, logger="looptrace.http"):
        r = await http.get("/v1/orders/o-7/boom", headers={"X-Correlation-ID": "c-123"})
    assert r.status_code == 500 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["correlation_id"] == "c-123" == r.headers["x-correlation-id"]
    assert "a bug" not in r.text  # no internals in the answer
    (record,) = [rec for rec in caplog.records if rec.name == "looptrace.http"]
    line = JsonFormatter("test").format(record)
    assert "\n" not in line
    logged = json.loads(line)
    assert logged["correlation_id"] == "c-123" and logged["order_id"] == "o-7"
    assert "RuntimeError: a bug" in logged["exc"]
    ok = await http.post("/echo", json={"text": "still here"})  # the connection goes on
    assert ok.status_code == 200 and ok.headers["x-correlation-id"]


async def test_an_oversized_body_is_a_413_problem(http) -> None:  # type: ignore[no-untyped-def]
    r = await http.post("/echo", json={"text": "x" * 5000})
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
    assert "2048 bytes" in r.json()["detail"]

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(10):
            yield b'{"text": "' + b"y" * 500

    streamed = await http.post(
        "/echo", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413


async def test_a_body_that_is_not_json_is_a_422_problem(http) -> None:  # type: ignore[no-untyped-def]
    r = await http.post("/echo", content=b"\xff\xfe", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"


async def test_a_dependency_out_of_reach_is_a_503_to_retry_not_a_500(http, caplog) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.WARNING, logger="looptrace.http"):
        r = await http.get("/v1/orders/o-8/db-down", headers={"X-Correlation-ID": "c-503"})
    assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json"
    assert r.headers["retry-after"] == "5" and "Retry the same request" in r.json()["detail"]
    assert r.json()["correlation_id"] == "c-503" and "5432" not in r.text
    assert any("dependency unavailable" in rec.getMessage() for rec in caplog.records)
    ok = await http.post("/echo", json={"text": "still here"})
    assert ok.status_code == 200
