"""One consumer shape for every service: a table of reactions, one preload, one dispatcher.

A service declares a ``ConsumerGroup``: the topics it reads, a table from each consumed event
type to its reaction: ``calls(use_case)`` where the use case takes the event's data, else
``when_<fact>_<what it does>(ctx, item)`` (thin: it calls a use case with more of the message),
how a batch's context is made, ``preload(ctx, items)`` (everything the batch needs, loaded in
as few queries as possible; where an HTTP route takes a batch too, as production's
``POST /v1/progress`` does, it loads through the same use-case preload) and ``save`` (what the
batch changed, written once). The group builds its dispatcher and owns the unblocking rules:
``unblocks`` is given once and serves both the dispatcher (within a batch) and the batch
processor (across batches, against parked messages).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, Generic, Literal, TypeVar

from looptrace_shared.db import UnitOfWork
from looptrace_shared.envelope import Emitted, Envelope, new_envelope
from looptrace_shared.errors import RuleViolation, WaitingFor
from looptrace_shared.events.registry import Payload
from looptrace_shared.messaging.incoming import Incoming
from looptrace_shared.observability.logs import bind

HANDLED: Final = "handled"  # ``Context.emit``'s default cause: the message being handled
Cause = Envelope | None | Literal["handled"]


@dataclass
class Context:
    """What every use case works in, from Kafka or HTTP: the unit of work, and the message
    being handled (``cause``: the events it leads to name it). Only the dispatcher sets
    ``cause``; over HTTP there is none. ``SOURCE``: the service, as its envelopes name it."""

    SOURCE: ClassVar[str] = ""
    uow: UnitOfWork
    cause: Envelope | None = field(default=None, kw_only=True)

    def emit(
        self,
        subject: str,
        data: Payload,
        *,
        cause: Cause = HANDLED,
        correlation_id: str | None = None,
    ) -> Emitted:
        """Publish the event ``data`` (its contract names its type) about order ``subject``
        once the transaction commits: the one way every service emits. It names the message
        being handled as its cause, unless ``cause`` is given (a batch-wide step that emits
        for each order what that order's own message caused, or ``None``); a job with no
        cause may carry on the ``correlation_id`` of what it acts on."""
        caused_by = self.cause if cause == HANDLED else cause
        envelope = new_envelope(
            data.EVENT_TYPE, self.SOURCE, subject, data, caused_by, correlation_id
        )
        return self.uow.emit(envelope)


Ctx = TypeVar("Ctx", bound=Context)
Reaction = Callable[[Ctx, Incoming], Awaitable[None]]


def calls(use_case: Callable[[Ctx, Any], Awaitable[object]]) -> Reaction[Ctx]:
    """The reaction that calls ``use_case(ctx, data)`` with the message's data (its result,
    if any, is the use case's answer to HTTP: a message does not need it)."""

    async def reaction(ctx: Ctx, item: Incoming) -> None:
        await use_case(ctx, item.data)

    reaction.__name__ = reaction.__qualname__ = f"calls_{use_case.__name__}"
    return reaction


@dataclass
class Outcomes:
    processed: int = 0
    rejected: list[tuple[Incoming, RuleViolation]] = field(default_factory=list)
    waiting: list[tuple[Incoming, str]] = field(default_factory=list)


class Dispatcher(Generic[Ctx]):
    """Applies each message's reaction in order. Types without a reaction are ignored.

    A reaction validates before it changes anything; it raises ``RuleViolation`` to refuse
    a message (dead letter) or ``WaitingFor`` to park it. Once one message of an order
    waits, the later ones of that order in the batch wait too, so order is preserved —
    except the types in ``unblocks``, which can make the order known (its creation) and
    so must not wait behind what waits for them. Before each reaction the context's
    ``cause`` is set to the message's envelope: the one place it is set.
    """

    def __init__(
        self, reactions: Mapping[str, Reaction[Ctx]], unblocks: frozenset[str] = frozenset()
    ) -> None:
        self.reactions = dict(reactions)
        self.unblocks = unblocks

    async def run(self, ctx: Ctx, items: list[Incoming]) -> Outcomes:
        out = Outcomes()
        blocked: set[str] = set()
        for item in items:
            reaction = self.reactions.get(item.type)
            if reaction is None:
                continue
            if item.subject in blocked and item.type not in self.unblocks:
                out.waiting.append((item, f"an earlier message of order {item.subject} is waiting"))
                continue
            bind(item.subject, item.envelope.correlation_id)  # every log line names the order
            ctx.cause = item.envelope
            try:
                await reaction(ctx, item)
                out.processed += 1
            except WaitingFor as wait:
                blocked.add(item.subject)
                out.waiting.append((item, wait.reason))
            except RuleViolation as refusal:
                out.rejected.append((item, refusal))
        return out


async def load_nothing(ctx: Any, items: list[Incoming]) -> None:
    """The preload of a group whose reactions look up what they need themselves."""


async def flush(ctx: Context, items: list[Incoming], outcomes: Outcomes) -> None:
    """The save of a group whose use cases change ORM rows: flush them."""
    await ctx.uow.session.flush()


@dataclass
class ConsumerGroup(Generic[Ctx]):
    """One consumer group of a service: its topics, its reaction table, and its batch steps.

    ``unblocks`` names the event types that can make a parked order known (e.g. the
    order's creation): they are applied even while older messages of that order are
    parked (or waiting earlier in the batch), and the parked ones are retried right after.

    ``idempotent`` names the event types whose reaction recognises a repeat by a key of its
    own, in the same transaction as its effects (production's progress log holds each
    supplier message id once per order): those skip the inbox, which would record the same
    fact a second time.

    ``handle`` is the batch: context → ``preload`` (all items the processor let through,
    so a preload can also serve ``save``) → the dispatcher → ``save``.
    """

    name: str
    topics: tuple[str, ...]
    reactions: Mapping[str, Reaction[Ctx]]
    context: Callable[[UnitOfWork], Ctx]
    preload: Callable[[Ctx, list[Incoming]], Awaitable[None]] = load_nothing
    save: Callable[[Ctx, list[Incoming], Outcomes], Awaitable[None]] = flush
    unblocks: frozenset[str] = frozenset()
    idempotent: frozenset[str] = frozenset()
    dispatcher: Dispatcher[Ctx] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        unknown = self.unblocks - set(self.reactions)
        if unknown:
            raise ValueError(f"{self.name}: unblocks names types it has no reaction to: {unknown}")
        self.dispatcher = Dispatcher(self.reactions, self.unblocks)

    @property
    def types(self) -> frozenset[str]:
        return frozenset(self.reactions)

    async def handle(self, uow: UnitOfWork, items: list[Incoming]) -> Outcomes:
        ctx = self.context(uow)
        await self.preload(ctx, items)
        outcomes = await self.dispatcher.run(ctx, items)
        await self.save(ctx, items, outcomes)
        return outcomes
