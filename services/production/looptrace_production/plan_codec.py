"""How a plan is stored in ``supplier_orders.plan`` (JSON in a text column), written fast.

Every accepted progress report rewrites the plan, so the stored form is compact: the plan's
own fields as ``Plan.to_dict(stages=False)`` has them, then the stages as a table. Each row
holds the stage's template fields (fixed once the plan is made: encoded once per plan in
memory and copied in as they are) and then its state, the column names given once::

    {"category": ..., "version": 7,
     "template_fields": ["number", "name", ...], "stage_fields": ["status", "percentage", ...],
     "stages": [[[1, "Order Confirmation", 2, false, ...], "completed", 100, ...], ...]}

orjson writes the rows straight from the stage dataclasses' attributes (dates as ISO strings,
enums as their values). ``decode_plan`` also reads the two earlier forms: every field of a
row in ``stage_fields`` (no ``template_fields``), and ``to_dict()`` (stages as objects). A
unit test holds all three to the same plan.
"""

from __future__ import annotations

import operator
from dataclasses import fields
from typing import Any

import orjson

from looptrace_production.domain import TEMPLATE_FIELDS, Plan, Stage

STAGE_FIELDS = tuple(f.name for f in fields(Stage))
STATE_FIELDS = tuple(name for name in STAGE_FIELDS if name not in TEMPLATE_FIELDS)
_template = operator.attrgetter(*TEMPLATE_FIELDS)
_state = operator.attrgetter(*STATE_FIELDS)


def encode_plan(plan: Plan) -> bytes:
    """The plan as stored, as JSON (UTF-8)."""
    templates = plan.stored_templates
    if templates is None:
        templates = [orjson.Fragment(orjson.dumps(_template(s))) for s in plan.stages]
        plan.stored_templates = templates
    data = plan.to_dict(stages=False, calendar=orjson.Fragment(plan.calendar.to_json()))
    data["template_fields"] = TEMPLATE_FIELDS
    data["stage_fields"] = STATE_FIELDS
    data["stages"] = [[t, *_state(s)] for t, s in zip(templates, plan.stages, strict=True)]
    return orjson.dumps(data)


def decode_plan(text: str | bytes) -> Plan:
    """A stored plan, in any of its three forms (JSON text, decoded by orjson)."""
    data: dict[str, Any] = orjson.loads(text)
    names = data.pop("stage_fields", None)
    template_names = data.pop("template_fields", None)
    if template_names is not None:
        data["stages"] = [
            dict(zip(template_names, row[0], strict=True), **dict(zip(names, row[1:], strict=True)))
            for row in data["stages"]
        ]
    elif names is not None:
        data["stages"] = [dict(zip(names, row, strict=True)) for row in data["stages"]]
    return Plan.from_dict(data)
