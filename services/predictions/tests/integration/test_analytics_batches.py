"""The analytics feed against a real PostgreSQL: however a history is cut into batches (and
redelivered), and after a rebuild from the journal, the read model's tables are the same.

A batch's writes go to PostgreSQL as one statement and its reads as one (``writes``,
``store.load_batch``): an order whose events span batches, an inspection decided in a later
batch than it was scheduled, and a repeat of the whole history all pass through them.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import text

import looptrace_predictions
from looptrace_predictions.analytics import cards, covered, store
from looptrace_predictions.analytics.consumer import JOURNAL, consumer_groups, rebuild
from looptrace_predictions.analytics.filters import Filters
from looptrace_predictions.analytics.sample import Season
from looptrace_predictions.analytics.tables import DERIVED
from looptrace_predictions.config import PredictionsSettings
from looptrace_predictions.models import plumbing
from looptrace_shared.db import make_engine, make_sessionmaker
from looptrace_shared.messaging.consumer import BatchProcessor
from looptrace_shared.messaging.incoming import Record
from looptrace_shared.migrations import migrate
from looptrace_shared.testing import Infra, scratch_database

pytestmark = pytest.mark.integration

MIGRATIONS = Path(looptrace_predictions.__file__).parent / "migrations"
KEYS = {"analytics_orders", "analytics_stages", "analytics_inspections", "analytics_replies"}


def interleaved(n_orders: int) -> list[Record]:
    """A season's events as a topic delivers them: orders' streams interleaved, each in order."""
    per_order: dict[bytes, list[Any]] = defaultdict(list)
    for m in Season(n_orders, seed=7, suppliers=5, buyers=3).messages():
        per_order[m.key].append(m)
    merged = [m for g in itertools.zip_longest(*per_order.values()) for m in g if m is not None]
    return [Record(m.topic, 0, i, m.key, m.value) for i, m in enumerate(merged)]


@pytest.fixture(scope="module")
def url(infra: Infra) -> Iterator[str]:
    with scratch_database(infra.server_url, "looptrace_analytics_batches") as found:
        migrate(found, MIGRATIONS)
        yield found


async def tables(sessions: Any) -> dict[str, list[str]]:
    """Every derived table's rows as JSON text, sorted; rollup rows whose sums are all zero
    (a key that a fact entered and left again) are left out: they count nothing."""
    out = {}
    async with sessions() as session:
        for row in DERIVED:
            t = row.__table__
            sql = text(f"SELECT row_to_json(t)::text FROM {t.fullname} t")
            rows = [r[0] for r in await session.execute(sql)]
            if t.name not in KEYS:
                measures = [c.name for c in t.columns if not c.primary_key]
                rows = [
                    r for r in rows if any(v for k, v in orjson.loads(r).items() if k in measures)
                ]
            out[t.name] = sorted(rows)
    return out


async def feed(
    sessions: Any, settings: PredictionsSettings, records: list[Record], size: int
) -> None:
    async with sessions() as session:
        await session.execute(text(f"TRUNCATE {JOURNAL}"))
        await store.truncate_derived(session)
        await session.commit()
    group = consumer_groups(None)[0]  # type: ignore[arg-type]
    processor = BatchProcessor(group, sessions, plumbing, settings)
    for i in range(0, len(records), size):
        await processor.process(records[i : i + size])


async def test_the_same_read_model_whatever_the_batches_and_after_a_rebuild(url: str) -> None:
    settings = PredictionsSettings(database_url=url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    records = interleaved(24)
    try:
        await feed(sessions, settings, records, 1000)
        whole = await tables(sessions)
        assert len(whole["analytics_orders"]) == 24 and len(whole["analytics_stages"]) > 24
        assert whole["analytics_inspections"] and whole["analytics_supplier_months"]
        await feed(
            sessions, settings, records + records[: len(records) // 2], 37
        )  # and a redelivery
        assert await tables(sessions) == whole
        await rebuild(sessions)
        assert await tables(sessions) == whole
    finally:
        await engine.dispose()


FACT_BINS = (
    "SELECT coalesce(category, '-'), stage_number, stage_name, overrun_days, count(*),"
    " sum(days_in_stage), sum(created_days), count(*) FILTER (WHERE created_days > 0)"
    f" FROM {store.STAGES} WHERE {{}} GROUP BY 1, 2, 3, 4"
)
FACT_MONTHS = (
    "SELECT coalesce(supplier_id, '-'), date_trunc('month', completed_on)::date, count(*),"
    f" sum(created_days) FROM {store.STAGES} WHERE {{}} GROUP BY 1, 2"
)
FACT_SUPPLIERS = (
    "SELECT coalesce(supplier_id, '-'), stage_name, count(*), sum(days_in_stage),"
    " sum(overrun_days), sum(created_days), count(*) FILTER (WHERE created_days > 0)"
    f" FROM {store.STAGES} WHERE {{}} GROUP BY 1, 2"
)


async def sums(session: Any, sql: str, params: dict[str, Any]) -> set[tuple[Any, ...]]:
    return {tuple(r) for r in await session.execute(text(sql), params)}


async def test_the_rollups_sum_to_the_facts_over_any_range(url: str) -> None:
    """Over ranges of days (edges within a week, across months' ends, open, whole months),
    the week-part or monthly rows plus the daily rows (or facts) at the edges add up to the
    facts alone: histograms, suppliers' stages, suppliers' totals, suppliers' months."""
    settings = PredictionsSettings(database_url=url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    day = date.fromisoformat
    ranges = [(day("2026-02-10"), day("2026-03-20")), (day("2026-01-28"), day("2026-02-03")),
              (day("2026-03-02"), day("2026-03-08")), (day("2026-02-11"), day("2026-02-11")),
              (day("2026-04-01"), day("2026-06-30")), (None, day("2026-05-13")),
              (day("2026-05-13"), None), (None, None)]  # fmt: skip
    try:
        await feed(sessions, settings, interleaved(60), 500)
        seen = 0
        async with sessions() as session:
            for start, end in ranges:
                f = Filters(start=start, end=end)
                where, params = f.where("completed_on", ())
                bins, p = covered.source(covered.BINS, f)
                rolled = await sums(
                    session, f"SELECT {ROLLED_BINS} FROM {bins} GROUP BY 1, 2, 3, 4", p
                )
                assert rolled == await sums(session, FACT_BINS.format(where), params), (start, end)
                seen += len(rolled)
                stages, p = covered.source(covered.SUPPLIER_STAGES, f)
                rolled = await sums(
                    session, f"SELECT {ROLLED_SUPPLIERS} FROM {stages} GROUP BY 1, 2", p
                )
                assert rolled == await sums(session, FACT_SUPPLIERS.format(where), params)
                totals, p = covered.source(covered.SUPPLIER_TOTALS, f)
                rolled = await sums(session, f"SELECT {ROLLED_TOTALS} FROM {totals} GROUP BY 1"
                                    " HAVING sum(n) > 0", p)  # fmt: skip
                assert rolled == await sums(session, FACT_TOTALS.format(where), params)
                months, p = covered.source(covered.MONTHLY_STAGES, f)
                sql = f"SELECT supplier_id, month, sum(n), sum(created_sum) FROM {months} GROUP BY 1, 2 HAVING sum(n) > 0"
                assert await sums(session, sql, p) == await sums(
                    session, FACT_MONTHS.format(where), params
                )
        assert seen > 300  # not a comparison of nothing (402 rows)
    finally:
        await engine.dispose()


ROLLED_BINS = (
    "category, stage_number, stage_name, overrun_days, sum(n), sum(days_sum), sum(created_sum),"
    " sum(slipped_n)"
)
FACT_TOTALS = (
    "SELECT coalesce(supplier_id, '-'), count(*), sum(days_in_stage), sum(overrun_days),"
    " sum(created_days), count(*) FILTER (WHERE created_days > 0)"
    f" FROM {store.STAGES} WHERE {{}} GROUP BY 1"
)
ROLLED_TOTALS = (
    "supplier_id, sum(n), sum(days_sum), sum(overrun_sum), sum(created_sum), sum(slipped_n)"
)
ROLLED_SUPPLIERS = (
    "supplier_id, stage_name, sum(n), sum(days_sum), sum(overrun_sum), sum(created_sum),"
    " sum(slipped_n)"
)


async def test_scorecards_from_the_monthly_rollup_equal_those_from_the_facts(url: str) -> None:
    """Totals per supplier summed by PostgreSQL (the rollup's path) and months summed in
    Python (the facts' path, taken for a range that is not whole months but holds it all)."""
    settings = PredictionsSettings(database_url=url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    everything = {"start": date(2025, 1, 2), "end": date(2027, 12, 30)}
    try:
        await feed(sessions, settings, interleaved(40), 500)
        async with sessions() as session:
            whole = await cards.scorecards(session, Filters(), 3)
            assert len(whole["suppliers"]) == 3 and whole["suppliers"][0]["monthly"]
            assert whole == await cards.scorecards(session, Filters(**everything), 3)
            one = whole["suppliers"][1]["supplier_id"]
            mine = await cards.scorecards(session, Filters(supplier=one), 3)
            assert mine["suppliers"] == [whole["suppliers"][1]]
            assert mine == await cards.scorecards(session, Filters(supplier=one, **everything))
            assert mine["on_time_trend"] != whole["on_time_trend"]  # its own months only
    finally:
        await engine.dispose()
