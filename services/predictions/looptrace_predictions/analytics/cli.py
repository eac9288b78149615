"""`looptrace analytics …`: the HTML report, and rebuilding the read model from its journal."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import click

from looptrace_predictions.analytics.filters import Filters, InvalidRange
from looptrace_predictions.config import PredictionsSettings
from looptrace_shared.db import make_engine, make_sessionmaker


@click.group(help="Production analytics: the report and the read model.")
def analytics() -> None:
    pass


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date (YYYY-MM-DD)") from None


def _text(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise click.BadParameter("give a value, or leave the option out for all")
    return value


@analytics.command(help="Write the analytics report: one self-contained HTML file.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--from", "start", callback=_date, help="first day YYYY-MM-DD")
@click.option("--to", "end", callback=_date, help="last day YYYY-MM-DD")
@click.option("--buyer", callback=_text)
@click.option("--supplier", callback=_text)
@click.option("--category", callback=_text)
@click.option("--season", callback=_text, help="e.g. SS26, AW26")
def report(out: Path, start: date | None, end: date | None, buyer: str | None,
           supplier: str | None, category: str | None, season: str | None) -> None:  # fmt: skip
    try:
        f = Filters(buyer, supplier, category, season, start, end)
    except InvalidRange as err:
        raise click.BadParameter(str(err), param_hint="--from/--to") from None
    html = asyncio.run(_report(f))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    click.echo(f"report written to {out.resolve()}")


async def _report(f: Filters) -> str:
    from looptrace_predictions.analytics.report import gather, render

    engine = make_engine(PredictionsSettings().database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            data = await gather(session, f)
    finally:
        await engine.dispose()
    return render(data, f)


@analytics.command(help="Rebuild the read model: empty it and replay the journal into it.")
def rebuild() -> None:
    n = asyncio.run(_rebuild())
    click.echo(f"read model rebuilt from {n} journaled events")


async def _rebuild() -> int:
    from looptrace_predictions.analytics.consumer import rebuild as replay

    engine = make_engine(PredictionsSettings().database_url)
    try:
        return await replay(make_sessionmaker(engine))
    finally:
        await engine.dispose()
