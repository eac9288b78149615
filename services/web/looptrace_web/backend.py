"""Calls to the five services on the user's behalf, with the user's own token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from looptrace_web.config import WebSettings


class BackendError(Exception):
    """A service refused or failed: its status and the problem's detail, shown to the user."""

    def __init__(self, status: int, detail: str, rule: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.rule = status, detail, rule


def problem_of(r: httpx.Response) -> BackendError:
    try:
        body = r.json()
    except ValueError:
        body = {}
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):  # FastAPI's validation errors
        detail = "; ".join(
            f"{'.'.join(str(p) for p in d.get('loc', []))}: {d.get('msg')}" for d in detail
        )
    rule = body.get("rule") if isinstance(body, dict) else None
    return BackendError(r.status_code, str(detail or r.reason_phrase), rule)


@dataclass
class Backend:
    http: httpx.AsyncClient
    settings: WebSettings
    token: str

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    async def call(
        self,
        method: str,
        service: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        url = self.settings.service_url(service) + path
        try:
            r = await self.http.request(
                method, url, params=params, json=json, headers=self._headers(headers)
            )
        except httpx.HTTPError as err:
            raise BackendError(502, f"the {service} service did not answer: {err}") from None
        if r.status_code >= 400:
            raise problem_of(r)
        if r.status_code == 204 or not r.content:
            return None
        return r.json()

    async def get(self, service: str, path: str, params: Any = None) -> Any:
        return await self.call("GET", service, path, params=params)

    async def maybe(self, service: str, path: str, params: Any = None) -> Any:
        """A part of a page that may not exist yet (no plan, no assessment): None."""
        try:
            return await self.get(service, path, params)
        except BackendError as err:
            if err.status in (403, 404):
                return None
            raise

    async def post(self, service: str, path: str, body: Any, **kw: Any) -> Any:
        return await self.call("POST", service, path, json=body, **kw)
