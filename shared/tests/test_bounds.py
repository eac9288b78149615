"""The bounds of every wire contract and request model (hypothesis): whatever a field gets,
validation either accepts a value the database column can hold or refuses it naming the field;
it never raises anything else."""

from __future__ import annotations

import string
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from looptrace_shared.auth import Principal, Unauthenticated
from looptrace_shared.events import EVENT_TYPES
from looptrace_shared.events.bounds import ID_MAX, QUANTITY_MAX, check_id
from looptrace_shared.events.orders import OrderPlaced, QuoteRequested
from looptrace_shared.events.production import ProgressReported
from looptrace_shared.events.quality import InspectionResultSubmitted
from looptrace_shared.settings import DEV_JWT_SECRET, ServiceSettings

GOOD_ORDER: dict[str, Any] = {
    "order_id": "o-1", "order_number": "PO-1", "buyer": {"id": "b-1", "name": "Ada"},
    "product_type": "tee", "product_category": "knitwear", "quantity": 10,
    "currency": "EUR", "unit_price": "3.50", "target_date": "2027-01-01",
}  # fmt: skip
INBOUND = [OrderPlaced, QuoteRequested, ProgressReported, InspectionResultSubmitted]
anything = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=300),
    st.decimals(allow_nan=True), st.lists(st.integers(), max_size=3),
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(field=st.sampled_from(sorted(GOOD_ORDER)), value=anything)
def test_any_value_in_any_order_field_is_accepted_in_bounds_or_refused_by_name(
    field: str, value: Any
) -> None:
    try:
        order = OrderPlaced.model_validate({**GOOD_ORDER, field: value})
    except ValidationError as err:
        assert any(e["loc"][0] == field for e in err.errors()), err
        return
    for name in ("order_id", "order_number"):
        check_id(getattr(order, name))
    assert 0 < order.quantity <= QUANTITY_MAX
    assert order.unit_price < Decimal(10**10) and order.unit_price.as_tuple().exponent >= -4


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=80))
def test_ids_are_one_safe_pattern(value: str) -> None:
    try:
        check_id(value)
    except ValueError:
        return
    assert 1 <= len(value) <= ID_MAX and "/" not in value and value[0].isalnum()
    assert set(value) <= set(string.ascii_letters + string.digits + "._@+-")


@settings(max_examples=100, deadline=None)
@given(text=st.text(alphabet=st.characters(max_codepoint=0x9F), min_size=1, max_size=20))
def test_control_characters_are_refused_in_text_fields(text: str) -> None:
    body = {"order_id": "o-1", "stage": 1, "percentage": 5, "reported_at": "2026-11-01T00:00:00Z"}
    try:
        ProgressReported.model_validate({**body, "notes": text})
    except ValidationError as err:
        assert err.errors()[0]["loc"] == ("notes",) and "control character" in str(err)
        assert any(ord(c) < 32 and c not in "\t\n\r" or 0x7F <= ord(c) <= 0x9F for c in text)


@pytest.mark.parametrize("model", INBOUND)
def test_inbound_lists_are_capped(model: Any) -> None:
    schema = model.model_json_schema()
    lists = {k: v for k, v in schema["properties"].items() if v.get("type") == "array"}
    assert all("maxItems" in v for v in lists.values()), lists


def test_every_string_of_every_event_is_bounded_or_an_internal_fact() -> None:
    """Inbound (outside) payloads bound every string; facts between services at least ids."""
    for spec in EVENT_TYPES.values():
        props = spec.model.model_json_schema()["properties"]
        if "order_id" in props and spec.model in INBOUND:
            assert "pattern" in str(props["order_id"]), spec.type


@pytest.mark.parametrize("subject", ["", " ", "\t", "a b", "a/b", "x" * 321])
def test_a_principal_never_has_an_empty_or_odd_subject(subject: str) -> None:
    with pytest.raises(Unauthenticated):
        Principal("buyer", subject)


def test_environment_is_an_enum_and_the_default_secret_is_only_for_dev_and_test() -> None:
    with pytest.raises(ValidationError):
        ServiceSettings(environment="staging")
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        ServiceSettings(environment="prod", jwt_secret=DEV_JWT_SECRET)
    assert ServiceSettings(environment="test").jwt_secret == DEV_JWT_SECRET
    assert ServiceSettings(environment="prod", jwt_secret="p" * 40).environment == "prod"
