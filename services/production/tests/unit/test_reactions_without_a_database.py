"""Production's progress reaction on a preloaded plan, without PostgreSQL (a fake unit of
work): the events a report leads to, a resend recorded once, a refused report changing
nothing. (An order the batch did not preload is looked up: that part runs against the real
database and broker in tests/integration, as does the whole reaction.)"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from looptrace_production.calendar import WorkCalendar
from looptrace_production.config import ProductionSettings
from looptrace_production.domain import SupplierOrder
from looptrace_production.handlers import REACTIONS, UNBLOCKS
from looptrace_production.schedule import plan_stages, template_for
from looptrace_production.services import Planning, ProductionContext
from looptrace_production.templates import load_templates
from looptrace_shared.fake_uow import FakeUnitOfWork, incoming
from looptrace_shared.messaging.dispatch import Dispatcher
from looptrace_shared.messaging.incoming import Incoming
from looptrace_shared.topics import PRODUCTION_PROGRESS

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
TEMPLATES = load_templates()


def context() -> tuple[ProductionContext, FakeUnitOfWork]:
    planning = Planning(ProductionSettings(), TEMPLATES, now=lambda: AT + timedelta(days=1))
    uow = FakeUnitOfWork()
    ctx = ProductionContext(uow, planning)
    plan = plan_stages(
        template_for(TEMPLATES, "knitwear"), date(2026, 6, 1), AT.date(), WorkCalendar()
    )
    facts = ("PO-1", "s", "S", "b", "knitwear", 10, date(2026, 6, 1), True)
    ctx.keep(SupplierOrder("o-1", *facts, plan=plan, version=1))
    return ctx, uow


def report(stage: int, percentage: float, message_id: str, order_id: str = "o-1") -> Incoming:
    data = {"order_id": order_id, "stage": stage, "percentage": percentage,
            "reported_at": AT.isoformat(), "message_id": message_id}  # fmt: skip
    return incoming("ProgressReported", order_id, data, topic=PRODUCTION_PROGRESS)


@settings(max_examples=25, deadline=None)
@given(percentage=st.integers(1, 100))
async def test_a_first_report_starts_the_first_stage_and_a_resend_is_recorded_once(
    percentage: int,
) -> None:
    ctx, uow = context()
    first = report(1, percentage, "m-1")
    outcomes = await Dispatcher(REACTIONS, UNBLOCKS).run(ctx, [first, report(1, percentage, "m-1")])
    assert outcomes.processed == 2 and not outcomes.rejected
    types = uow.types()
    assert types[:2] == ["production.stage_started", "production.stage_progressed"]
    assert ("production.stage_completed" in types) == (percentage == 100)
    assert len(ctx.log_rows) == 1  # the resend changed nothing
    assert {e["causation_id"] for e in uow.events} == {first.envelope.id_text}
    assert ctx.orders["o-1"].plan.stage(1).percentage == percentage


async def test_a_refused_report_changes_nothing_and_the_next_one_of_the_batch_applies() -> None:
    ctx, uow = context()
    early, started = report(3, 50, "m-1"), report(1, 10, "m-2")
    outcomes = await Dispatcher(REACTIONS, UNBLOCKS).run(ctx, [early, started])
    assert [(i, v.rule) for i, v in outcomes.rejected] == [(early, "prerequisite_stage_not_done")]
    assert outcomes.processed == 1 and len(ctx.log_rows) == 1
    assert uow.types()[0] == "production.stage_started"
    assert ctx.orders["o-1"].plan.stage(3).percentage == 0
