"""How a plan is stored in ``supplier_orders.plan`` (JSON in a text column), written fast.

Every accepted progress report rewrites the plan, so the stored form is compact: the plan's
own fields as ``Plan.to_dict(stages=False)`` has them, then the stages as a table. Each row
holds the stage's template fields (fixed once the plan is made: each template is encoded once
and copied in as it is) and then its state, the column names given once::

    {"category": ..., "version": 7,
     "template_fields": ["number", "name", ...], "stage_fields": ["status", "percentage", ...],
     "stages": [[[1, "Order Confirmation", 2, false, ...], "completed", 100, ...], ...]}

orjson writes the rows straight from the stage dataclasses' attributes (dates as ISO strings,
enums as their values). ``decode_plan`` also reads the two earlier forms: every field of a
row in ``stage_fields`` (no ``template_fields``), and ``to_dict()`` (stages as objects). A
unit test holds all three to the same plan. Plans of the earlier forms were written before the
domain re-forecast only downstream of a change, so they are settled (``Plan.settle``) as read.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import fields
from datetime import date
from typing import Any

import orjson

from looptrace_production.calendar_cache import remembered
from looptrace_production.domain import Plan, Stage
from looptrace_production.domain.stage import TEMPLATE_NAMES, template_from_dict
from looptrace_production.templates import StageTemplate

STATE_FIELDS = tuple(f.name for f in fields(Stage) if f.name != "template")
_template = operator.attrgetter(*TEMPLATE_NAMES)
_state = operator.attrgetter(*STATE_FIELDS)
_MAX_TEMPLATES = 4096  # distinct stage templates remembered (a few per category)
assert TEMPLATE_NAMES[-1] == "depends_on"  # _shared_template reads it as the last field

# A stage's template is fixed once its plan is made, and plans of a category share their
# templates: each is encoded once (by identity; the template is kept so its id stays its own),
# and decoded rows of the same template share one instance.
_encoded: dict[int, tuple[StageTemplate, orjson.Fragment]] = {}
_decoded: dict[tuple[Any, ...], StageTemplate] = {}
_MAX_DAYS = 20_000  # distinct days remembered (about 55 years of them)
_days: dict[str, date] = {}


def encode_plan(plan: Plan) -> bytes:
    """The plan as stored, as JSON (UTF-8)."""
    data = plan.to_dict(stages=False, calendar=orjson.Fragment(plan.calendar.to_json()))
    data["template_fields"] = TEMPLATE_NAMES
    data["stage_fields"] = STATE_FIELDS
    data["stages"] = [[_encoded_template(s.template), *_state(s)] for s in plan.stages]
    return orjson.dumps(data)


def decode_plan(text: str | bytes) -> Plan:
    """A stored plan, in any of its three forms (JSON text, decoded by orjson)."""
    data: dict[str, Any] = orjson.loads(text)
    names = data.pop("stage_fields", None)
    template_names = data.pop("template_fields", None)
    if template_names is not None:
        template = _template_reader(template_names)
        stages = [
            Stage.from_state(template(row[0]), dict(zip(names, row[1:], strict=True)), _day)
            for row in data["stages"]
        ]
        plan = Plan.from_dict(data, stages)
    else:
        if names is not None:
            data["stages"] = [dict(zip(names, row, strict=True)) for row in data["stages"]]
        plan = Plan.from_dict(data)
        plan.settle()
    plan.calendar = remembered(plan.calendar)  # shared with every plan of these working days
    return plan


def _encoded_template(template: StageTemplate) -> orjson.Fragment:
    known = _encoded.get(id(template))
    if known is not None and known[0] is template:
        return known[1]
    if len(_encoded) >= _MAX_TEMPLATES:
        _encoded.clear()
    fragment = orjson.Fragment(orjson.dumps(_template(template)))
    _encoded[id(template)] = (template, fragment)
    return fragment


def _day(text: str | None) -> date | None:
    """The date ``text`` names, one object per day for every decoded plan (a cached plan's
    stages hold four or five dates each, mostly the same few hundred days)."""
    if not text:
        return None
    found = _days.get(text)
    if found is None:
        if len(_days) >= _MAX_DAYS:
            _days.clear()
        found = _days[text] = date.fromisoformat(text)
    return found


def _template_reader(names: list[str]) -> Callable[[list[Any]], StageTemplate]:
    """How to read a row's template fields stored under ``names``."""
    if tuple(names) != TEMPLATE_NAMES:  # another order of fields: read by name, not shared
        return lambda values: template_from_dict(dict(zip(names, values, strict=True)))
    return _shared_template


def _shared_template(values: list[Any]) -> StageTemplate:
    """The template of these fields (in ``TEMPLATE_NAMES`` order, ``depends_on`` last)."""
    key = (*values[:-1], *values[-1], len(values[-1]))
    template = _decoded.get(key)
    if template is None:
        if len(_decoded) >= _MAX_TEMPLATES:
            _decoded.clear()
        number, name, duration_days, optional, qc, milestone, shipping, depends_on = values
        template = _decoded[key] = StageTemplate(
            number, name, duration_days, optional, qc, milestone, shipping, tuple(depends_on)
        )
    return template
