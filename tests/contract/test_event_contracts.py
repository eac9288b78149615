"""The wire contracts: every event type is registered once, on a versioned topic, and
round-trips through the envelope."""

from __future__ import annotations

import re
from pathlib import Path

from looptrace_shared.envelope import Envelope
from looptrace_shared.events import EVENT_TYPES
from looptrace_shared.topics import ALL_TOPICS

ROOT = Path(__file__).resolve().parents[2]


def test_every_type_lives_on_a_known_versioned_topic() -> None:
    for spec in EVENT_TYPES.values():
        assert spec.topic in ALL_TOPICS
        assert re.fullmatch(r"[a-z]+\.[a-z]+\.v\d+", spec.topic)


def test_envelope_round_trip_keeps_the_key_and_type() -> None:
    env = Envelope(
        type="OrderCancelled", source="t", subject="o-1", data={"order_id": "o-1", "reason": "x"}
    )
    again = Envelope.model_validate_json(env.to_bytes())
    assert again == env and again.key() == b"o-1"
