"""Fast tests of the shared plumbing that needs no infrastructure."""

from __future__ import annotations

import json
import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import asyncpg
import pytest
from sqlalchemy import exc as sa_exc

from looptrace_shared.auth import Unauthenticated, decode_token, mint_token
from looptrace_shared.envelope import (
    Envelope,
    cause_ids,
    encode_envelope,
    new_envelope,
    new_event_id,
)
from looptrace_shared.errors import as_rule_violation, snake
from looptrace_shared.messaging.incoming import Incoming, Record, Unparseable, parse_record
from looptrace_shared.messaging.kafka import KeyHashCache
from looptrace_shared.messaging.transient import is_transient
from looptrace_shared.settings import DEV_JWT_SECRET, ServiceSettings
from looptrace_shared.testing import docker_available
from looptrace_shared.topics import ALL_TOPICS, all_topics_with_dlq, dlq

SECRET = "x" * 40


def test_token_round_trip_and_refusals() -> None:
    p = decode_token(SECRET, mint_token(SECRET, "supplier", "sup-9"))
    assert (p.role, p.subject) == ("supplier", "sup-9")
    with pytest.raises(Unauthenticated, match="expired"):
        decode_token(SECRET, mint_token(SECRET, "buyer", "b", hours=-1))
    with pytest.raises(Unauthenticated, match="not valid"):
        decode_token("y" * 40, mint_token(SECRET, "buyer", "b"))
    with pytest.raises(ValueError, match="unknown role 'king'"):
        mint_token(SECRET, "king", "k")


def test_prod_refuses_the_development_secret() -> None:
    with pytest.raises(ValueError, match="JWT_SECRET must be set"):
        ServiceSettings(environment="prod", jwt_secret=DEV_JWT_SECRET)
    assert ServiceSettings(environment="prod", jwt_secret=SECRET).jwt_secret == SECRET


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092")
    monkeypatch.setenv("KAFKA_IDEMPOTENCE", "true")
    s = ServiceSettings()
    assert s.kafka_bootstrap_servers == "k1:9092,k2:9092" and s.kafka_idempotence is True


def test_caused_envelope_inherits_correlation() -> None:
    first = new_envelope(
        "OrderCancelled", "t", "o-1", {"order_id": "o-1", "reason": "r"}, correlation_id="c-1"
    )
    second = new_envelope("order.status_changed", "t", "o-1", {}, cause=first)
    assert second.correlation_id == "c-1" and second.causation_id == str(first.id)
    orphan = new_envelope(
        "OrderCancelled", "t", "o-2", {}, cause=Envelope(type="x", source="s", subject="o-2")
    )
    assert orphan.correlation_id == orphan.causation_id


@pytest.mark.parametrize(
    ("value", "rule", "fragment"),
    [
        (b"{oops", "malformed_json", "malformed json"),
        (b'{"type": "OrderCancelled"}', "invalid_envelope", "source: Field required"),
        (
            Envelope(type="NoSuchThing", source="s", subject="o").to_bytes(),
            "unknown_event_type",
            "known types: DeliveryConfirmed",
        ),
        (
            Envelope(
                type="OrderCancelled", source="s", subject="o", data={"order_id": "o"}
            ).to_bytes(),
            "invalid_payload",
            "data.reason: Field required",
        ),
    ],
)
def test_parse_errors_say_what_to_fix(value: bytes, rule: str, fragment: str) -> None:
    out = parse_record(Record("t", 0, 0, None, value))
    assert isinstance(out, Unparseable)
    assert out.rule == rule and fragment in out.error


def test_parse_validates_the_payload_type() -> None:
    env = new_envelope(
        "OrderCancelled", "s", "o-1", {"order_id": "o-1", "reason": "buyer withdrew"}
    )
    out = parse_record(Record("t", 0, 0, b"o-1", env.to_bytes()))
    assert (
        isinstance(out, Incoming) and out.data.reason == "buyer withdrew" and out.subject == "o-1"
    )


def test_transient_classification() -> None:
    assert is_transient(ConnectionRefusedError())
    assert is_transient(asyncpg.exceptions.ConnectionDoesNotExistError())
    wrapped = sa_exc.DBAPIError("select 1", {}, ConnectionResetError(), connection_invalidated=True)
    assert is_transient(wrapped)
    integrity = sa_exc.IntegrityError("insert", {}, Exception("duplicate key"))
    assert not is_transient(integrity)
    assert not is_transient(ValueError("bad"))


def test_domain_errors_cross_the_boundary_with_their_name() -> None:
    class StageCannotGoBackwards(ValueError):
        pass

    refusal = as_rule_violation(StageCannotGoBackwards("40 < 60"), 409)
    assert (refusal.rule, refusal.status, str(refusal)) == (
        "stage_cannot_go_backwards",
        409,
        "40 < 60",
    )
    assert snake("InvalidTransition") == "invalid_transition"


