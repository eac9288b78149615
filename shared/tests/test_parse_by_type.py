"""On a topic of several event types the record's ``"type"`` key picks the model to validate
envelope and payload with in one pass. It is only a guess: whatever the bytes hold first,
the result is the one the general path (envelope, then payload) gives."""

from __future__ import annotations

import orjson
import pytest

from looptrace_shared.envelope import Envelope, new_envelope
from looptrace_shared.events import orders as ev
from looptrace_shared.messaging.incoming import (
    Incoming,
    Record,
    Unparseable,
    parse_in_two,
    parse_record,
)

TOPIC = "orders.inbound.v1"  # OrderPlaced, SupplierAssigned, OrderCancelled, …


def parsed(value: bytes) -> Incoming | Unparseable:
    return parse_record(Record(TOPIC, 0, 0, b"o-1", value))


def envelope(type_: str, data: dict[str, object]) -> dict[str, object]:
    return orjson.loads(new_envelope(type_, "test", "o-1", data).to_bytes())  # type: ignore[no-any-return]


def test_a_message_of_a_shared_topic_gets_its_types_payload_as_the_general_path_does() -> None:
    value = orjson.dumps(envelope("OrderCancelled", {"order_id": "o-1", "reason": "late"}))
    out, general = parsed(value), parse_in_two(Record(TOPIC, 0, 0, b"o-1", value))
    assert isinstance(out, Incoming) and isinstance(general, Incoming)
    assert type(out.envelope) is not Envelope  # validated in one pass
    assert isinstance(out.data, ev.OrderCancelled) and out.data == general.data
    assert out.envelope.model_dump(exclude={"data"}) == general.envelope.model_dump(
        exclude={"data"}
    )
    assert (out.type, out.subject, out.event_id) == ("OrderCancelled", "o-1", general.event_id)


def test_a_type_key_inside_the_data_ahead_of_the_envelopes_misleads_nothing() -> None:
    env = envelope("OrderCancelled", {"order_id": "o-1", "reason": "late"})
    # the payload first, holding a "type" of another registered event (an extra key)
    data = {"type": "SupplierAssigned", "order_id": "o-1", "reason": "late"}
    value = orjson.dumps({"data": data, **{k: v for k, v in env.items() if k != "data"}})
    out = parsed(value)
    assert isinstance(out, Incoming) and isinstance(out.data, ev.OrderCancelled)


@pytest.mark.parametrize(
    ("data", "rule", "says"),
    [
        ({"order_id": "o-1"}, "invalid_payload", "data.reason"),
        ({"order_id": "o-1", "reason": 5}, "invalid_payload", "data.reason"),
    ],
)
def test_a_bad_payload_is_refused_with_the_general_paths_reason(
    data: dict[str, object], rule: str, says: str
) -> None:
    out = parsed(orjson.dumps(envelope("OrderCancelled", data)))
    assert isinstance(out, Unparseable) and out.rule == rule
    assert out.error.startswith("invalid OrderCancelled payload: ") and says in out.error


def test_an_unknown_type_is_refused_as_unknown() -> None:
    out = parsed(orjson.dumps(envelope("NoSuchThing", {"order_id": "o-1"})))
    assert isinstance(out, Unparseable) and out.rule == "unknown_event_type"
