"""Analytics read model: events/s fed through the batch processor, and /v1/analytics latency.

    DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/analytics_bench.py [--orders 2000] [--big-orders 100000] [--requests 40]
        [--only feed|queries] [--keep NAME [--rebuild]] [--figure stages] [--scope "admin, all"]

1. feed: a synthetic season (``analytics.sample``: ~42 events an order — order facts, plan,
   start/progress/completion of ten stages, inspections, messages, status changes),
   interleaved across 200 orders at a time as a topic delivers them, through
   ``BatchProcessor.process`` in batches of ``--batch``: parse, journal (the redelivery
   check), load the batch's orders, apply, save orders, stage facts, rollups, inspections.
2. queries: a data set of ``--big-orders`` orders with ten stage rows each (10^6 stage rows
   for 10^5 orders; each order's state about 1.1 kB, as the feed's are), 1.5 inspections an
   order, replies and risk rows, written by PostgreSQL
   itself (generate_series; rollup rows and inspections then clustered by period, as the
   feed writes them in time order), then every /v1/analytics figure is asked ``--requests``
   times per scope over HTTP (the service's app, in process) and its p50/p95 printed, with
   the service's CPU per request (this process's: less at the mercy of a busy machine).
Uses a scratch database on that server (dropped afterwards), or with ``--keep NAME`` the
database ``NAME``, kept afterwards: migrated, and the queries' data set built only when it is
not there yet (or ``--rebuild``), so runs before and after a change can alternate on one data
set. (``--keep`` databases are the caller's to drop: ``DROP DATABASE NAME WITH (FORCE)``.)
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import os
import statistics
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator

import asyncpg
import click
import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from looptrace_predictions.analytics.consumer import consumer_groups
from looptrace_predictions.analytics.sample import Season
from looptrace_predictions.app import create_app
from looptrace_predictions.config import PredictionsSettings
from looptrace_predictions.models import plumbing
from looptrace_shared.auth import mint_token
from looptrace_shared.db import make_engine, make_sessionmaker
from looptrace_shared.messaging.consumer import BatchProcessor
from looptrace_shared.messaging.incoming import Record
from looptrace_shared.migrations import migrate
from looptrace_shared.system import migrations_dir
from looptrace_shared.testing import scratch_database, with_database

FEED_TARGET = 10_000
P95_TARGET_MS = 200.0
S = "predictions"


def interleaved(n_orders: int) -> list[Record]:
    per_order: dict[bytes, list] = defaultdict(list)  # type: ignore[type-arg]
    for m in Season(n_orders, seed=2, suppliers=40, buyers=25).messages():
        per_order[m.key].append(m)
    streams, out = list(per_order.values()), []
    for i in range(0, len(streams), 200):
        for group in itertools.zip_longest(*streams[i : i + 200]):
            out += [m for m in group if m is not None]
    return [Record(m.topic, 0, i, m.key, m.value) for i, m in enumerate(out)]


async def feed(url: str, n_orders: int, batch: int) -> None:
    records = interleaved(n_orders)
    # the input stands in for the broker: out of the collector's sight (a consumer holds one
    # batch, not 80 000 records, and a full collection would walk them all every time)
    gc.collect()
    gc.freeze()
    settings = PredictionsSettings(database_url=url)
    engine = make_engine(url)
    processor = BatchProcessor(
        consumer_groups(None)[0], make_sessionmaker(engine), plumbing, settings
    )  # type: ignore[arg-type]
    await processor.process(records[:batch])  # warm-up (not counted)
    start, cpu, batches = time.perf_counter(), time.process_time(), []
    for i in range(batch, len(records), batch):
        t0 = time.perf_counter()
        await processor.process(records[i : i + batch])
        batches.append((min(batch, len(records) - i), time.perf_counter() - t0))
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    rate = (len(records) - batch) / elapsed
    click.echo(f"  consumer CPU: {cpu:.1f} s ({(len(records) - batch) / cpu:,.0f} events per CPU-second;"
               f" load average {os.getloadavg()[0]:.1f})")  # fmt: skip
    # the median batch: less at the mercy of the other processes' bursts than the total
    n, took = sorted(batches, key=lambda b: b[1] / b[0])[len(batches) // 2]
    click.echo(f"  median batch: {1000 * took:.1f} ms for {n} events ({n / took:,.0f} events/s)")
    verdict = "meets" if rate >= FEED_TARGET else "BELOW"
    click.echo(f"feed: {len(records) - batch} events of {n_orders} orders in {elapsed:.1f} s, batches"
               f" of {batch}: {rate:,.0f} events/s ({verdict} the {FEED_TARGET:,} target)")  # fmt: skip
    await engine.dispose()


# a stage's week part (``analytics.periods``): its week's Monday, or its month's 1st if later
PART = "greatest(date_trunc('week', completed_on::timestamp), date_trunc('month', completed_on::timestamp))::date"
DATA_SET = [
    f"TRUNCATE {S}.analytics_orders, {S}.analytics_stages, {S}.analytics_stage_histogram,"
    f" {S}.analytics_stage_suppliers, {S}.analytics_inspections, {S}.analytics_replies, {S}.order_features,"
    f" {S}.analytics_supplier_months, {S}.analytics_order_counts, {S}.analytics_qc_weeks,"
    f" {S}.analytics_stage_histogram_parts, {S}.analytics_stage_supplier_parts,"
    f" {S}.analytics_stage_histogram_days, {S}.analytics_supplier_total_parts, {S}.analytics_supplier_total_days",
    f"""INSERT INTO {S}.analytics_orders SELECT 'o' || g, 'PO-' || g, 'b' || (g % 2000), 's' || (g % 300),
      'cat' || (g % 300 % 6), CASE WHEN extract(month FROM t) <= 6 THEN 'SS' ELSE 'AW' END || to_char(t, 'YY'),
      p, t, CASE WHEN g % 5 = 0 THEN 'in_production' ELSE 'completed' END,
      CASE WHEN g % 5 = 0 THEN 'in_progress' ELSE 'completed' END, g % 5 = 0, g % 15 = 0,
      CASE WHEN g % 5 = 0 THEN 'Stage ' || (g % 10 + 1) END, t + (g % 7 - 3),
      CASE WHEN g % 5 <> 0 THEN t + (g % 9 - 5) END, CASE WHEN g % 5 <> 0 THEN g % 9 <= 5 END,
      p, (g % 72)::float8, json_build_array(repeat('x', 1100))
    FROM (SELECT g, date '2025-11-01' + (g % 365) AS p, date '2025-11-01' + (g % 365) + 70 AS t
          FROM generate_series(0, :n - 1) g) x""",
    f"""INSERT INTO {S}.analytics_stages SELECT o.order_id, n, 'Stage ' || n, o.supplier_id, o.buyer_id,
      o.category, o.season, o.placed_on + 6 * n + (h % 4), 5 + h % 5, h % 9 - 3, greatest(0, h % 7 - 2),
      greatest(0, h % 11 - 7)
    FROM {S}.analytics_orders o, generate_series(1, 10) n, LATERAL (SELECT abs(hashint4(n * 7919 + length(o.order_id) * 31 + substr(o.order_id, 2)::int)) AS h) z""",
    f"""INSERT INTO {S}.analytics_stage_histogram SELECT date_trunc('month', completed_on)::date, category,
      season, stage_number, stage_name, overrun_days, count(*), sum(days_in_stage), sum(created_days),
      count(*) FILTER (WHERE created_days > 0) FROM {S}.analytics_stages GROUP BY 1, 2, 3, 4, 5, 6""",
    f"""INSERT INTO {S}.analytics_stage_suppliers SELECT date_trunc('month', completed_on)::date, supplier_id,
      category, season, stage_number, stage_name, count(*), sum(days_in_stage), sum(overrun_days),
      sum(created_days), count(*) FILTER (WHERE created_days > 0) FROM {S}.analytics_stages GROUP BY 1, 2, 3, 4, 5, 6""",
    f"""INSERT INTO {S}.analytics_stage_histogram_parts SELECT {PART}, category, season, stage_number, stage_name,
      overrun_days, count(*), sum(days_in_stage), sum(created_days), count(*) FILTER (WHERE created_days > 0)
    FROM {S}.analytics_stages GROUP BY 1, 2, 3, 4, 5, 6""",
    f"""INSERT INTO {S}.analytics_stage_supplier_parts SELECT {PART}, supplier_id, category, season, stage_number,
      stage_name, count(*), sum(days_in_stage), sum(overrun_days), sum(created_days),
      count(*) FILTER (WHERE created_days > 0) FROM {S}.analytics_stages GROUP BY 1, 2, 3, 4, 5, 6""",
    f"""INSERT INTO {S}.analytics_stage_histogram_days SELECT completed_on, category, season, stage_number,
      stage_name, overrun_days, count(*), sum(days_in_stage), sum(created_days), count(*) FILTER (WHERE created_days > 0)
    FROM {S}.analytics_stages GROUP BY 1, 2, 3, 4, 5, 6""",
    *(
        f"""INSERT INTO {S}.analytics_supplier_total_{t} SELECT {period}, supplier_id, category, season, count(*),
      sum(days_in_stage), sum(created_days), count(*) FILTER (WHERE created_days > 0), sum(overrun_days)
    FROM {S}.analytics_stages GROUP BY 1, 2, 3, 4"""
        for t, period in (("parts", PART), ("days", "completed_on"))
    ),
    f"""INSERT INTO {S}.analytics_inspections SELECT 'i' || g, 'o' || (g % :n), 's' || (g % :n % 300),
      'b' || (g % :n % 2000), 'cat' || (g % :n % 300 % 6), 'SS26', 8 + (g / :n), g < :n, g < :n * 1.3,
      g % 7 <> 0, date '2025-11-01' + (g % 365) + 50, 80, 0, g % 4, g % 6
    FROM generate_series(0, (:n * 3 / 2) - 1) g""",
    f"""INSERT INTO {S}.analytics_replies SELECT 'o' || g, timestamptz '2026-01-01' + g * interval '1 minute',
      's' || (g % 300), 'b' || (g % 2000), date '2025-11-01' + (g % 365), (g % 90)::float8
    FROM generate_series(0, :n / 5 - 1) g""",
    f"""INSERT INTO {S}.analytics_supplier_months SELECT m, s, c, se, sum(f), sum(ok), sum(r), sum(rh),
      sum(fi), sum(fp), sum(re), sum(u), sum(cr), sum(ma), sum(mi), sum(rp), sum(rph), sum(st), sum(cd),
      sum(sd), sum(od), sum(sl) FROM (
      SELECT date_trunc('month', finished_on)::date m, supplier_id s, category c, season se, 1 f, on_time::int ok,
             0 r, 0.0 rh, 0 fi, 0 fp, 0 re, 0 u, 0 cr, 0 ma, 0 mi, 0 rp, 0.0 rph, 0 st, 0 cd, 0 sd, 0 od, 0 sl
        FROM {S}.analytics_orders WHERE on_time IS NOT NULL
      UNION ALL SELECT date_trunc('month', assigned_on)::date, supplier_id, category, season, 0, 0, 1,
             first_report_hours, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 FROM {S}.analytics_orders
      UNION ALL SELECT date_trunc('month', decided_on)::date, supplier_id, category, season, 0, 0, 0, 0,
             first::int, (first AND passed)::int, (NOT first)::int, units, critical, major, minor, 0, 0, 0, 0,
             0, 0, 0 FROM {S}.analytics_inspections
      UNION ALL SELECT date_trunc('month', r.answered_on)::date, r.supplier_id, o.category, o.season, 0, 0, 0, 0,
             0, 0, 0, 0, 0, 0, 0, 1, r.hours, 0, 0, 0, 0, 0 FROM {S}.analytics_replies r JOIN {S}.analytics_orders o USING (order_id)
      UNION ALL SELECT date_trunc('month', completed_on)::date, supplier_id, category, season, 0, 0, 0, 0,
             0, 0, 0, 0, 0, 0, 0, 0, 0, 1, created_days, days_in_stage, overrun_days, (created_days > 0)::int
        FROM {S}.analytics_stages
    ) x GROUP BY 1, 2, 3, 4""",
    f"""INSERT INTO {S}.analytics_order_counts SELECT date_trunc('month', placed_on)::date, category, season,
      workflow_status, production_status, is_open, delayed, coalesce(current_stage, '-'), count(*)
    FROM {S}.analytics_orders GROUP BY 1, 2, 3, 4, 5, 6, 7, 8""",
    f"""INSERT INTO {S}.analytics_qc_weeks SELECT date_trunc('week', decided_on)::date, category, season,
      count(*) FILTER (WHERE first), count(*) FILTER (WHERE first AND passed), count(*) FILTER (WHERE NOT first),
      sum(units), sum(critical), sum(major), sum(minor) FROM {S}.analytics_inspections WHERE inline GROUP BY 1, 2, 3""",
    f"""INSERT INTO {S}.order_features (order_id, buyer_id, supplier_id, state, risk_level, expected_delay_days,
      model_version) SELECT order_id, buyer_id, supplier_id, '{{}}'::json, 'low', (length(order_id) % 5)::float8, 'v1'
    FROM {S}.analytics_orders WHERE is_open""",
]


# The feed creates rollup rows and inspections as time goes by: each period's rows lie
# together in their table. PostgreSQL's GROUP BY writes them in hash order instead (a
# period's 1 500 rows in 500 blocks, each a read once the shared buffers are contended).
CLUSTERED = [
    (t, f"pk_{t}")
    for t in ("analytics_stage_histogram", "analytics_stage_suppliers", "analytics_stage_histogram_parts",
              "analytics_stage_supplier_parts", "analytics_stage_histogram_days", "analytics_supplier_total_parts",
              "analytics_supplier_total_days", "analytics_supplier_months")
] + [("analytics_inspections", "ix_analytics_inspections_decided")]  # fmt: skip


async def build_data_set(url: str, n: int, rebuild: bool = True) -> None:
    engine = make_engine(url)
    if not rebuild:
        async with engine.connect() as conn:
            have = await conn.scalar(text(f"SELECT count(*) FROM {S}.analytics_orders"))
        if have == n:
            click.echo(f"data set: the kept {n:,} orders")
            await engine.dispose()
            return
    start = time.perf_counter()
    async with engine.begin() as conn:
        for sql in DATA_SET:
            await conn.execute(text(sql), {"n": n})
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        for table, index in CLUSTERED:  # the feed writes them in time order
            await conn.execute(text(f"CLUSTER {S}.{table} USING {index}"))
        await conn.execute(text("VACUUM ANALYZE"))
        stages = await conn.scalar(text(f"SELECT count(*) FROM {S}.analytics_stages"))
    click.echo(
        f"data set: {n:,} orders, {stages:,} stage rows in {time.perf_counter() - start:.1f} s"
    )
    await engine.dispose()


SCOPES = {
    "admin, all": ("admin", "ops", {}),
    "admin, a category and whole months": (
        "admin",
        "ops",
        {"category": "cat3", "from": "2026-01-01", "to": "2026-06-30"},
    ),
    "admin, days range": ("admin", "ops", {"from": "2026-02-10", "to": "2026-03-20"}),
    "buyer": ("buyer", "b17", {}),
    "supplier": ("supplier", "s42", {}),
}
FIGURES = ("overview", "stages", "quality", "delivery", "scorecards")


async def query_latency(
    url: str, requests: int, scopes: tuple[str, ...] = (), figures: tuple[str, ...] = ()
) -> None:
    settings = PredictionsSettings(database_url=url)
    app = create_app(settings)
    worst = 0.0
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench"
    ) as http:
        for scope, (role, subject, params) in SCOPES.items():
            if scopes and scope not in scopes:
                continue
            headers = {"Authorization": f"Bearer {mint_token(settings.jwt_secret, role, subject)}"}
            for figure in figures or FIGURES:
                times, cpu = [], time.process_time()
                for _ in range(requests):
                    t0 = time.perf_counter()
                    r = await http.get(f"/v1/analytics/{figure}", params=params, headers=headers)
                    times.append(1000 * (time.perf_counter() - t0))
                    assert r.status_code == 200, r.text
                cpu = 1000 * (time.process_time() - cpu) / requests
                p95 = statistics.quantiles(times, n=20)[18]
                worst = max(worst, p95)
                # the service's own CPU (in this process), less at the mercy of the load
                click.echo(f"  {scope:38s} {figure:11s} p50 {statistics.median(times):6.1f} ms  p95 {p95:6.1f} ms"
                           f"  service CPU {cpu:5.1f} ms")  # fmt: skip
    await app.state.runtime.engine.dispose()
    verdict = "meets" if worst <= P95_TARGET_MS else "ABOVE"
    click.echo(f"queries: worst p95 {worst:.1f} ms ({verdict} the {P95_TARGET_MS:.0f} ms target;"
               f" load average {os.getloadavg()[0]:.1f})")  # fmt: skip


@click.command()
@click.option("--orders", type=click.IntRange(min=50), default=2000, show_default=True)
@click.option("--batch", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--big-orders", type=click.IntRange(min=1000), default=100_000, show_default=True)
@click.option("--requests", type=click.IntRange(min=5), default=40, show_default=True)
@click.option(
    "--only", type=click.Choice(["feed", "queries"]), default=None, help="run one part only"
)
@click.option("--keep", default=None, help="use (and keep) this database; build the data set once")
@click.option("--rebuild", is_flag=True, help="with --keep: build the queries' data set again")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(list(SCOPES)))
@click.option("--figure", "figures", multiple=True, type=click.Choice(FIGURES))
def main(
    orders: int, batch: int, big_orders: int, requests: int, only: str | None,
    keep: str | None, rebuild: bool, scopes: tuple[str, ...], figures: tuple[str, ...],
) -> None:  # fmt: skip
    server = os.environ.get("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    with _database(server, keep) as url:
        migrate(url, migrations_dir("predictions"))
        if only != "queries":
            asyncio.run(feed(url, orders, batch))
        if only != "feed":
            asyncio.run(build_data_set(url, big_orders, rebuild or keep is None))
            asyncio.run(query_latency(url, requests, scopes, figures))


@contextlib.contextmanager
def _database(server: str, keep: str | None) -> Iterator[str]:
    if keep is None:
        with scratch_database(server, f"looptrace_bench_{uuid.uuid4().hex[:4]}") as url:
            yield url
        return

    async def create() -> None:
        u = make_url(server)
        conn = await asyncpg.connect(
            database="postgres",
            host=u.host,
            port=u.port or 5432,
            user=u.username,
            password=u.password,
        )
        try:
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", keep):
                await conn.execute(f'CREATE DATABASE "{keep}"')
        finally:
            await conn.close()

    asyncio.run(create())
    yield with_database(server, keep)


if __name__ == "__main__":
    main()