def test_topics_and_dead_letter_names() -> None:
    assert dlq("orders.inbound.v1") == "orders.inbound.v1.dlq" == dlq("orders.inbound.v1.dlq")
    assert len(all_topics_with_dlq()) == 2 * len(ALL_TOPICS)


def test_docker_detection_answers_within_a_second() -> None:
    started = time.monotonic()
    docker_available()
    assert timedelta(seconds=time.monotonic() - started) < timedelta(seconds=1)


def test_encoded_envelopes_carry_what_new_envelope_gives() -> None:
    cause = new_envelope("t.caused", "x", "o-1", {}, correlation_id="corr-1")
    data = {
        "at": datetime(2026, 3, 2, 9, 30, 15, 250000, tzinfo=UTC),
        "local": datetime(2026, 3, 2, 9, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        "day": date(2026, 3, 2),
        "pct": 50.0,
        "none": None,
        "list": [1, "a"],
    }
    for c in (cause, None):
        old = json.loads(new_envelope("t.type", "src", "o-1", data, cause=c).to_bytes())
        encoded = encode_envelope("t.type", "src", "o-1", data, cause_ids(c))
        new = json.loads(encoded.value)
        assert new["time"].endswith("Z") and old["time"].endswith("Z")
        for varying in ("id", "time"):
            del old[varying], new[varying]
        assert new == old
        parsed = Envelope.model_validate_json(encoded.value)
        assert (encoded.type, encoded.key(), encoded.correlation_id) == (
            parsed.type,
            b"o-1",
            parsed.correlation_id,
        )
    assert cause_ids(cause) == ("corr-1", str(cause.id))


def test_event_ids_are_random_version_4_uuids() -> None:
    ids = [new_event_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_the_cached_partitioner_picks_the_default_partitioners_partition() -> None:
    from aiokafka.partitioner import DefaultPartitioner

    cached, default, rng = KeyHashCache(size=20), DefaultPartitioner(), random.Random(7)
    keys = [str(uuid.uuid4()).encode() for _ in range(60)] + [b"PO-1", b""]
    for _ in range(3000):  # keys repeat, the cache overflows and restarts, counts vary
        key, n = rng.choice(keys), rng.choice([1, 3, 6, 12])
        partitions = list(range(n))
        assert cached(key, partitions, partitions) == default(key, partitions, partitions)


def _progress(**data: object) -> bytes:
    payload = {
        "order_id": "o-1",
        "stage": 2,
        "percentage": 40,
        "reported_at": "2026-01-05T10:00:00Z",
    }
    return new_envelope("ProgressReported", "supplier-x", "o-1", {**payload, **data}).to_bytes()


def test_a_single_type_topic_is_parsed_in_one_pass_with_the_same_result() -> None:
    from looptrace_shared.messaging import incoming

    value = _progress(notes="n", photo_urls=["https://x.example/p.jpg"])
    fast = parse_record(Record("production.progress.v1", 0, 1, b"o-1", value))
    slow = incoming.parse_in_two(Record("elsewhere.v1", 0, 1, b"o-1", value))  # the general path
    assert isinstance(fast, Incoming) and isinstance(slow, Incoming)
    assert type(fast.envelope) is not Envelope  # the one-pass model was used
    assert type(slow.envelope) is Envelope
    assert fast.data == slow.data and type(fast.data) is type(slow.data)
    assert fast.envelope.model_dump(exclude={"data"}) == slow.envelope.model_dump(exclude={"data"})
    assert (fast.type, fast.subject, fast.event_id) == (slow.type, slow.subject, slow.event_id)
    assert incoming._typed_envelope("production.events.v1") is None  # several types there


@pytest.mark.parametrize(
    "value, rule",
    [
        (_progress(percentage="lots"), "invalid_payload"),
        (b"{oops", "malformed_json"),
        (new_envelope("SomethingElse", "s", "o-1", {}).to_bytes(), "unknown_event_type"),
    ],
)
def test_a_record_the_one_pass_model_refuses_gets_the_general_reason(
    value: bytes, rule: str
) -> None:
    got = parse_record(Record("production.progress.v1", 0, 1, b"o-1", value))
    assert isinstance(got, Unparseable) and got.rule == rule


def test_another_registered_type_on_that_topic_is_not_taken_for_it() -> None:
    data = {  # valid as production.stage_progressed and as ProgressReported alike
        "order_id": "o-1",
        "order_number": "PO-1",
        "stage_number": 2,
        "stage_name": "Knitting",
        "stage": 2,
        "percentage": 40.0,
        "previous_percentage": 20.0,
        "reported_at": "2026-01-05T10:00:00Z",
    }
    value = new_envelope("production.stage_progressed", "s", "o-1", data).to_bytes()
    got = parse_record(Record("production.progress.v1", 0, 1, b"o-1", value))
    assert isinstance(got, Incoming) and got.type == "production.stage_progressed"
    assert type(got.data).__name__ == "StageProgressed"
