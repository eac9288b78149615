"""Retrain the screening model on the synthetic base plus the labels in quality's database."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from looptrace_quality.screening import model as m
from looptrace_quality.screening.labels import labelled_tiles


async def retrain(database_url: str, path: Path, seed: int, photos: int) -> m.ScreeningModel:
    engine = create_async_engine(database_url)
    try:
        async with AsyncSession(engine) as session:
            labelled = await labelled_tiles(session)
    finally:
        await engine.dispose()
    model = await asyncio.to_thread(m.train, seed, photos, labelled)
    m.save(model, path)
    return model
