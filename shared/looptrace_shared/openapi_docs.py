"""Every route's OpenAPI entry lists the problems it can answer and the roles it needs.

Worked out from the route itself (its dependencies and parameters), so a new route is
documented the moment it is added:

- a bearer token (``CurrentUser`` or a ``Roles(...)`` gate): 401, 403, and 404 (not yours
  looks like not there); ``x-roles`` names the roles (``any`` when the route filters by owner);
- every route: 422 (a field or rule refused), 503 (the database or broker is out of reach:
  retry after ``Retry-After``); a write (POST/PUT/PATCH/DELETE): 409;
- an ``If-Match`` header: 412; a request body: 413; a file upload: 413 and 415.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi

from looptrace_shared.auth import RoleGate, current_principal

PROBLEM = "application/problem+json"
TITLES = {
    401: "no valid bearer token",
    403: "the role may not do this",
    404: "not there, or not yours",
    409: "conflicts with the current state",
    412: "If-Match names a stale version",
    413: "the request body is too large",
    415: "unsupported media type",
    422: "a field or a rule refused the request (the problem names it)",
    503: "the database or the broker is out of reach; nothing changed, retry after Retry-After",
}
PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "rule": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "correlation_id": {"type": "string"},
    },
}


def _walk(dep: Dependant) -> list[Dependant]:
    out = [dep]
    for sub in dep.dependencies:
        out += _walk(sub)
    return out


def route_roles(route: Any) -> tuple[str, ...] | None:
    """The roles a route lets in; ``()`` for any signed-in role; ``None``: no token needed."""
    deps = _walk(route.dependant)
    gates = [d.call for d in deps if isinstance(d.call, RoleGate)]
    if gates:
        return gates[0].roles
    return () if any(d.call is current_principal for d in deps) else None


def statuses(route: Any, method: str) -> set[int]:
    found = {422, 503}
    if route_roles(route) is not None:
        found |= {401, 403, 404}
    if method != "GET":
        found.add(409)
    deps = _walk(route.dependant)
    if any(p.alias.lower() == "if-match" for d in deps for p in d.header_params):
        found.add(412)
    if route.body_field is not None:
        found.add(413)
    if any(type(p.field_info).__name__ == "File" for d in deps for p in d.body_params):
        found.add(415)
    return found


def _document(op: dict[str, Any], route: Any, method: str) -> None:
    responses = op.setdefault("responses", {})
    for status in sorted(statuses(route, method)):
        responses.setdefault(
            str(status),
            {
                "description": TITLES[status],
                "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            },
        )
    if "422" in responses:  # FastAPI's own 422 says application/json; ours is a problem
        responses["422"] = {
            "description": TITLES[422],
            "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    roles = route_roles(route)
    if roles is not None:
        op["x-roles"] = list(roles) or ["any"]
        who = ", ".join(roles) if roles else "any signed-in role (sees only its own)"
        op["description"] = f"{op.get('description', '')}\n\nRoles: {who}.".strip()


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        for route in routing.iter_route_contexts(app.routes):
            if not hasattr(route, "dependant") or not route.include_in_schema:
                continue
            for method in route.methods or ():
                op = schema["paths"].get(route.path_format, {}).get(method.lower())
                if op is not None:
                    _document(op, route, method)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
