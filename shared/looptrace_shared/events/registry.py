"""Registry of event types → (topic, payload model)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict


class Payload(BaseModel):
    """Base of every event payload: unknown fields are ignored (additive evolution).

    ``EVENT_TYPE`` and ``TOPIC`` are set by ``@event``: a payload names its own wire type."""

    model_config = ConfigDict(extra="ignore")
    EVENT_TYPE: ClassVar[str]
    TOPIC: ClassVar[str]


PayloadModel = type[BaseModel]
M = TypeVar("M", bound=type[Payload])


@dataclass(frozen=True)
class EventSpec:
    type: str
    topic: str
    model: PayloadModel
    version: int = 1  # of its schema (schemas/<type>.v<version>.json); a breaking change adds one


EVENT_TYPES: dict[str, EventSpec] = {}


class UnknownEventType(ValueError):
    def __init__(self, type_: str) -> None:
        known = ", ".join(sorted(EVENT_TYPES))
        super().__init__(f"unknown event type {type_!r}; known types: {known}")


def event(type_: str, topic: str, version: int = 1) -> Callable[[M], M]:
    """Class decorator: register a payload model for ``type_`` on ``topic``.

    ``version`` is the schema's major version: raise it (with a new topic version) only for a
    change that would break what was built on the old one (see schemas/README.md)."""

    def register(model: M) -> M:
        if type_ in EVENT_TYPES:
            raise ValueError(f"event type {type_!r} registered twice")
        EVENT_TYPES[type_] = EventSpec(type_, topic, model, version)
        model.EVENT_TYPE = type_
        model.TOPIC = topic
        return model

    return register


def event_spec(type_: str) -> EventSpec:
    try:
        return EVENT_TYPES[type_]
    except KeyError:
        raise UnknownEventType(type_) from None
