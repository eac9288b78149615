"""The consumer shape's own rules, without a database: the group builds its dispatcher from
the one ``unblocks`` it is given, refuses an unblocking type it cannot react to, and sets
each reaction's ``cause`` itself."""

from __future__ import annotations

import pytest

from looptrace_shared.envelope import Envelope, new_envelope
from looptrace_shared.errors import WaitingFor
from looptrace_shared.messaging.dispatch import ConsumerGroup, Context
from looptrace_shared.messaging.incoming import Incoming, Record, parse_record


def incoming(type_: str, subject: str, data: dict[str, object]) -> Incoming:
    value = new_envelope(type_, "test", subject, data).to_bytes()
    parsed = parse_record(Record("orders.inbound.v1", 0, 0, subject.encode(), value))
    assert isinstance(parsed, Incoming), parsed
    return parsed


def cancelled(subject: str) -> Incoming:
    return incoming("OrderCancelled", subject, {"order_id": subject, "reason": "r"})


def assigned(subject: str) -> Incoming:
    return incoming(
        "SupplierAssigned", subject, {"order_id": subject, "supplier": {"id": "s1", "name": "S"}}
    )


async def test_the_dispatcher_lets_the_groups_unblocking_types_past_a_waiting_order() -> None:
    causes: list[Envelope | None] = []

    async def wait(ctx: Context, item: Incoming) -> None:
        causes.append(ctx.cause)
        raise WaitingFor("not known yet")

    async def note(ctx: Context, item: Incoming) -> None:
        causes.append(ctx.cause)

    group = ConsumerGroup(
        "g",
        ("orders.inbound.v1",),
        {"OrderCancelled": wait, "SupplierAssigned": note},
        context=Context,
        unblocks=frozenset({"SupplierAssigned"}),
    )
    assert group.dispatcher.unblocks is group.unblocks  # given once, used by both
    first, second, third = cancelled("o1"), assigned("o1"), cancelled("o1")
    outcomes = await group.dispatcher.run(Context(None), [first, second, third])  # type: ignore[arg-type]
    assert outcomes.processed == 1  # the assignment, although its order's first message waits
    assert [i for i, _ in outcomes.waiting] == [first, third]
    assert causes == [first.envelope, second.envelope]  # set by the dispatcher, per message


def test_a_group_refuses_to_unblock_a_type_it_has_no_reaction_to() -> None:
    async def note(ctx: Context, item: Incoming) -> None:
        pass

    with pytest.raises(ValueError, match="OrderPlaced"):
        ConsumerGroup(
            "g", ("t",), {"OrderCancelled": note}, Context, unblocks=frozenset({"OrderPlaced"})
        )
