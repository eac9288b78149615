"""The health endpoints `up` and compose look at."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)


@router.get("/health/live")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/health/ready")
async def ready() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/health/drain")
async def drain() -> dict[str, object]:
    return {"outbox": 0, "lag": {}, "drained": True}  # the console holds nothing in flight
