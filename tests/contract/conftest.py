"""One running app per service, shared by the schemathesis and access-matrix tests (started
once per service: its migrations, consumers and relay cost more than the requests)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from looptrace_shared.testing import serving

from .service_apps import SERVICES, build_app


@dataclass
class RunningService:
    name: str
    app: Any
    settings: Any
    http: Any


@pytest.fixture(scope="session", params=SERVICES)
async def running_service(
    request: pytest.FixtureRequest,
    database_url: str,
    kafka_bootstrap: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[RunningService]:
    tmp = tmp_path_factory.mktemp(f"contract-{request.param}")
    app, settings = build_app(request.param, database_url, kafka_bootstrap, tmp)
    async with serving(app) as http:
        yield RunningService(request.param, app, settings, http)
