"""The analytics page: each role sees its own scope (the predictions service decides)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from looptrace_web import charts
from looptrace_web.backend import BackendError
from looptrace_web.deps import User, UserDep
from looptrace_web.pages import page

router = APIRouter()

REPORTS = ("overview", "stages", "quality", "delivery", "scorecards")


async def _reports(user: User, params: dict[str, str]) -> tuple[list[Any], str | None]:
    """The five analytics reports in ``REPORTS`` order, or five empty ones and why not."""
    b = user.backend
    try:
        found = await asyncio.gather(
            *(b.get("predictions", f"/v1/analytics/{name}", params) for name in REPORTS)
        )
    except BackendError as err:
        if err.status >= 500:
            raise
        return [{} for _ in REPORTS], err.detail
    return list(found), None


def _figures(overview: Any, stages: Any, quality: Any) -> dict[str, str]:
    return {
        "Orders by workflow status": charts.bars(
            "orders by workflow status",
            [(r["status"].replace("_", " "), r["orders"])
             for r in overview.get("by_workflow_status", [])]),
        "Work in progress by stage": charts.bars(
            "open orders by current stage",
            [(r["stage"], r["orders"]) for r in overview.get("wip_by_stage", [])]),
        "Lateness created by stage (days)": charts.bars(
            "days of lateness created per stage",
            [(r["stage"], r["lateness_created_days"]) for r in stages.get("stages", [])]),
        "QC first pass by supplier (%)": charts.bars(
            "first-pass inspections per supplier",
            [(r["key"], r["first_pass_pct"]) for r in quality.get("by_supplier", [])
             if r.get("first_pass_pct") is not None], " %"),
    }  # fmt: skip


@router.get("/analytics", response_class=HTMLResponse)
async def analytics(
    request: Request,
    user: UserDep,
    season: str = "",
    category: str = "",
    start: Annotated[str, Query(alias="from")] = "",
    end: Annotated[str, Query(alias="to")] = "",
) -> Response:
    filters = {"season": season, "category": category, "from": start, "to": end}
    params = {k: v.strip() for k, v in filters.items() if v.strip()}
    (overview, stages, quality, delivery, cards), error = await _reports(user, params)
    return page(request, "analytics.html", figures=_figures(overview, stages, quality),
                overview=overview, stages=stages, delivery=delivery,
                cards=cards.get("suppliers", []), filters=filters, error=error)  # fmt: skip
