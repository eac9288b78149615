"""The event envelope every LoopTrace message travels in (CloudEvents-like)."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Envelope(BaseModel):
    """One message on any LoopTrace topic.

    ``subject`` is the order id and also the Kafka key, so one order's events stay
    in order. ``data`` is validated against the pydantic model registered for
    ``type`` (see :mod:`looptrace_shared.events`).
    """

    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str = Field(min_length=1)
    source: str = Field(min_length=1)
    time: datetime = Field(default_factory=utcnow)
    subject: str = Field(min_length=1, description="order id; also the Kafka message key")
    schema_version: str = SCHEMA_VERSION
    correlation_id: str | None = None
    causation_id: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    def key(self) -> bytes:
        return self.subject.encode()

    @property
    def id_text(self) -> str:
        """``str(self.id)``, formatted once (a consumer asks for it several times)."""
        text: str | None = self.__dict__.get("_id_text")
        if text is None:  # kept beside the fields: pydantic compares and dumps fields only
            text = self.__dict__["_id_text"] = str(self.id)
        return text

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


def new_envelope(
    type_: str,
    source: str,
    subject: str,
    data: BaseModel | dict[str, Any],
    cause: Envelope | None = None,
    correlation_id: str | None = None,
) -> Envelope:
    """Build an envelope; when it is caused by another, inherit its correlation id."""
    payload = data.model_dump(mode="json") if isinstance(data, BaseModel) else data
    inherited, causation = cause_ids(cause)
    return Envelope(
        type=type_,
        source=source,
        subject=subject,
        data=payload,
        correlation_id=correlation_id or inherited or None,
        causation_id=causation,
    )


# ---- the hot path: envelopes of data the service built from values it has checked -----------


@dataclass(slots=True)  # a value, but not frozen: one per event, and frozen ones build slowly
class Encoded:
    """An envelope already serialized to its wire JSON (see ``encode_envelope``)."""

    type: str
    subject: str
    correlation_id: str | None
    value: bytes
    id_text: str = ""  # the envelope's id, as ``Envelope.id_text``

    def key(self) -> bytes:
        return self.subject.encode()


Emitted = Envelope | Encoded  # what ``Context.emit`` hands back: the envelope, or its JSON


def cause_ids(cause: Envelope | None) -> tuple[str | None, str | None]:
    """(correlation id, causation id) of what ``cause`` causes, as ``new_envelope`` sets them."""
    if cause is None:
        return None, None
    causation = cause.id_text
    return cause.correlation_id or causation, causation


def new_event_id() -> str:
    """A random (version 4) UUID as text, like ``str(uuid.uuid4())`` in a fifth of the time:
    the random bytes come from ``os.urandom`` 256 ids at a time (not one system call each)."""
    global _pool, _used
    if _used >= len(_pool):
        _pool, _used = os.urandom(16 * 256).hex(), 0
    h, _used = _pool[_used : _used + 32], _used + 32
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}
_pool, _used = "", 0


def _forget_pool() -> None:  # a forked child must not hand out its parent's next ids
    global _pool, _used
    _pool, _used = "", 0


os.register_at_fork(after_in_child=_forget_pool)


def encode_envelope(
    type_: str,
    source: str,
    subject: str,
    data: dict[str, Any],
    ids: tuple[str | None, str | None] = (None, None),
) -> Encoded:
    """The JSON ``new_envelope(...).to_bytes()`` gives, without building pydantic models.

    For payloads a service assembled itself from checked values (a unit test per service
    holds them to their contracts). ``ids``: ``cause_ids(cause)``, worked out once per cause.
    """
    correlation, causation = ids
    event_id = new_event_id()
    envelope = {
        "id": event_id,
        "type": type_,
        "source": source,
        "time": utcnow(),
        "subject": subject,
        "schema_version": SCHEMA_VERSION,
        "correlation_id": correlation,
        "causation_id": causation,
        "data": data,
    }
    value = orjson.dumps(envelope, option=orjson.OPT_UTC_Z)
    return Encoded(type_, subject, correlation, value, event_id)
