"""The event envelope every LoopTrace message travels in (CloudEvents-like)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

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
    corr = correlation_id or (cause.correlation_id or str(cause.id) if cause else None)
    return Envelope(
        type=type_,
        source=source,
        subject=subject,
        data=payload,
        correlation_id=corr or None,
        causation_id=str(cause.id) if cause else None,
    )
