"""Deciding when dead-letter growth is worth an admin alert (pure)."""

from __future__ import annotations

from looptrace_notifications.dlq_watch import (
    PartitionOffsets,
    dead_letter_topics,
    growth,
    worth_alerting,
)
from looptrace_notifications.rulebook import match
from looptrace_shared.topics import ALL_TOPICS


def offsets(*pairs: tuple[int, int]) -> dict[int, PartitionOffsets]:
    return {p: PartitionOffsets(first, end) for p, (first, end) in enumerate(pairs)}


def test_growth_counts_new_letters_per_partition_and_what_still_waits() -> None:
    g = growth("orders.events.v1.dlq", offsets((0, 5), (2, 4)), {0: 3})
    assert (g.new_dead_letters, g.dead_letter_count) == (2 + 4, 5 + 2)
    assert g.source_event_id == "dlq:orders.events.v1.dlq:9"
    assert g.data() == {
        "topic": "orders.events.v1.dlq",
        "new_dead_letters": 6,
        "dead_letter_count": 7,
    }


def test_a_recreated_topic_counts_from_zero_again() -> None:
    assert growth("t.dlq", offsets((0, 2)), {0: 40}).new_dead_letters == 2


def test_only_topics_that_grew_enough_are_alerted_on() -> None:
    found = {"a.dlq": offsets((0, 3)), "b.dlq": offsets((0, 1)), "c.dlq": offsets((0, 7))}
    seen = {"c.dlq": {0: 7}}
    assert [g.topic for g in worth_alerting(found, seen, min_new=1)] == ["a.dlq", "b.dlq"]
    assert [g.topic for g in worth_alerting(found, seen, min_new=2)] == ["a.dlq"]


def test_every_topic_has_its_dead_letter_topic_watched() -> None:
    assert dead_letter_topics() == [f"{t}.dlq" for t in ALL_TOPICS]


def test_the_alert_reaches_the_admins_under_the_shipped_rules() -> None:
    (rule,) = match("ops.dead_letters_growing", {"topic": "t.dlq"})
    assert (rule.role, rule.notification_type) == ("admin", "dead_letters_growing")
