"""Routing a batch, in order, to one reaction per event type; collecting refusals and waits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar, runtime_checkable

from looptrace_shared.envelope import Envelope
from looptrace_shared.errors import RuleViolation, WaitingFor
from looptrace_shared.messaging.incoming import Incoming
from looptrace_shared.observability.logs import bind

Ctx = TypeVar("Ctx")
Reaction = Callable[[Ctx, Incoming], Awaitable[None]]


@dataclass
class Outcomes:
    processed: int = 0
    rejected: list[tuple[Incoming, RuleViolation]] = field(default_factory=list)
    waiting: list[tuple[Incoming, str]] = field(default_factory=list)

    def merge(self, other: Outcomes) -> None:
        self.processed += other.processed
        self.rejected += other.rejected
        self.waiting += other.waiting


@runtime_checkable
class CausedBy(Protocol):
    """A context whose events name the message that caused them (``causation_id``)."""

    cause: Envelope | None


class Dispatcher(Generic[Ctx]):
    """Applies each message's reaction in order. Types without a reaction are ignored.

    A reaction validates before it changes anything; it raises ``RuleViolation`` to refuse
    a message (dead letter) or ``WaitingFor`` to park it. Once one message of an order
    waits, the later ones of that order in the batch wait too, so order is preserved —
    except the types in ``unblocks``, which can make the order known (its creation) and
    so must not wait behind what waits for them. Before each reaction the context's
    ``cause`` is set to the message's envelope (when the context has one).
    """

    def __init__(
        self, reactions: Mapping[str, Reaction[Ctx]], unblocks: frozenset[str] = frozenset()
    ) -> None:
        self.reactions = dict(reactions)
        self.unblocks = unblocks

    @property
    def types(self) -> set[str]:
        return set(self.reactions)

    async def run(self, ctx: Ctx, items: list[Incoming]) -> Outcomes:
        out = Outcomes()
        blocked: set[str] = set()
        caused = isinstance(ctx, CausedBy)  # once a batch: the protocol check is not cheap
        for item in items:
            reaction = self.reactions.get(item.type)
            if reaction is None:
                continue
            if item.subject in blocked and item.type not in self.unblocks:
                out.waiting.append((item, f"an earlier message of order {item.subject} is waiting"))
                continue
            bind(item.subject, item.envelope.correlation_id)  # every log line names the order
            if caused:
                ctx.cause = item.envelope  # type: ignore[attr-defined]
            try:
                await reaction(ctx, item)
                out.processed += 1
            except WaitingFor as wait:
                blocked.add(item.subject)
                out.waiting.append((item, wait.reason))
            except RuleViolation as refusal:
                out.rejected.append((item, refusal))
        return out
