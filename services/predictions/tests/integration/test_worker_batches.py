"""The predictions worker against a real PostgreSQL: batches in, states, assessments and alerts out."""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import looptrace_predictions
from looptrace_predictions.app import reload_model, rescore_open_orders
from looptrace_predictions.config import PredictionsSettings
from looptrace_predictions.handlers import consumer_groups
from looptrace_predictions.models import (
    LiveSampleRow,
    OrderFeaturesRow,
    RiskAssessmentRow,
    SupplierOutcomeRow,
    plumbing,
)
from looptrace_predictions.registry import promote
from looptrace_predictions.scoring import LiveModel
from looptrace_predictions.services import Scoring
from looptrace_predictions.training import workflows
from looptrace_predictions.training.history import summarise_orders
from looptrace_predictions.training.live_history import export_history, live_frame
from looptrace_shared.db import make_engine, make_sessionmaker
from looptrace_shared.envelope import new_envelope
from looptrace_shared.messaging.consumer import BatchProcessor
from looptrace_shared.messaging.incoming import Record
from looptrace_shared.migrations import migrate
from looptrace_shared.runtime import Runtime

pytestmark = pytest.mark.integration

MIGRATIONS = Path(looptrace_predictions.__file__).parent / "migrations"
DAY = date(2031, 3, 1)  # "today" of the worker unless a test moves it
TOPICS = {"order": "orders.events.v1", "production": "production.events.v1",
          "quality": "quality.events.v1"}  # fmt: skip
_offsets = itertools.count()


