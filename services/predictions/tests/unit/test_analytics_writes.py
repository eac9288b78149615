"""A batch's writes as one statement: each part a CTE with its own rows parameter."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from looptrace_predictions.analytics.writes import Writes, _statement

NAMES = st.lists(st.sampled_from(["orders", "stages", "replies", "qc_weeks", "inspections"]),
                 unique=True, min_size=1)  # fmt: skip


@given(NAMES)
def test_parts_in_name_order_each_binding_its_own_rows(names: list[str]) -> None:
    parts = tuple(
        sorted(
            (n, f"INSERT INTO t_{n} SELECT * FROM json_to_recordset(CAST(:rows AS json))")
            for n in names
        )
    )
    sql = _statement(parts).text
    assert sql.startswith("WITH ") and sql.endswith(" SELECT 1")
    positions = [sql.index(f"w_{n} AS (INSERT INTO t_{n} ") for n in sorted(names)]
    assert positions == sorted(positions)
    for n in names:
        assert f"CAST(:rows_{n} AS json)" in sql
    assert ":rows " not in sql and ":rows)" not in sql


def test_a_part_given_twice_is_refused() -> None:
    writes = Writes()
    writes.put("orders", text("INSERT INTO t SELECT :rows"), "[]")
    with pytest.raises(ValueError, match="orders"):
        writes.put("orders", text("INSERT INTO t SELECT :rows"), "[]")
