"""The hot path's envelopes carry exactly what the pydantic contracts and new_envelope give."""

import json
import uuid
from datetime import UTC, date, datetime, timedelta

from looptrace_production import events as de
from looptrace_production.calendar import WorkCalendar
from looptrace_production.domain import ProgressReport, SupplierOrder
from looptrace_production.outgoing import WIRE, wire_envelope
from looptrace_production.qc_gate import InspectionStatus
from looptrace_production.schedule import plan_stages, template_for
from looptrace_production.templates import load_templates
from looptrace_shared.envelope import Envelope, cause_ids, new_envelope
from looptrace_shared.events import event_spec

PASSED = InspectionStatus.PASSED
AT = datetime(2026, 3, 2, 9, 30, 15, 250000, tzinfo=UTC)


def order() -> SupplierOrder:
    template = template_for(load_templates(), "knitwear")
    plan = plan_stages(template, date(2026, 6, 1), AT.date(), WorkCalendar())
    facts = ("PO-1", "s", "S", "b", "knitwear", 10, date(2026, 6, 1), True)
    return SupplierOrder("o-1", *facts, plan=plan, version=1)


def every_event(o: SupplierOrder) -> list[de.DomainEvent]:
    """A whole production run: every hot event type, in real use."""
    events: list[de.DomainEvent] = [o.plan.initialized()]
    at = AT
    for stage in o.plan.active_stages:
        for pct in (25, 100):
            at += timedelta(days=9)
            report = ProgressReport(f"m{at}", stage.number, pct, at, notes="n")
            events += o.plan.apply_progress(report, at)
        if stage.qc:
            events += o.plan.record_inspection(f"i-{stage.number}", stage.number, PASSED, at)
    events.append(de.SupplierReassigned("s", "s-2", "Other", at))
    events += o.plan.mark_delayed(at + timedelta(days=400))
    return events + [de.PlanReforecast(AT.date(), AT.date(), 0, "x", AT.date())]


def exact(data: object) -> str:
    """JSON text that tells 0 from 0.0 and ignores key order."""
    return json.dumps(json.loads(json.dumps(data)), sort_keys=True)


def test_every_event_type_is_on_the_hot_path_or_goes_through_its_contract() -> None:
    """Each envelope is what new_envelope gives for its payload validated by its contract."""
    o = order()
    events = every_event(o)
    hot = {de.StageStarted, de.StageProgressed, de.StageCompleted, de.PlanReforecast}
    assert hot | {de.ProductionCompleted} <= {type(e) for e in events} <= set(WIRE)
    cause = new_envelope("ProgressReported", "t", "o-1", {"x": 1}, correlation_id="corr")
    for event in events:
        type_, build = WIRE[type(event)]
        payload = event_spec(type_).model.model_validate(build(o, event))
        before = new_envelope(type_, "production", o.order_id, payload, cause=cause)
        now = wire_envelope(o, event, "production", cause_ids(cause))
        old, new = json.loads(before.to_bytes()), json.loads(now.value)
        assert exact(new["data"]) == exact(old["data"]), type_
        for varying in ("id", "time"):
            del old[varying], new[varying]
        assert new == old
        parsed = Envelope.model_validate_json(now.value)
        assert parsed.type == now.type == type_ and parsed.correlation_id == "corr"
        assert parsed.model_dump(mode="json", exclude={"id", "time"}) == old


def test_without_a_cause_there_is_no_correlation() -> None:
    o = order()
    envelope = wire_envelope(o, o.plan.initialized(), "production")
    parsed = Envelope.model_validate_json(envelope.value)
    assert parsed.correlation_id is None and parsed.causation_id is None
    assert isinstance(parsed.id, uuid.UUID) and parsed.subject == "o-1"
