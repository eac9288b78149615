"""An example payload for every event type, built from its pydantic model.

A field's own ``examples`` win; else a value is chosen by the field's name, then by its type.
Every example is validated by the model it illustrates (``example_data`` raises if not), so an
example can never drift from the contract.
"""

from __future__ import annotations

import types
import typing
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

ORDER_ID = "o-1001"

BY_NAME: dict[str, Any] = {
    "order_id": ORDER_ID,
    "order_number": "PO-1001",
    "quote_id": "q-1001",
    "inspection_id": "insp-1001",
    "reinspection_of": "insp-1000",
    "supplier_id": "sup-7",
    "buyer_id": "b-1",
    "recipient_id": "b-1",
    "author_id": "sup-7",
    "id": "b-1",
    "name": "Ada Buyer",
    "email": "ada@buyer.example",
    "recipient_email": "ada@buyer.example",
    "company": "Ada Apparel",
    "currency": "EUR",
    "product_type": "sweater",
    "product_category": "knitwear",
    "stage": 2,
    "stage_number": 2,
    "stage_name": "Knitting",
    "quantity": 500,
    "lot_size": 500,
    "sample_size": 50,
    "sample_inspected": 50,
    "percentage": 40,
    "previous_percentage": 20,
    "probability": 0.41,
    "expected_delay_days": 3.5,
    "risk_level": "medium",
    "previous_risk_level": "low",
    "severity": "normal",
    "from_severity": "normal",
    "to_severity": "tightened",
    "defect_class": "major",
    "aql": "2.5",
    "code_letter": "H",
    "accept": 3,
    "reject": 4,
    "carrier": "DHL",
    "tracking_number": "JD0146000012345",
    "inspector": "QC Ltd",
    "status": "in_production",
    "workflow_status": "placed",
    "to_status": "in_production",
    "from_status": "assigned_to_supplier",
    "production_status": "in_progress",
    "model_version": "baseline",
    "role": "buyer",
    "author_role": "supplier",
    "notification_type": "order_shipped",
    "category": "order_updates",
    "source_event_id": "5b0e6c1e-58c4-4c38-9b8e-3f0f1f2d8a10",
    "notification_id": "n-1",
    "message_id": "m-1",
    "attempts": 3,
    "days_late": 2,
    "slip_days": 2,
    "round": 1,
    "buyer": {"id": "b-1", "name": "Ada Buyer", "email": "ada@buyer.example"},
    "supplier": {"id": "sup-7", "name": "Knit Co", "email": "orders@knit.example"},
    "subject": "Order PO-1001 has shipped",
    "reason": "customer request",
    "summary": "2 major defects: within AQL 2.5",
    "text": "The yarn arrives on Monday",
    "notes": "line 3",
    "error": "550 mailbox unavailable",
    "drivers": ["stage 2 is 3 days behind its plan"],
    "recommended_actions": ["ask the supplier for a recovery plan"],
    "defects": [{"defect_class": "major", "defect_type": "broken_stitch", "count": 2}],
}

BY_TYPE: dict[Any, Any] = {
    str: "text",
    int: 1,
    float: 1.5,
    bool: False,
    Decimal: "12.50",
    datetime: "2026-11-21T09:00:00Z",  # before date: a datetime is a date
    date: "2027-02-01",
}


def example_data(model: type[BaseModel]) -> dict[str, Any]:
    """A valid payload of ``model`` in its JSON form (required fields and those with examples)."""
    raw = _model_value(model)
    return model.model_validate(raw).model_dump(mode="json", exclude_none=True)


def _model_value(model: type[BaseModel]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if info.is_required() or info.examples or name in BY_NAME:
            out[name] = _field_value(name, info)
    return out


def _field_value(name: str, info: FieldInfo) -> Any:
    if info.examples:
        return info.examples[0]
    annotation = info.annotation
    if name in BY_NAME:
        return BY_NAME[name]
    return _type_value(annotation)


def _type_value(annotation: Any) -> Any:
    annotation = _first(annotation)
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, set, frozenset):
        (item, *_) = typing.get_args(annotation) or (str,)
        return [_type_value(item)]
    if origin is dict:
        return {"major": 2}
    if _is_model(annotation):
        return _model_value(annotation)
    if typing.get_origin(annotation) is typing.Literal:
        return typing.get_args(annotation)[0]
    for kind, value in BY_TYPE.items():
        if isinstance(annotation, type) and issubclass(annotation, kind):
            return value
    return "text" if annotation is None or "Email" not in str(annotation) else "x@example.com"


def _first(annotation: Any) -> Any:
    """The first non-None member of a union (``X | None`` → ``X``), else ``annotation``."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        return members[0] if members else None
    if typing.get_origin(annotation) is typing.Annotated:
        return _first(typing.get_args(annotation)[0])
    return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)
