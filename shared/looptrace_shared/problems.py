"""The HTTP edge every service shares: bounded request bodies, a correlation id on every
answer, and unexpected errors as problem details (RFC 9457) instead of a bare 500.

Pure ASGI (no BaseHTTPMiddleware), so streamed responses pass through untouched.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any

from starlette.exceptions import HTTPException

from looptrace_shared.messaging.transient import is_transient
from looptrace_shared.observability.logs import correlation_id_var, order_id_var

log = logging.getLogger("looptrace.http")

PROBLEM = "application/problem+json"
CORRELATION_HEADER = "x-correlation-id"
_SAFE_CORRELATION = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_ORDER_IN_PATH = re.compile(r"/orders/([^/]+)")

Scope = dict[str, Any]


class BodyTooLarge(HTTPException):
    """Raised while the app reads the body (FastAPI passes HTTP exceptions through)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _too_large_detail(limit))


def problem_body(status: int, title: str, detail: str, **extra: Any) -> bytes:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return json.dumps(body, default=str).encode()


RETRY_AFTER_S = 5


async def send_problem(
    send: Any, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Answer with a problem (``send`` adds the correlation id: see ``_tagging``)."""
    headers = [(b"content-type", PROBLEM.encode()), (b"content-length", str(len(body)).encode())]
    headers += extra or []
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def correlation_id(scope: Scope) -> str:
    given = _header(scope, CORRELATION_HEADER.encode())
    return given if given and _SAFE_CORRELATION.match(given) else str(uuid.uuid4())


class ProblemEdge:
    """Refuse oversized bodies (413), tag answers with a correlation id, turn an unexpected
    exception into a 500 problem logged as one JSON line (with the order id and the
    correlation id); the connection stays usable."""

    def __init__(self, app: Any, max_body: int, max_upload: int) -> None:
        self.app, self.max_body, self.max_upload = app, max_body, max_upload

    def limit(self, scope: Scope) -> int:
        kind = (_header(scope, b"content-type") or "").lower()
        return self.max_upload if kind.startswith("multipart/form-data") else self.max_body

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cid, limit = correlation_id(scope), self.limit(scope)
        correlation_id_var.set(cid)
        found = _ORDER_IN_PATH.search(scope.get("path", ""))
        order_id_var.set(found.group(1)[:64] if found else None)
        tagged = _tagging(send, cid)
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await send_problem(tagged, 413, _too_large(limit))
            return
        await self._guarded(scope, _counting(receive, limit), tagged, cid, limit)

    async def _guarded(self, scope: Scope, receive: Any, send: Any, cid: str, limit: int) -> None:
        started = False

        async def tracked(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except BodyTooLarge:
            if not started:
                await send_problem(send, 413, _too_large(limit))
        except Exception as err:
            if is_transient(err):
                await self._unavailable(scope, send, cid, started, err)
                return
            log.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
            if not started:
                body = problem_body(
                    500,
                    "Internal error",
                    "the service failed unexpectedly; nothing was changed. Quote the "
                    "correlation_id when you report it",
                    correlation_id=cid,
                )
                await send_problem(send, 500, body)

    @staticmethod
    async def _unavailable(
        scope: Scope, send: Any, cid: str, started: bool, err: Exception
    ) -> None:
        """The database or the broker is out of reach (restarting, cut off): that is the
        service's dependency, not the request; the transaction was rolled back, so the client
        may retry the same request."""
        log.warning(
            "dependency unavailable on %s %s: %s",
            scope.get("method"), scope.get("path"), type(err).__name__,
        )  # fmt: skip
        if started:
            return
        body = problem_body(
            503,
            "Service unavailable",
            "a dependency of the service (database or broker) is out of reach; nothing was "
            f"changed. Retry the same request after {RETRY_AFTER_S} s",
            correlation_id=cid,
        )
        await send_problem(send, 503, body, [(b"retry-after", str(RETRY_AFTER_S).encode())])


def _too_large_detail(limit: int) -> str:
    return (
        f"the request body is larger than {limit} bytes; send less (split lists into "
        "several requests, compress photos)"
    )


def _too_large(limit: int) -> bytes:
    return problem_body(413, "Request body too large", _too_large_detail(limit))


def _counting(receive: Any, limit: int) -> Any:
    seen = 0

    async def counted() -> dict[str, Any]:
        nonlocal seen
        message: dict[str, Any] = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return counted


def _tagging(send: Any, cid: str) -> Any:
    async def tagged(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            headers.append((CORRELATION_HEADER.encode(), cid.encode()))
            message = {**message, "headers": headers}
        await send(message)

    return tagged
