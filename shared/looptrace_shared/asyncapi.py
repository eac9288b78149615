"""The AsyncAPI 3.0 document of the whole system, built from the event registry and the
services' own consumer groups and publishers.

Every topic is a channel carrying one message per event type: the envelope with that type's
``data`` schema (the same pydantic models the services validate with) and ``type`` as a
constant, keyed by the order id, with an example. Every ``<topic>.dlq`` is a channel too, with
its headers. Operations say which service sends and receives what. It is committed as
``asyncapi.json``; a contract test fails when it is out of date (regenerate with
``looptrace asyncapi --out asyncapi.json``).
"""

from __future__ import annotations

import importlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from looptrace_shared.contracts.examples import ORDER_ID, example_data
from looptrace_shared.contracts.schemas import envelope_schema, payload_schemas
from looptrace_shared.events import EVENT_TYPES, EventSpec
from looptrace_shared.topics import ALL_TOPICS, dlq

REF = "#/components/schemas/{model}"
KAFKA_BINDING = "0.5.0"

OUTSIDE_PUBLISHERS = {
    "orders.inbound.v1": "upstream systems (ERP, e-commerce, quoting tools)",
    "production.progress.v1": "supplier integrations (factory MES, bridges, mobile apps)",
    "production.suppliers.v1": "supplier master data (ERP, supplier portal)",
    "quality.inbound.v1": "inspectors and third-party QC companies",
}
OUTSIDE_CONSUMERS = {
    "notifications.outbound.v1": "notification consumers (mailers, chat bots, CRMs)",
}
EXAMPLE_SOURCE = {
    "orders.inbound.v1": "erp",
    "production.progress.v1": "supplier-mes",
    "production.suppliers.v1": "erp",
    "quality.inbound.v1": "qc-company",
}

DEAD_LETTER_HEADERS: dict[str, str] = {
    "error": "why the record was refused (what to fix)",
    "rule": "the named rule that refused it (malformed_json, invalid_payload, "
    "unknown_event_type, parking_timeout, processing_error, or a domain rule)",
    "original_topic": "the topic it was consumed from",
    "original_partition": "its partition there",
    "original_offset": "its offset there",
    "consumer_group": "the consumer group that refused it",
    "attempts": "how many times it was tried",
}


@dataclass
class Wiring:
    """Who publishes and who consumes each topic (service names, consumer groups)."""

    publishers: dict[str, list[str]] = field(default_factory=dict)
    consumers: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def wiring() -> Wiring:
    """Read from the services themselves: each app's publishers and consumer groups."""
    from looptrace_shared.ports import SERVICES

    w = Wiring()
    for name in SERVICES:
        app = importlib.import_module(f"looptrace_{name}.app").create_app()
        for publisher in app.state.broker.publishers:
            w.publishers.setdefault(publisher.topic, []).append(name)
        for processor in app.state.runtime.processors:
            for topic in processor.group.topics:
                w.consumers.setdefault(topic, []).append((name, processor.group.name))
    return w


def document(w: Wiring | None = None) -> dict[str, Any]:
    w = w or wiring()
    refs, defs = payload_schemas(REF)
    messages = {t: _message(spec, refs[t], w) for t, spec in EVENT_TYPES.items()}
    channels: dict[str, Any] = {}
    for topic in ALL_TOPICS:
        channels[topic] = _channel(topic, w)
        channels[dlq(topic)] = _dlq_channel(topic, w)
        messages[_dlq_message_id(topic)] = _dlq_message(topic)
    return {
        "asyncapi": "3.0.0",
        "id": "urn:looptrace",
        "info": _info(),
        "defaultContentType": "application/json",
        "servers": _servers(),
        "channels": channels,
        "operations": _operations(w),
        "components": {"schemas": dict(sorted(defs.items())), "messages": messages},
    }


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=True) + "\n"


# ---- parts -------------------------------------------------------------------------------


