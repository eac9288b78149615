"""Retention of quality's records: an order completed long ago moves, with its inspections,
defects, inline checks and photo screenings, to ``quality_archive`` and reads the same over
HTTP; a run killed with SIGKILL mid-move, re-run, neither loses nor duplicates (real
PostgreSQL, the real ``looptrace retention run`` process)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from asyncio.subprocess import DEVNULL, PIPE
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from looptrace_quality import repository as repo
from looptrace_quality import retention
from looptrace_quality.models import PhotoScreeningRow
from looptrace_shared import testing
from looptrace_shared.envelope import new_envelope
from looptrace_shared.messaging.incoming import Record
from looptrace_shared.migrations import migrate
from looptrace_shared.system import migrations_dir

pytestmark = pytest.mark.integration

TABLES = tuple(retention.STORE.live)
LOOPTRACE = os.path.join(os.path.dirname(sys.executable), "looptrace")


def completed(order_id: str) -> Record:
    data = {"order_id": order_id, "order_number": f"PO-{order_id[:6]}", "from_status": "delivered",
            "to_status": "completed", "status": "completed", "production_status": "completed"}  # fmt: skip
    value = new_envelope("order.status_changed", "orders", order_id, data).to_bytes()
    return Record("orders.events.v1", 0, 1, order_id.encode(), value)


async def sql(kit, statement: str, **params: Any) -> list[Any]:  # type: ignore[no-untyped-def]
    async with kit.processor.sessions() as s, s.begin():
        result = await s.execute(text(statement), params)
        return list(result) if result.returns_rows else []


async def counts(kit, schema: str, ids: list[str]) -> dict[str, int]:  # type: ignore[no-untyped-def]
    out = {}
    for t in TABLES:
        rows_of = retention.STORE.rows_of(t, ids)
        table = retention.STORE.live[t] if schema == "quality" else retention.STORE.cold[t]
        stmt = str(rows_of.compile(compile_kwargs={"literal_binds": True}))
        stmt = stmt.replace("quality.", f"{schema}.") if schema != "quality" else stmt
        q = f"SELECT count(*) FROM {table.schema}.{t} WHERE {stmt}"
        out[t] = (await sql(kit, q))[0][0]
    return out


async def an_order_completed_long_ago(kit, years: int = 3) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    """A lot with a decided inspection (2 major defects), an inline check, a labelled screening;
    then orders says it completed, ``years`` ago."""
    oid, sup, buyer = str(uuid.uuid4()), f"sup-{uuid.uuid4().hex[:8]}", f"b-{uuid.uuid4().hex[:6]}"
    await kit.feed(kit.initialized(oid, sup, buyer), kit.qc_completed(oid))
    await kit.feed(kit.result(oid, major=2))
    qc = kit.auth("inspector", "qc-1")
    check = {"stage": "Sewing & Assembly", "units_checked": 40, "checked_at": None,
             "defects": [{"defect_type": "BROKEN_STITCH", "count": 3}]}  # fmt: skip
    r = await kit.http.post(f"/v1/orders/{oid}/inline-inspections", json=check, headers=qc)
    assert r.status_code == 201, r.text
    photo = str(uuid.uuid4())
    async with kit.processor.sessions() as s, s.begin():
        s.add(PhotoScreeningRow(photo_id=photo, order_id=oid, stage_number=9, status="screened",
                                score=0.7, threshold=0.5, rows=2, cols=2, model="baseline",
                                flagged=[{"index": 1, "row": 0, "col": 1, "box": [8, 0, 8, 8],
                                         "kind": "stain", "confidence": 0.7}], actions=["look"],
                                screened_at=datetime.now(UTC)))  # fmt: skip
    label = {"kind": "stain", "tiles": [1]}
    r = await kit.http.post(f"/v1/orders/{oid}/photos/{photo}/screening/labels", json=label,
                            headers=qc)  # fmt: skip
    assert r.status_code == 201, r.text
    await kit.feed(completed(oid))
    await sql(kit, "UPDATE quality.order_completions SET completed_at = completed_at - "
              "make_interval(years => :y) WHERE order_id = :oid", y=years, oid=oid)  # fmt: skip
    return oid, sup, buyer


async def snapshot(kit, oid: str, sup: str, buyer: str) -> dict[Any, Any]:  # type: ignore[no-untyped-def]
    (photo,) = await sql(kit, "SELECT photo_id FROM quality.photo_screenings WHERE order_id = :o "
                         "UNION ALL SELECT photo_id FROM quality_archive.photo_screenings "
                         "WHERE order_id = :o", o=oid)  # fmt: skip
    views: dict[Any, Any] = {}
    for role, subject in (("inspector", "qc-1"), ("buyer", buyer), ("supplier", sup)):
        h = kit.auth(role, subject)
        paths = [f"/v1/orders/{oid}/inspections", f"/v1/orders/{oid}/aql",
                 f"/v1/orders/{oid}/photos/{photo[0]}/screening"]  # fmt: skip
        if role != "buyer":
            paths += [f"/v1/suppliers/{sup}/inspections", f"/v1/suppliers/{sup}/quality"]
        for path in paths:
            r = await kit.http.get(path, headers=h)
            assert r.status_code == 200, (path, r.text)
            views[role, path] = r.json()
        first = views[role, f"/v1/orders/{oid}/inspections"]["items"][0]["id"]
        views[role, "one"] = (await kit.http.get(f"/v1/inspections/{first}", headers=h)).json()
    other = kit.auth("buyer", "b-someone-else")
    views["other"] = (
        await kit.http.get(f"/v1/orders/{oid}/inspections", headers=other)
    ).status_code
    return views


async def move(kit, **overrides: Any) -> Any:  # type: ignore[no-untyped-def]
    url = kit.settings.database_url
    return await testing.run_retention(retention.RETENTION, url, **overrides)


async def test_an_archived_orders_quality_records_read_the_same_over_http(kit) -> None:  # type: ignore[no-untyped-def]
    oid, sup, buyer = await an_order_completed_long_ago(kit)
    recent, *_ = await an_order_completed_long_ago(kit, years=1)  # inside the threshold
    before = await snapshot(kit, oid, sup, buyer)
    assert before["other"] == 404
    live = await counts(kit, "quality", [oid])
    assert live == dict.fromkeys(TABLES, 1) | {"inspection_defects": 1}

    dry = await move(kit, dry_run=True)
    assert dry.orders >= 1 and dry.rows["inspections"] >= 1 and "would move" in dry.lines()[0]
    assert await counts(kit, "quality", [oid]) == live  # a dry run changes nothing

    report = await move(kit)
    assert report.orders >= 1 and report.lines()[0].startswith("quality: moved the records of ")
    assert await counts(kit, "quality_archive", [oid]) == live
    assert set((await counts(kit, "quality", [oid])).values()) == {0}
    assert (await counts(kit, "quality", [recent]))["inspections"] == 1  # kept live
    assert await snapshot(kit, oid, sup, buyer) == before

    qc = kit.auth("inspector", "qc-1")
    check = {"stage": "Sewing & Assembly", "units_checked": 10, "defects": []}
    r = await kit.http.post(f"/v1/orders/{oid}/inline-inspections", json=check, headers=qc)
    assert r.status_code == 409 and r.json()["rule"] == "order_archived"
    assert (await move(kit)).rows.get("inspections", 0) == 0  # idempotent: nothing left
    assert await counts(kit, "quality_archive", [oid]) == live


SEED = """
INSERT INTO quality.order_lots (order_id, order_number, supplier_id, buyer_id, lot_size, qc_stages)
SELECT :p || n, 'PO-' || :p || n, 'sup-kill', 'b-kill', 500, '[9]' FROM generate_series(1, :n) n;
INSERT INTO quality.inspections (id, order_id, supplier_id, stage_number, round, lot_size,
    severity, plan, status, disposition, scheduled_at, decided_at, photo_urls)
