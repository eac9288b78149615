"""HTTP of the analytics read model: ``/v1/analytics/<figure>`` (JSON) and ``.csv`` (one table).

Every figure takes the same filters (buyer, supplier, category, season, from, to); a buyer
sees their own orders only, a supplier its own, an admin all.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_predictions.analytics import cards, queries
from looptrace_predictions.analytics.filters import Filters, scoped
from looptrace_shared.auth import CurrentUser
from looptrace_shared.errors import NotFound
from looptrace_shared.http import UowDep

router = APIRouter(prefix="/v1/analytics", tags=["analytics"])

JSON = "application/json"
Text = Annotated[str | None, Query(min_length=1, max_length=64)]


def filters(
    user: CurrentUser,
    buyer: Text = None,
    supplier: Text = None,
    category: Text = None,
    season: Annotated[
        str | None, Query(pattern=r"^(SS|AW)\d\d$", description="e.g. SS26, AW26")
    ] = None,
    start: Annotated[date | None, Query(alias="from", description="first day (YYYY-MM-DD)")] = None,
    end: Annotated[date | None, Query(alias="to", description="last day (YYYY-MM-DD)")] = None,
) -> Filters:
    return scoped(user, Filters(buyer, supplier, category, season, start, end))


FiltersDep = Annotated[Filters, Depends(filters)]
Limit = Annotated[int, Query(ge=1, le=1000, description="rows of the per-supplier tables")]
Figure = Callable[[AsyncSession, Filters, int], Awaitable[dict[str, Any]]]


async def _overview(s: AsyncSession, f: Filters, limit: int) -> dict[str, Any]:
    return await queries.overview(s, f)


async def _delivery(s: AsyncSession, f: Filters, limit: int) -> dict[str, Any]:
    return await queries.delivery(s, f)


FIGURES: dict[str, tuple[Figure, str]] = {
    "overview": (_overview, "by_workflow_status"),
    "stages": (queries.stage_performance, "stages"),
    "quality": (queries.quality, "by_supplier"),
    "delivery": (_delivery, "weeks"),
    "scorecards": (cards.scorecards, "suppliers"),
}


def _figure_route(name: str) -> None:
    compute = FIGURES[name][0]

    async def route(uow: UowDep, f: FiltersDep, limit: Limit = queries.DEFAULT_LIMIT) -> Response:
        # encoded by orjson at once: FastAPI's generic encoder walks every value of a
        # dashboard-sized answer in Python first
        return Response(orjson.dumps(await compute(uow.session, f, limit)), media_type=JSON)

    route.__doc__ = f"The {name} figures (JSON) for the filters."
    router.add_api_route(
        f"/{name}", route, methods=["GET"], name=f"analytics_{name}", response_class=JSONResponse
    )


for _name in FIGURES:
    _figure_route(_name)


@router.get("/{figure}.csv")
async def export_csv(
    figure: str,
    uow: UowDep,
    f: FiltersDep,
    table: Annotated[
        str | None, Query(min_length=1, description="which table of the figure")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> Response:
    """One table of a figure as CSV (``table`` defaults to the figure's main table)."""
    if figure not in FIGURES:
        raise NotFound(f"no figure {figure!r}; figures: {', '.join(FIGURES)}")
    compute, main = FIGURES[figure]
    result = await compute(uow.session, f, limit)
    tables = [
        k for k, v in result.items() if isinstance(v, list) and (not v or isinstance(v[0], dict))
    ]
    name = table or main
    if name not in tables:
        raise NotFound(f"figure {figure} has no table {name!r}; tables: {', '.join(tables)}")
    return Response(to_csv(result[name]), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{figure}-{name}.csv"'})  # fmt: skip


def to_csv(rows: list[dict[str, Any]]) -> str:
    columns = list(
        dict.fromkeys(k for r in rows for k, v in r.items() if not isinstance(v, list | dict))
    )
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
