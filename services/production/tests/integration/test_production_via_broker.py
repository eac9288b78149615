"""Supplier progress drives knitwear and cut-and-sew orders to production_completed, over the real
broker and PostgreSQL; bad, duplicate and early messages behave as specified."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from looptrace_shared.topics import PRODUCTION_EVENTS, QUALITY_EVENTS, dlq

pytestmark = pytest.mark.integration


def completed_all(timeline) -> bool:  # type: ignore[no-untyped-def]
    return bool(timeline) and all(
        s["status"] in ("completed", "skipped") for s in timeline["stages"]
    )


async def test_knitwear_order_with_bad_duplicate_and_early_messages(running, kit) -> None:  # type: ignore[no-untyped-def]
    oid, early = str(uuid.uuid4()), str(uuid.uuid4())
    base = kit.an_hour_ago()
    # the early order: its progress arrives before its assignment and is parked
    await kit.report(kit.progress(early, "Yarn Received", 50, base))
    await kit.assign(kit.assignment(oid, "knitwear"))
    await kit.until(lambda: running.timeline(oid), bool, what="knitwear plan exists")
    n = 0

    async def report(stage, pct, **extra):  # type: ignore[no-untyped-def]
        nonlocal n
        n += 1
        return await kit.report(kit.progress(oid, stage, pct, kit.stamp(base, n), **extra))

    await report(1, 50, notes="yarn in", photo_urls=["https://f.example/y.jpg"], message_id="m-1")
    bad = {
        "percentage_out_of_range": await report(1, 120),
        "stage_cannot_go_backwards": await report(1, 30),
        "prerequisite_stage_not_done": await report(3, 10),
        "reported_in_the_future": await kit.report(
            kit.progress(oid, 1, 60, base + timedelta(days=1))
        ),
    }
    dup = await report(1, 60)
    await kit.send(
        dup.type, oid, dup.data, "production.progress.v1", envelope_id=dup.id
    )  # same envelope
    await kit.report(
        kit.progress(oid, 1, 50, kit.stamp(base, 0), message_id="m-1")
    )  # same supplier id
    await kit.pass_inspection(oid, 5, "i-final")  # the QC gate: stage 6 completes after this
    await kit.gate_passed(oid)
    for stage in range(1, 9):
        await report(stage, 100)
    await kit.assign(kit.assignment(early, "knitwear"))

    timeline = await kit.until(
        lambda: running.timeline(oid), completed_all, what="knitwear completed"
    )
    assert timeline["stages"][0]["notes"][0]["text"] == "yarn in"
    assert timeline["stages"][0]["photos"][0]["url"] == "https://f.example/y.jpg"
    early_line = await kit.until(
        lambda: running.timeline(early),
        lambda t: t and t["stages"][0]["percentage"] == 50,
        what="early progress applied after the assignment",
    )
    assert early_line["stages"][0]["status"] == "in_progress"

    events = kit.envelopes(
        await kit.read(
            PRODUCTION_EVENTS,
            {oid},
            lambda rs: any(r.value and b"production_completed" in r.value for r in rs),
        )
    )
    types = Counter(e.type for e in events)
    assert (
        types["production.stages_initialized"] == 1
        and types["production.production_completed"] == 1
    )
    init = next(e for e in events if e.type == "production.stages_initialized").data
    assert init["quantity"] == 500 and init["buyer_id"] == "b-1" and len(init["stages"]) == 8
    completed = Counter(
        e.data["stage_number"] for e in events if e.type == "production.stage_completed"
    )
    assert completed == Counter(range(1, 9)), "each stage completes exactly once"
    first = [
        e.data for e in events if e.type == "production.stage_started" and e.data["first_stage"]
    ]
    assert [f["stage_number"] for f in first] == [1]
    progressed = [
        e.data["percentage"]
        for e in events
        if e.type == "production.stage_progressed" and e.data["stage_number"] == 1
    ]
    assert progressed == [50, 60, 100], "duplicates changed nothing"
    shipping = [
        e.data for e in events if e.type == "production.stage_completed" and e.data["shipping"]
    ]
    assert [s["stage_number"] for s in shipping] == [8]

    letters = await kit.read(dlq("production.progress.v1"), {oid}, lambda rs: len(rs) >= len(bad))
    by_rule = {kit.headers(r)["rule"]: r for r in letters}
    assert set(by_rule) == set(bad)
    for rule, env in bad.items():
        assert str(env.id).encode() in by_rule[rule].value
    assert "outside 0–100" in kit.headers(by_rule["percentage_out_of_range"])["error"]


async def test_cut_and_sew_without_print_reworks_after_a_failed_inspection(running, kit) -> None:  # type: ignore[no-untyped-def]
    oid = str(uuid.uuid4())
    base = kit.an_hour_ago()
    await kit.assign(kit.assignment(oid, "Cut and Sew", has_print=False))
    timeline = await kit.until(lambda: running.timeline(oid), bool, what="cut-and-sew plan exists")
    assert timeline["stages"][4]["status"] == "skipped" and timeline["on_track"]
    n = 0
    for stage in (1, 2, 3, 4, "Sewing & Assembly", 7, 8):
        n += 1
        await kit.report(kit.progress(oid, stage, 100, kit.stamp(base, n)))
    await kit.until(
        lambda: running.timeline(oid),
        lambda t: t["stages"][7]["status"] == "completed",
        what="internal QC completed",
    )
    failed = {
        "order_id": oid,
        "order_number": "x",
        "inspection_id": "i-1",
        "stage_number": 8,
        "sample_inspected": 80,
        "defects_by_class": {"major": 4},
        "summary": "4 major (Ac 2)",
    }
    await kit.send("quality.inspection_failed", oid, failed, QUALITY_EVENTS)
    reworked = await kit.until(
        lambda: running.timeline(oid),
        lambda t: t["stages"][6]["status"] == "in_progress",
        what="washing reopened",
    )
    assert reworked["stages"][6]["delay_reason"] == "quality_rework"
    assert reworked["stages"][7]["status"] == "pending" and reworked["stages"][7]["percentage"] == 0
    await kit.pass_inspection(oid, 8, "i-2")  # the re-inspection, and the final inspection
    await kit.pass_inspection(oid, 9, "i-3")
    await kit.gate_passed(oid)
    later = datetime.now(UTC)  # the rework restarted washing when the failure arrived
    for m, stage in enumerate((7, 8, 9, 10)):
        await kit.report(kit.progress(oid, stage, 100, later + timedelta(seconds=m)))
    await kit.until(lambda: running.timeline(oid), completed_all, what="cut-and-sew completed")

    events = kit.envelopes(
        await kit.read(
            PRODUCTION_EVENTS, {oid}, lambda rs: any(b"production_completed" in r.value for r in rs)
        )
    )
    reopened = [e.data["stage_number"] for e in events if e.type == "production.stage_reopened"]
    assert reopened == [7, 8]
    completed = Counter(
        e.data["stage_number"] for e in events if e.type == "production.stage_completed"
    )
    assert completed == Counter({1: 1, 2: 1, 3: 1, 4: 1, 6: 1, 7: 2, 8: 2, 9: 1, 10: 1})
    qc = {
        e.data["stage_number"]
        for e in events
        if e.type == "production.stage_completed" and e.data["qc"]
    }
    assert qc == {8, 9}
