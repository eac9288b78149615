"""How a plan is stored in ``supplier_orders.plan`` (JSON in a text column), written fast.

Every accepted progress report rewrites the plan, so the stored form is compact: the plan's
own fields as ``Plan.to_dict(stages=False)`` has them, then the stages as a table, the column
names once in ``stage_fields`` and one row (a JSON array) per stage::

    {"category": ..., "version": 7, "stage_fields": ["number", "name", ...],
     "stages": [[1, "Order Confirmation", 2, false, ...], ...]}

orjson writes the rows straight from the stage dataclasses' attributes (dates as ISO strings,
enums as their values), so a plan is about half the size of ``to_dict()``'s JSON and quicker
to write, send and store. ``decode_plan`` also reads plans stored as ``to_dict()`` (stages as
objects), the form before this one. A unit test holds both to the same plan.
"""

from __future__ import annotations

import operator
from dataclasses import fields
from typing import Any

import orjson

from looptrace_production.domain import Plan, Stage

STAGE_FIELDS = tuple(f.name for f in fields(Stage))
_row = operator.attrgetter(*STAGE_FIELDS)


def encode_plan(plan: Plan) -> bytes:
    """The plan as stored, as JSON (UTF-8)."""
    data = plan.to_dict(stages=False)
    data["stage_fields"] = STAGE_FIELDS
    data["stages"] = [_row(stage) for stage in plan.stages]
    return orjson.dumps(data)


def decode_plan(text: str | bytes) -> Plan:
    """A stored plan, in either form (JSON text, decoded by orjson)."""
    data: dict[str, Any] = orjson.loads(text)
    names = data.pop("stage_fields", None)
    if names is not None:
        data["stages"] = [dict(zip(names, row, strict=True)) for row in data["stages"]]
    return Plan.from_dict(data)
