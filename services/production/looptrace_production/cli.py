"""``looptrace production …``: production service tools."""

from __future__ import annotations

import asyncio

import click


@click.group(name="production")
def production() -> None:
    """Production service tools."""


async def _rebuild(database_url: str) -> str:
    from looptrace_production.load_rebuild import rebuild_load
    from looptrace_production.models import plumbing
    from looptrace_shared.db import UnitOfWork, make_engine, make_sessionmaker

    engine = make_engine(database_url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session:
            uow = UnitOfWork(session, plumbing)
            done = await rebuild_load(uow)
            await uow.commit()
    finally:
        await engine.dispose()
    return (
        f"{done.plans} plans read; {done.corrected} supplier-week loads corrected; "
        f"{done.events} capacity events emitted"
    )


@production.command(name="rebuild-load")
@click.option("--database-url", default=None, help="production's database (default: its setting)")
def rebuild_load_command(database_url: str | None) -> None:
    """(Re)build every supplier's planned load from the stored plans: for plans made before
    the supplier network, or after load rows were lost. Idempotent; safe while running
    (plan changes wait for it)."""
    from looptrace_production.config import ProductionSettings

    url = database_url or ProductionSettings().database_url
    click.echo(asyncio.run(_rebuild(url)))