def _info() -> dict[str, Any]:
    return {
        "title": "LoopTrace",
        "version": "1.0.0",
        "description": "Apparel production tracking: orders, production stages, quality "
        "inspections, delay risk and notifications, as Kafka topics. Every record is one JSON "
        "envelope keyed by its order id; `type` names its payload (`data`). Payload changes "
        "within a topic version are additive only; per-type JSON Schemas are in `schemas/`.",
        "license": {"name": "Proprietary"},
    }


def _servers() -> dict[str, Any]:
    return {
        "embedded": {
            "host": "127.0.0.1:9092",
            "protocol": "kafka",
            "description": "the embedded default of `python3 dev.py up`: tansu, a "
            "Kafka-protocol broker with memory storage (no idempotent producers)",
        },
        "kafka": {
            "host": "kafka:9092",
            "protocol": "kafka",
            "protocolVersion": "3.9",
            "description": "Apache Kafka (KRaft), as in docker-compose.yml; in production the "
            "brokers of KAFKA_BOOTSTRAP_SERVERS (idempotent producers: KAFKA_IDEMPOTENCE=true)",
        },
    }


def _types_on(topic: str) -> list[EventSpec]:
    return [s for s in EVENT_TYPES.values() if s.topic == topic]


def _who(topic: str, w: Wiring) -> tuple[list[str], list[str]]:
    pubs = w.publishers.get(topic) or [OUTSIDE_PUBLISHERS.get(topic, "nobody")]
    subs = [f"{svc} (group {g})" for svc, g in w.consumers.get(topic, [])]
    if topic in OUTSIDE_CONSUMERS:
        subs.append(OUTSIDE_CONSUMERS[topic])
    return pubs, subs


def _channel(topic: str, w: Wiring) -> dict[str, Any]:
    pubs, subs = _who(topic, w)
    return {
        "address": topic,
        "title": topic,
        "description": f"Published by {', '.join(pubs)}; consumed by {', '.join(subs) or 'nobody yet'}. "
        f"Key: the order id. Refused records go to `{dlq(topic)}`.",
        "messages": {s.type: {"$ref": f"#/components/messages/{s.type}"} for s in _types_on(topic)},
        "bindings": {"kafka": {"topic": topic, "bindingVersion": KAFKA_BINDING}},
        "x-publishers": pubs,
        "x-consumers": subs,
    }


def _dlq_channel(topic: str, w: Wiring) -> dict[str, Any]:
    groups = [g for _, g in w.consumers.get(topic, [])]
    return {
        "address": dlq(topic),
        "title": dlq(topic),
        "description": f"Dead letters of `{topic}`: each record a consumer group refused, "
        "with its key and value unchanged and the reason in headers. "
        f"Replay: `looptrace dlq replay {dlq(topic)}`.",
        "messages": {"DeadLetter": {"$ref": f"#/components/messages/{_dlq_message_id(topic)}"}},
        "bindings": {"kafka": {"topic": dlq(topic), "bindingVersion": KAFKA_BINDING}},
        "x-publishers": groups,
    }


def _key_binding() -> dict[str, Any]:
    key = {"type": "string", "description": "the order id (= the envelope's subject)"}
    return {"kafka": {"key": key, "bindingVersion": KAFKA_BINDING}}


def _message(spec: EventSpec, data_ref: dict[str, Any], w: Wiring) -> dict[str, Any]:
    by_service = spec.topic in w.publishers
    headers = _event_headers(spec, by_service)
    example = _example(spec, by_service)
    doc = (spec.model.__doc__ or "").strip()
    return {
        "name": spec.type,
        "title": spec.type,
        "summary": doc.splitlines()[0] if doc else f"{spec.type} on {spec.topic}",
        "contentType": "application/json",
        "headers": headers,
        "payload": envelope_schema(spec, data_ref["$ref"]),
        "correlationId": {"location": "$message.payload#/correlation_id"},
        "bindings": _key_binding(),
        "examples": [example],
        "x-schema-file": f"schemas/{spec.type}.v{spec.version}.json",
    }