SELECT 'i-' || :p || n || '-' || r, :p || n, 'sup-kill', 9, r, 500, 'normal', '{}', 'decided',
    'accepted', now() - make_interval(days => r), now(), '[]'
FROM generate_series(1, :n) n, generate_series(1, 2) r;
INSERT INTO quality.inspection_defects (inspection_id, defect_class, count)
SELECT 'i-' || :p || n || '-1', 'major', n % 5 FROM generate_series(1, :n) n;
INSERT INTO quality.inline_checks (id, order_id, supplier_id, stage, units_checked, defects,
    defects_by_class, defects_found, dhu, inspector, checked_at)
SELECT 'c-' || :p || n, :p || n, 'sup-kill', 'Sewing', 40, '[]', '{}', 2, 5, 'qc', now()
FROM generate_series(1, :n) n;
INSERT INTO quality.order_completions (order_id, completed_at)
SELECT :p || n, now() - interval '3 years' FROM generate_series(1, :n) n;
"""


async def reads(kit, ids: list[str]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """What the order-inspections route reads of each order (its query function)."""
    out = {}
    async with kit.processor.sessions() as s:
        for oid in ids:
            rows = await repo.inspections_page(s, None, 50, order_id=oid)
            out[oid] = [(r.id, r.round, r.disposition) for r in rows]
    return out


async def test_a_run_killed_mid_move_then_rerun_neither_loses_nor_duplicates(kit) -> None:  # type: ignore[no-untyped-def]
    prefix, n = f"k{uuid.uuid4().hex[:6]}-", 1500
    async with kit.processor.sessions() as s, s.begin():
        for statement in SEED.strip().split(";\n"):
            await s.execute(text(statement), {"p": prefix, "n": n})
    ids = [f"{prefix}{i}" for i in range(1, n + 1)]
    before, sample = await counts(kit, "quality", ids), await reads(kit, ids[::97])
    env = {**os.environ, "DATABASE_URL": kit.settings.database_url, "RETENTION_BATCH": "1"}
    cmd = [LOOPTRACE, "retention", "run", "--service", "quality"]
    proc = await asyncio.create_subprocess_exec(*cmd, env=env, stdout=DEVNULL, stderr=DEVNULL)
    try:
        for _ in range(1200):  # until some batches are in (a minute at most)
            archived = (await counts(kit, "quality_archive", ids))["order_lots"]
            if archived >= 30 or proc.returncode is not None:
                break
            await asyncio.sleep(0.05)
        proc.send_signal(signal.SIGKILL)  # mid-move: no chance to finish a batch or clean up
    finally:
        await asyncio.wait_for(proc.wait(), 30)
    assert proc.returncode == -signal.SIGKILL, "the run ended before it was killed"
    cold, live = await counts(kit, "quality_archive", ids), await counts(kit, "quality", ids)
    assert 30 <= cold["order_lots"] < n, cold
    assert {t: cold[t] + live[t] for t in TABLES} == before  # every row in one place, once
    both = await sql(kit, "SELECT count(*) FROM quality.inspections l JOIN "
                     "quality_archive.inspections a USING (id)")  # fmt: skip
    assert both[0][0] == 0

    env["RETENTION_BATCH"] = "200"
    rerun = await asyncio.create_subprocess_exec(*cmd, env=env, stdout=PIPE, stderr=PIPE)
    out, err = await asyncio.wait_for(rerun.communicate(), 300)
    assert rerun.returncode == 0, err.decode()[-2000:]
    assert out.decode().startswith("quality: moved the records of ")
    assert await counts(kit, "quality_archive", ids) == before  # nothing lost, nothing twice
    assert set((await counts(kit, "quality", ids)).values()) == {0}
    assert await reads(kit, ids[::97]) == sample


async def test_the_command_prints_every_services_part(kit) -> None:  # type: ignore[no-untyped-def]
    url = kit.settings.database_url
    for service in ("orders", "production", "notifications"):  # all four schemas in one database
        await asyncio.to_thread(migrate, url, migrations_dir(service))
    cmd = [LOOPTRACE, "retention", "run", "--dry-run"]
    env = {**os.environ, "DATABASE_URL": url}
    proc = await asyncio.create_subprocess_exec(*cmd, env=env, stdout=PIPE, stderr=PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()[-2000:]
    lines = out.decode().splitlines()
    for service in ("notifications", "orders", "production", "quality"):
        assert any(line.startswith(f"{service}: would move the records of ") for line in lines), (
            service, lines,
        )  # fmt: skip
