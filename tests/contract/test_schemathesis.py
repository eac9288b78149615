"""Schemathesis over every service's OpenAPI document, in process over ASGI.

For each operation, schemathesis generates valid (positive) and invalid (negative) requests
from the document; each is sent with an admin and a buyer token. No answer may be a 5xx, every
status must be documented for its route, and every body must match its documented schema.
Examples are bounded (``SCHEMATHESIS_EXAMPLES`` per operation and mode, default 6) so the five
services stay within about a minute and a half; raise it for a longer run.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from looptrace_shared.testing import bearer

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "6"))
SKIP = {"/v1/stream", "/metrics"}  # an endless event stream; Prometheus text
CHECKS = {
    "server errors": not_a_server_error,
    "undocumented statuses": status_code_conformance,
    "schema violations": response_schema_conformance,
    "content types": content_type_conformance,
}
COUNTS: dict[str, Counter[str]] = {}


def generated(op: Any, mode: GenerationMode) -> list[Any]:
    cases: list[Any] = []

    @given(op.as_strategy(generation_mode=mode))
    @hsettings(
        max_examples=EXAMPLES,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    def collect(case: Any) -> None:
        cases.append(case)

    try:
        collect()
    except Exception:  # noqa: BLE001 - an operation hypothesis cannot satisfy in one mode
        pass
    return cases


def _files(files: list[Any] | None) -> list[Any] | None:
    if files is None:
        return None
    out = []
    for name, (filename, value, *rest) in files:
        value = value if isinstance(value, bytes | str) else str(value)
        out.append((name, (filename, value, *rest)))
    return out


async def send(http: httpx.AsyncClient, case: Any, token: dict[str, str] | None) -> httpx.Response:
    """Send ``case``; with ``token`` its (generated) Authorization header is replaced."""
    kw = case.as_transport_kwargs(base_url="http://test")
    if token is not None:
        kw["headers"] = {k: v for k, v in kw["headers"].items() if k.lower() != "authorization"}
        kw["headers"].update(token)
    data = kw.pop("data", None)
    files = _files(kw.pop("files", None))
    extra: dict[str, Any] = {}
    if isinstance(data, bytes | str) and files is None:
        extra["content"] = data
    elif data is not None:
        extra["data"] = data
    if files is not None:
        extra["files"] = files
    kw.pop("cookies", None)
    return await http.request(
        kw.pop("method"), kw.pop("url"), headers=kw.get("headers"), params=kw.get("params"),
        json=kw.get("json"), **extra,
    )  # fmt: skip


def failures(case: Any, response: httpx.Response) -> list[str]:
    response.request.read()  # a multipart upload is streamed; schemathesis reads it back
    wrapped = schemathesis.Response.from_httpx(response, verify=False)
    found = []
    for name, check in CHECKS.items():
        try:
            case.validate_response(wrapped, checks=[check])
        except (Exception, BaseExceptionGroup) as err:  # noqa: BLE001 - schemathesis' failures
            found.append(f"{name}: {case.method} {case.formatted_path} -> "
                         f"{response.status_code}: {str(err)[:300]}")  # fmt: skip
    return found


async def test_schemathesis_finds_no_server_error_or_undocumented_answer(
    running_service: Any,
) -> None:
    service, app, settings = running_service.name, running_service.app, running_service.settings
    http = running_service.http
    schema = schemathesis.openapi.from_dict(app.openapi())
    tokens = [bearer(settings, "admin", "ops-1"), bearer(settings, "buyer", "b-1")]
    counts: Counter[str] = Counter({name: 0 for name in CHECKS})
    problems: list[str] = []
    for result in schema.get_all_operations():
        op = result.ok()
        if op.path in SKIP:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for n, case in enumerate(generated(op, mode)):
                keep_generated = mode is GenerationMode.NEGATIVE and n % 3 == 2
                response = await send(http, case, None if keep_generated else tokens[n % 2])
                counts["requests"] += 1
                for failure in failures(case, response):
                    counts[failure.split(":")[0]] += 1
                    problems.append(failure)
    COUNTS[service] = counts
    print(f"\nschemathesis {service}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    assert counts["requests"] > 20
    assert not problems, "\n".join(problems[:30])
