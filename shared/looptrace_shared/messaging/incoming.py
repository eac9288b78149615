"""Parsing consumed records into envelopes with validated payloads (or a precise reason why not)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError, create_model

from looptrace_shared.envelope import Envelope
from looptrace_shared.events import EVENT_TYPES, UnknownEventType, event_spec
from looptrace_shared.events.registry import EventSpec


@dataclass
class Record:
    """The coordinates and bytes of one consumed message (independent of the client library)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes


@dataclass
class Incoming:
    record: Record
    envelope: Envelope
    data: Any
    # copied from the envelope: read several times per message on the hot path
    type: str = field(init=False)
    subject: str = field(init=False)

    def __post_init__(self) -> None:
        self.type, self.subject = self.envelope.type, self.envelope.subject

    @property
    def event_id(self) -> str:
        return self.envelope.id_text


@dataclass
class Unparseable:
    record: Record
    error: str
    rule: str


def describe_validation(err: ValidationError, prefix: str = "") -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(p) for p in (prefix, *e["loc"]) if p != "")
        parts.append(f"{loc or 'message'}: {e['msg']}")
    return "; ".join(parts)


def parse_record(record: Record) -> Incoming | Unparseable:
    """The record's envelope and payload, each validated, or why not.

    Envelope and payload are validated in one pass where the type is known beforehand (an
    envelope model whose ``data`` is that type's model: one validation, not two): on a topic
    that carries one event type, or else by the first ``"type"`` key in the bytes (only a
    guess of which model to try: the parsed envelope must name that type). A record that
    fails it, or is of another type, takes the general path, which says why.
    """
    typed = _typed_envelope(record.topic) or _typed_by_guess(record.value)
    if typed is not None:
        try:
            envelope = typed[1].model_validate_json(record.value)
        except ValidationError:
            pass
        else:
            if envelope.type == typed[0]:
                return Incoming(record, envelope, envelope.data)
    return parse_in_two(record)


def parse_in_two(record: Record) -> Incoming | Unparseable:
    """The general path: the envelope, then its type's payload (each refusal says which)."""
    try:
        envelope = Envelope.model_validate_json(record.value)
    except ValidationError as err:
        kind = "malformed_json" if _is_json_error(err) else "invalid_envelope"
        return Unparseable(record, f"{kind.replace('_', ' ')}: {describe_validation(err)}", kind)
    try:
        model: type[BaseModel] = event_spec(envelope.type).model
    except UnknownEventType as err:
        return Unparseable(record, str(err), "unknown_event_type")
    try:
        data = model.model_validate(envelope.data)
    except ValidationError as err:
        detail = describe_validation(err, "data")
        return Unparseable(record, f"invalid {envelope.type} payload: {detail}", "invalid_payload")
    return Incoming(record, envelope, data)


_TYPED: dict[str, tuple[str, type[Envelope]] | None] = {}


def _typed_envelope(topic: str) -> tuple[str, type[Envelope]] | None:
    """(event type, envelope model with that type's payload) when ``topic`` carries one type."""
    if topic not in _TYPED:
        specs = [spec for spec in EVENT_TYPES.values() if spec.topic == topic]
        _TYPED[topic] = None
        if len(specs) == 1:
            _TYPED[topic] = (specs[0].type, _envelope_of(specs[0]))
    return _TYPED[topic]


_TYPE_KEY = re.compile(rb'"type"\s*:\s*"([^"\\]{1,200})"')
_BY_TYPE: dict[bytes, tuple[str, type[Envelope]]] = {}  # registered types only: bounded


def _typed_by_guess(value: bytes) -> tuple[str, type[Envelope]] | None:
    """The typed envelope of the type the record's first ``"type"`` key names, if known."""
    found = _TYPE_KEY.search(value)
    if found is None:
        return None
    name = found.group(1)
    typed = _BY_TYPE.get(name)
    if typed is None:
        spec = EVENT_TYPES.get(name.decode(errors="replace"))
        if spec is None:
            return None
        typed = _BY_TYPE[name] = (spec.type, _envelope_of(spec))
    return typed


def _envelope_of(spec: EventSpec) -> type[Envelope]:
    name = f"{spec.model.__name__}Envelope"
    return create_model(name, __base__=Envelope, data=(spec.model, ...))


def _is_json_error(err: ValidationError) -> bool:
    return any(e["type"] in ("json_invalid", "json_type") for e in err.errors())