@pytest.fixture(scope="module")
async def worker(database_url: str, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    await asyncio.to_thread(migrate, database_url, MIGRATIONS)
    model_dir = tmp_path_factory.mktemp("worker-models")
    settings = PredictionsSettings(database_url=database_url, predictions_model_dir=str(model_dir),
                                   parking_retry_s=0.0)  # fmt: skip
    engine = make_engine(database_url)
    scoring = Scoring(LiveModel(model_dir), today=lambda: clock["today"])
    rt = Runtime(settings, engine, make_sessionmaker(engine), plumbing, scoring)
    (group,) = consumer_groups(rt)
    yield rt, BatchProcessor(group, rt.sessions, plumbing, settings)
    await engine.dispose()


clock = {"today": DAY}


@pytest.fixture(autouse=True)
def reset_clock() -> None:
    clock["today"] = DAY


def d(offset: int) -> date:
    return DAY + timedelta(days=offset)


def at(offset: int) -> str:
    return datetime.combine(d(offset), time(9), UTC).isoformat()


def record(type_: str, oid: str, data: dict[str, Any], when: int | None = None) -> Record:
    envelope = new_envelope(type_, "test", oid, data)
    if when is not None:
        envelope.time = datetime.combine(d(when), time(8), UTC)
    topic = TOPICS[type_.split(".")[0]]
    return Record(topic, 0, next(_offsets), oid.encode(), envelope.to_bytes())


def created(oid: str, target: int = 25, when: int = -30) -> Record:
    return record("order.created", oid, {
        "order_id": oid, "order_number": f"PO-{oid[:6]}", "buyer": {"id": "b-1", "name": "B"},
        "product_category": "knitwear", "quantity": 1200, "target_date": str(d(target)),
        "workflow_status": "placed", "currency": "USD", "unit_price": "4.00"}, when)  # fmt: skip


PLAN = [(1, "Fabric sourcing", -30, -20), (2, "Cutting", -20, -10),
        (3, "Sewing", -10, 10), (4, "Final QC", 10, 20)]  # fmt: skip


def initialized(oid: str, supplier: str = "sup-1", target: int = 25, when: int = -30) -> Record:
    stages = [{"stage_number": n, "stage_name": name, "status": "pending",
               "planned_start": str(d(s)), "planned_end": str(d(e))} for n, name, s, e in PLAN]  # fmt: skip
    return record("production.stages_initialized", oid, {
        "order_id": oid, "order_number": f"PO-{oid[:6]}", "supplier_id": supplier,
        "product_category": "knitwear", "target_date": str(d(target)),
        "projected_completion": str(d(20)), "at_risk": False, "stages": stages}, when)  # fmt: skip


def stage(kind: str, oid: str, number: int, day: int) -> Record:
    name = PLAN[number - 1][1]
    field = {"started": "started_at", "completed": "completed_at"}[kind]
    return record(f"production.stage_{kind}", oid, {
        "order_id": oid, "order_number": "x", "stage_number": number, "stage_name": name,
        field: at(day)})  # fmt: skip


def on_track(oid: str, supplier: str = "sup-1") -> list[Record]:
    """Stages 1-2 done on plan, stage 3 running since its planned start: low risk."""
    return [created(oid), initialized(oid, supplier), stage("started", oid, 1, -30),
            stage("completed", oid, 1, -20), stage("started", oid, 2, -20),
            stage("completed", oid, 2, -10), stage("started", oid, 3, -10)]  # fmt: skip


async def alerts(p: BatchProcessor, oid: str) -> list[dict[str, Any]]:
    out = plumbing.outbox
    q = select(out.c.value).where(out.c.key == oid.encode(), out.c.topic == "predictions.alerts.v1")
    async with p.sessions() as s:
        rows = (await s.execute(q.order_by(out.c.id))).scalars()
        return [json.loads(v)["data"] for v in rows]


async def assessments(p: BatchProcessor, oid: str) -> int:
    q = select(func.count()).where(RiskAssessmentRow.order_id == oid)
    async with p.sessions() as s:
        return int((await s.execute(q)).scalar_one())


def ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


async def test_one_batch_scores_every_order_once_and_alerts_per_level_change(worker) -> None:  # type: ignore[no-untyped-def]
    _, p = worker
    fine, behind, overdue = ids(3)
    batch = on_track(fine) + [
        created(behind),
        initialized(behind),
        stage("started", behind, 1, -30),
    ]
    batch += [created(overdue, target=-1), initialized(overdue, target=-1)]
    await p.process(batch)
    levels = {
        oid: [a["risk_level"] for a in await alerts(p, oid)] for oid in (fine, behind, overdue)
    }
    assert levels == {fine: ["low"], behind: ["medium"], overdue: ["high"]}
    assert [await assessments(p, oid) for oid in (fine, behind, overdue)] == [1, 1, 1]
    first = (await alerts(p, overdue))[0]
    assert first["baseline"] is True and first["model_version"] == "baseline"
    assert first["delay_p10_days"] is None and first["interval_level"] is None  # rule: no interval
    assert first["previous_risk_level"] is None and first["probability"] == pytest.approx(0.9)
    assert any("target date passed" in text for text in first["drivers"])

    # more news that does not change the levels: assessed again, no alert
    await p.process([stage("completed", behind, 1, -5), stage("started", behind, 2, -5),
                     stage("completed", fine, 3, 0)])  # fmt: skip
    assert [len(await alerts(p, oid)) for oid in (fine, behind)] == [1, 1]
    assert [await assessments(p, oid) for oid in (fine, behind)] == [2, 2]

    # the target passes: the next event lifts the order to high, exactly once
    clock["today"] = d(30)
    late = [stage("started", fine, 4, 28)]
    await p.process(late)
    await p.process(late)  # redelivered: the inbox drops it
    (low, high) = await alerts(p, fine)
    assert (high["previous_risk_level"], high["risk_level"]) == ("low", "high")
    assert high["expected_delay_days"] >= 5 and high["projected_completion"] >= str(d(30))
    assert await assessments(p, fine) == 3


async def test_an_order_first_seen_at_its_plan_is_created_from_the_plan(worker) -> None:  # type: ignore[no-untyped-def]
    _, p = worker
    (oid,) = ids(1)
    await p.process([initialized(oid, target=-2)])  # order.created never seen
    (alert,) = await alerts(p, oid)
    assert alert["risk_level"] == "high" and alert["order_number"] == f"PO-{oid[:6]}"


async def test_a_stage_event_before_the_plan_waits_for_it(worker) -> None:  # type: ignore[no-untyped-def]
    _, p = worker
    (oid,) = ids(1)
    await p.process([stage("started", oid, 1, -30)])
    assert await alerts(p, oid) == []
    parked = plumbing.parked
    async with p.sessions() as s:
        reasons = (
            await s.execute(select(parked.c.reason).where(parked.c.subject == oid))
        ).scalars()
        assert ["has no production plan" in r for r in reasons] == [True]
    await p.process([created(oid), initialized(oid)])  # unblocks; the parked start is retried
    async with p.sessions() as s:
        left = (await s.execute(select(func.count()).where(parked.c.subject == oid))).scalar_one()
    assert left == 0 and await assessments(p, oid) == 2


async def test_a_finished_order_is_closed_and_counts_for_its_supplier(worker) -> None:  # type: ignore[no-untyped-def]
    _, p = worker
    oid, supplier = ids(1)[0], f"sup-{uuid.uuid4().hex[:6]}"
    await p.process([created(oid), initialized(oid, supplier=supplier, target=-5)])
    done = record("production.production_completed", oid,
                  {"order_id": oid, "order_number": "x", "completed_at": at(-1)})  # fmt: skip
    await p.process([done, stage("started", oid, 4, 0)])  # after completion: ignored
    async with p.sessions() as s:
        outcome = await s.get(SupplierOutcomeRow, oid)
    assert outcome is not None and outcome.supplier_id == supplier
    assert (outcome.late, outcome.delay_days, outcome.ended_on) == (True, 4.0, d(-1))
    assert await assessments(p, oid) == 1

    (other,) = ids(1)
    await p.process(on_track(other, supplier))
    (alert,) = await alerts(p, other)
    assert any(f"supplier {supplier}'s last orders" in t for t in alert["drivers"])


async def test_time_passing_without_events_rescores_open_orders(worker) -> None:  # type: ignore[no-untyped-def]
    rt, p = worker
    (oid,) = ids(1)
    await p.process(on_track(oid))
    clock["today"] = d(27)
    assert await rescore_open_orders(rt) >= 1
    assert [a["risk_level"] for a in await alerts(p, oid)] == ["low", "high"]


async def test_a_promoted_model_is_picked_up_without_a_restart(
    worker, trained_models: Path
) -> None:  # type: ignore[no-untyped-def]
    rt, p = worker
    (before,) = ids(1)
    await p.process(on_track(before))
    assert (await alerts(p, before))[0]["model_version"] == "baseline"
    model_dir = rt.state.live.model_dir
    for version in ("v1", "v2"):
        shutil.copytree(trained_models / version, model_dir / version)
    promote(model_dir, "v2")
    assert await reload_model(rt) is True and await reload_model(rt) is False
    (after,) = ids(1)
    await p.process(on_track(after))
    (alert,) = await alerts(p, after)
    assert (alert["model_version"], alert["baseline"]) == ("v2", False)
    assert 0.0 <= alert["probability"] <= 1.0


async def test_a_models_alert_carries_the_interval_and_the_completion_range(worker) -> None:  # type: ignore[no-untyped-def]
    rt, p = worker
    assert not rt.state.live.is_baseline  # the model promoted by the test above
    (oid,) = ids(1)
    await p.process([created(oid), initialized(oid), stage("started", oid, 1, -24)])
    (alert,) = await alerts(p, oid)
    low, mid, high = alert["delay_p10_days"], alert["expected_delay_days"], alert["delay_p90_days"]
    assert 0.0 <= low <= mid <= high and alert["interval_level"] == 0.8
    earliest = date.fromisoformat(alert["projected_completion_earliest"])
    latest = date.fromisoformat(alert["projected_completion_latest"])
    assert earliest <= latest and latest >= d(25) + timedelta(days=round(high))
    async with p.sessions() as s:
        row = (
            await s.execute(select(RiskAssessmentRow).where(RiskAssessmentRow.order_id == oid))
        ).scalar_one()
        sample = await s.get(LiveSampleRow, (oid, DAY))
    assert (row.delay_p10_days, row.delay_p90_days) == (low, high)
    assert (row.completion_earliest, row.completion_latest) == (earliest, latest)
    assert sample is not None and sample.model_version == "v2"
    assert (
        sample.features["current_stage_start_slip"] == 6.0 and sample.p_late == alert["probability"]
    )


async def test_drift_and_the_live_history_read_the_services_own_tables(worker) -> None:  # type: ignore[no-untyped-def]
    rt, p = worker
    async with p.sessions() as s:
        live = await live_frame(s, DAY)
        history = await export_history(s)
    assert len(live) >= 1 and set(live["model_version"]) >= {"v2"}
    report = workflows.drift(rt.state.live.model_dir, "v2", live)
    assert report["verdict"] == "not enough live data"  # a handful of orders, not a population
    summary = summarise_orders(history)
    assert summary["labelled"].any() and (~summary["labelled"]).any()  # finished and open ones


def sample(kind: str, oid: str, event: str, day: int, **fields: Any) -> Record:
    data = {"order_id": oid, "order_number": f"PO-{oid[:6]}", "sample_id": f"{kind}-1",
            "kind": kind, "round": fields.pop("round", 1), **fields}  # fmt: skip
    return record(f"production.sample_{event}", oid, data, when=day)


async def test_the_pp_sample_loop_is_kept_with_the_order_and_named_as_a_driver(worker) -> None:  # type: ignore[no-untyped-def]
    _, p = worker
    (oid,) = ids(1)
    loop = [
        sample("pre_production", oid, "requested", -28, due_date=str(d(-22)), requested_at=at(-28)),
        sample("fit", oid, "requested", -28, due_date=str(d(-25)), requested_at=at(-28)),
        sample("pre_production", oid, "rejected", -18, reasons="shade", rejected_at=at(-18),
               next_due_date=str(d(-12))),
        sample("pre_production", oid, "requested", -18, round=2, due_date=str(d(-12)),
               requested_at=at(-18)),
    ]  # fmt: skip
    await p.process(on_track(oid) + loop)  # one batch: the sample events need no query of their own
    async with p.sessions() as s:
        row = await s.get(OrderFeaturesRow, oid)
        assert row is not None
        stored = row.state["pp_sample"]
    assert stored == {
        "requested": str(d(-28)),
        "due": str(d(-22)),
        "rejected": [str(d(-18))],
        "approved": None,
    }  # fmt: skip (the fit sample is not the gate's)
    (alert,) = await alerts(p, oid)
    assert "PP sample 22 days late, round 2" in alert["drivers"]
    await p.process([sample("pre_production", oid, "approved", -8, round=2, approved_at=at(-8),
                            gate_opened=True)])  # fmt: skip
    async with p.sessions() as s:
        row = await s.get(OrderFeaturesRow, oid)
        assert row is not None and row.state["pp_sample"]["approved"] == str(d(-8))
