"""How a plan is stored in ``supplier_orders.plan`` (json): ``Plan.to_dict()``, written fast.

The stored JSON is exactly ``to_dict()`` (SQL reads it too, e.g. ``plan->'stages'``), but the
stages are encoded by orjson straight from their dataclasses: dates and datetimes as ISO
strings, enums as their values, tuples as lists, as ``Stage.to_dict()`` has them, several
times faster. A unit test holds the two to the same JSON.
"""

from __future__ import annotations

import orjson

from looptrace_production.domain import Plan


def encode_plan(plan: Plan) -> str:
    """The plan as stored, as JSON text."""
    data = plan.to_dict(stages=False)
    data["stages"] = plan.stages  # dataclasses: orjson encodes their fields by name
    return orjson.dumps(data).decode()


def decode_plan(text: str | bytes) -> Plan:
    """A stored plan (JSON text, decoded by orjson rather than the json module)."""
    return Plan.from_dict(orjson.loads(text))