def _event_headers(spec: EventSpec, by_service: bool) -> dict[str, Any]:
    props: dict[str, Any] = {
        "type": {"const": spec.type, "type": "string", "description": "the envelope's type"},
        "correlation_id": {"type": "string", "description": "the envelope's correlation id"},
        "replayed_from": {"type": "string", "description": "set on a replayed dead letter"},
        "replayed_offset": {"type": "string", "description": "its offset in the dead letters"},
    }
    note = "set by the publishing service" if by_service else "optional for outside publishers"
    schema: dict[str, Any] = {"type": "object", "properties": props, "description": note}
    if by_service:
        schema["required"] = ["type", "correlation_id"]
    return schema


def _example(spec: EventSpec, by_service: bool) -> dict[str, Any]:
    envelope = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:looptrace:example:{spec.type}")),
        "type": spec.type,
        "source": spec.topic.split(".")[0] if by_service else EXAMPLE_SOURCE[spec.topic],
        "time": "2026-11-21T10:00:00Z",
        "subject": ORDER_ID,
        "schema_version": str(spec.version),
        "correlation_id": "c0ffee00-0000-4000-8000-000000000001",
        "causation_id": None,
        "data": example_data(spec.model),
    }
    example: dict[str, Any] = {"name": spec.type, "payload": envelope}
    if by_service:
        example["headers"] = {"type": spec.type, "correlation_id": envelope["correlation_id"]}
    return example


def _dlq_message_id(topic: str) -> str:
    return f"DeadLetter.{topic}"


def _dlq_message(topic: str) -> dict[str, Any]:
    props = {k: {"type": "string", "description": d} for k, d in DEAD_LETTER_HEADERS.items()}
    return {
        "name": "DeadLetter",
        "title": f"a refused record of {topic}",
        "contentType": "application/json",
        "headers": {"type": "object", "properties": props, "required": sorted(props)},
        "payload": {
            "description": f"the refused record's value, byte for byte: usually one of "
            f"`{topic}`'s envelopes, but it may not even be JSON (rule malformed_json)"
        },
        "bindings": _key_binding(),
        "examples": [
            {
                "name": "invalid_payload",
                "headers": {
                    "error": "invalid payload: data.quantity: Input should be greater than 0",
                    "rule": "invalid_payload",
                    "original_topic": topic,
                    "original_partition": "3",
                    "original_offset": "1207",
                    "consumer_group": topic.split(".")[0],
                    "attempts": "1",
                },
                "payload": {"id": "5b0e6c1e-58c4-4c38-9b8e-3f0f1f2d8a10", "subject": ORDER_ID},
            }
        ],
    }


def _operations(w: Wiring) -> dict[str, Any]:
    ops: dict[str, Any] = {}
    for topic in ALL_TOPICS:
        channel = {"$ref": f"#/channels/{topic}"}
        msgs = [{"$ref": f"#/channels/{topic}/messages/{s.type}"} for s in _types_on(topic)]
        for svc in w.publishers.get(topic, []):
            ops[f"{svc}.send.{topic}"] = {
                "action": "send",
                "channel": channel,
                "messages": msgs,
                "title": f"{svc} publishes {topic}",
                "description": "from its outbox, after the transaction that made the change",
            }
        for svc, group in w.consumers.get(topic, []):
            ops[f"{svc}.receive.{topic}"] = {
                "action": "receive",
                "channel": channel,
                "messages": msgs,
                "title": f"{svc} consumes {topic} (group {group})",
            }
            dead = {"$ref": f"#/channels/{dlq(topic)}"}
            ops[f"{svc}.send.{dlq(topic)}"] = {
                "action": "send",
                "channel": dead,
                "messages": [{"$ref": f"#/channels/{dlq(topic)}/messages/DeadLetter"}],
                "title": f"{svc} dead-letters what it refuses on {topic}",
            }
    return ops
