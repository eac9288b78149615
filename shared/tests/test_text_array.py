"""``text_array`` binds a list of strings as one joined text, or as an array when it must, and
PostgreSQL gets the same ``text[]`` either way (real PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from looptrace_shared.db import UNIT, make_engine, text_array

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    "values, joined",
    [
        (["a", "b", "c"], True),
        (["only"], True),
        (["", "x", ""], True),  # empty strings survive the split
        (['{"é": "\\u001f"}', "ünïcode ✓"], True),  # JSON escapes the separator
        (["has\x1fseparator", "b"], False),  # split would be wrong: an array instead
        ([], False),
    ],
)
async def test_postgres_gets_the_same_array_either_way(
    database_url: str, values: list[str], joined: bool
) -> None:
    params: dict[str, Any] = {}
    sql = text_array(params, "v", values)
    assert isinstance(params["v"], str) is joined
    assert (UNIT in sql) is False  # the separator is spelled as an escape in the SQL
    engine = make_engine(database_url, 1)
    async with engine.connect() as conn:
        got = (await conn.execute(text(f"SELECT {sql}"), params)).scalar()
    await engine.dispose()
    assert got == values
