"""People's labels of screened photos, as training tiles: the stored tile features of each
labelled photo with the label of each tile (a tile's own label wins over the photo's)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_quality.models import PhotoScreeningRow, ScreeningLabelRow
from looptrace_quality.screening.model import TileSet
from looptrace_quality.screening.synth import KINDS

LABEL_WEIGHT = 20.0  # a person's label counts as much as twenty synthetic tiles


async def labelled_tiles(session: AsyncSession, weight: float = LABEL_WEIGHT) -> TileSet:
    labels: dict[str, dict[int, str]] = defaultdict(dict)
    for found in (await session.execute(select(ScreeningLabelRow))).scalars():
        labels[found.photo_id][found.tile] = found.kind
    rows = (
        await session.execute(
            select(PhotoScreeningRow).where(PhotoScreeningRow.photo_id.in_(list(labels)))
        )
    ).scalars()
    parts = [tiles_of(row, labels[row.photo_id], n) for n, row in enumerate(rows)]
    parts = [p for p in parts if p is not None]
    if not parts:
        return TileSet(np.zeros((0, 0), np.float32), np.zeros(0, np.intp), np.zeros(0, np.intp))
    x, y, owner = (np.concatenate(a) for a in zip(*parts, strict=True))
    return TileSet(x, y, owner, np.full(len(y), weight))


def tiles_of(
    row: PhotoScreeningRow, labels: dict[int, str], number: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(features, labels, owner) of the labelled tiles of one screened photo."""
    if row.features is None or not row.feature_count:
        return None
    x = np.frombuffer(row.features, dtype=np.float32).reshape(-1, row.feature_count)
    y = np.full(len(x), -1, dtype=np.intp)
    if labels.get(-1) == "none":
        y[:] = 0
    for tile, kind in labels.items():
        if 0 <= tile < len(x):
            y[tile] = KINDS.index(kind)
    keep = y >= 0
    return x[keep], y[keep], np.full(int(keep.sum()), number)
