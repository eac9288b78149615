from __future__ import annotations

import random
from datetime import UTC, datetime, time
from typing import Any

import pytest

from looptrace_notifications.domain.delivery import (
    MAX_ATTEMPTS,
    Delivery,
    DeliveryKind,
    DeliveryMode,
    InvalidQuietHours,
    Preferences,
    QuietHours,
    classify_smtp,
    decide_delivery,
    next_attempt_delay,
    should_retry,
)
from looptrace_notifications.domain.rules import Category, Role, RuleFileError, parse_rules
from looptrace_notifications.rendering import available_templates
from looptrace_notifications.rulebook import match

B, S, A = Role.BUYER, Role.SUPPLIER, Role.ADMIN


def heard(event_type: str, **data: Any) -> set[tuple[Role, str, Category]]:
    return {(r.role, r.notification_type, r.category) for r in match(event_type, data)}


def risk(level: str, previous: str | None) -> dict[str, Any]:
    return {"risk_level": level, "previous_risk_level": previous}


# ------------------------------------------------------------------ defaults


@pytest.mark.parametrize(
    ("event_type", "data", "expected"),
    [
        ("order.created", {}, {(B, "order_confirmed", Category.ORDER_UPDATES)}),
        (
            "order.supplier_assigned",
            {},
            {
                (B, "supplier_assigned", Category.ORDER_UPDATES),
                (S, "order_assigned", Category.ORDER_UPDATES),
            },
        ),
        (
            "production.stage_started",
            {"first_stage": True},
            {(B, "production_started", Category.PRODUCTION)},
        ),
        ("production.stage_started", {"first_stage": False}, set()),
        ("production.stage_started", {}, set()),
        (
            "production.stage_completed",
            {"milestone": True},
            {(B, "milestone_completed", Category.PRODUCTION)},
        ),
        ("production.stage_completed", {"milestone": False}, set()),
        ("production.stage_delayed", {}, {(B, "stage_delayed", Category.PRODUCTION)}),
        (
            "quality.inspection_passed",
            {},
            {(B, "inspection_passed", Category.QUALITY)},
        ),
        (
            "quality.inspection_failed",
            {},
            {
                (B, "inspection_failed", Category.QUALITY),
                (S, "inspection_failed", Category.QUALITY),
            },
        ),
        (
            "order.status_changed",
            {"to_status": "shipped"},
            {(B, "order_shipped", Category.ORDER_UPDATES)},
        ),
        (
            "order.status_changed",
            {"to_status": "delivered"},
            {(B, "order_delivered", Category.ORDER_UPDATES)},
        ),
        ("order.status_changed", {"to_status": "quality_check"}, set()),
        (
            "notifications.message_posted",
            {"author_role": "supplier"},
            {(B, "message_posted", Category.MESSAGES)},
        ),
        (
            "notifications.message_posted",
            {"author_role": "buyer"},
            {(S, "message_posted", Category.MESSAGES)},
        ),
        (
            "notifications.message_posted",
            {"author_role": "admin"},
            {(B, "message_posted", Category.MESSAGES), (S, "message_posted", Category.MESSAGES)},
        ),
        (
            "production.stages_initialized",
            {"at_risk": True},
            {(S, "plan_at_risk", Category.PRODUCTION)},
        ),
        ("production.stages_initialized", {"at_risk": False}, set()),
        ("ops.dead_letters_growing", {}, {(A, "dead_letters_growing", Category.ADMIN)}),
        (
            "quality.supplier_severity_changed",
            {"from_severity": "normal", "to_severity": "tightened"},
            {(A, "supplier_inspection_tightened", Category.QUALITY)},
        ),
        (  # resumed after discontinuation: stays tightened, not news
            "quality.supplier_severity_changed",
            {"from_severity": "tightened", "to_severity": "tightened"},
            set(),
        ),
        ("quality.supplier_severity_changed", {"to_severity": "normal"}, set()),
        ("production.stage_progressed", {"milestone": True}, set()),
    ],
)
def test_default_rules(event_type: str, data: dict[str, Any], expected: set[Any]) -> None:
    assert heard(event_type, **data) == expected


RAISED = (B, "delay_risk_raised", Category.RISK)
CLEARED = (B, "delay_risk_cleared", Category.RISK)
ADMIN_HIGH = (A, "high_delay_risk", Category.RISK)


@pytest.mark.parametrize(
    ("level", "previous", "expected"),
    [
        ("medium", "low", {RAISED}),
        ("high", "low", {RAISED, ADMIN_HIGH}),
        ("high", "medium", {RAISED, ADMIN_HIGH}),
        ("medium", None, {RAISED}),  # first alert
        ("high", None, {RAISED, ADMIN_HIGH}),
        ("low", None, set()),
        ("medium", "high", set()),  # falling, still at risk: no news
        ("high", "high", set()),
        ("low", "medium", {CLEARED}),
        ("low", "high", {CLEARED}),
        ("low", "low", set()),
        ("extreme", "low", set()),  # not on the scale
    ],
)
def test_delay_risk_conditions(level: str, previous: str | None, expected: set[Any]) -> None:
    assert heard("predictions.delay_risk", **risk(level, previous)) == expected


@pytest.mark.parametrize(
    ("previous", "projected", "expected"),
    [
        ("2025-03-01", "2025-03-20", {(S, "plan_at_risk", Category.PRODUCTION)}),
        ("2025-03-10", "2025-03-11", {(S, "plan_at_risk", Category.PRODUCTION)}),
        ("2025-03-12", "2025-03-20", set()),  # already late: told before
        ("2025-03-01", "2025-03-10", set()),  # on the target date is on time
        (None, "2025-03-20", set()),
    ],
)
def test_reforecast_that_makes_the_plan_late(
    previous: str | None, projected: str, expected: set[Any]
) -> None:
    data = {
        "target_date": "2025-03-10",
        "previous_projected_completion": previous,
        "projected_completion": projected,
    }
    assert heard("production.plan_reforecast", **data) == expected


# ------------------------------------------------------------------ loader

TEMPLATES = {"order_confirmed.txt.j2", "order_confirmed.html.j2"}


def rules_text(**overrides: Any) -> str:
    rule = {
        "event": "order.created",
        "role": "buyer",
        "notification": "order_confirmed",
        "category": "order_updates",
        **overrides,
    }
    body = "".join(f"    {k}: {v}\n" for k, v in rule.items() if v is not None)
    return "rules:\n  -\n" + body


def test_loader_reads_a_valid_rule() -> None:
    book = parse_rules(rules_text(when="[{field: milestone, equals: true}]"), TEMPLATES)
    assert book.match("order.created", {"milestone": True})[0].role is Role.BUYER
    assert book.match("order.created", {}) == []
    assert book.notification_types == {"order_confirmed"}


@pytest.mark.parametrize(
    ("overrides", "templates", "fragment"),
    [
        ({"category": "gossip"}, TEMPLATES, "unknown category 'gossip'; allowed: order_updates"),
        ({"role": "auditor"}, TEMPLATES, "unknown role 'auditor'; allowed: buyer, supplier, admin"),
        ({"notification": "nope"}, TEMPLATES, "unknown template for 'nope'"),
        ({}, {"order_confirmed.txt.j2"}, "order_confirmed.html.j2"),
        ({"colour": "red"}, TEMPLATES, "unknown keys ['colour']"),
        ({"category": None}, TEMPLATES, "needs event, role, notification and category"),
        ({"when": "[{field: x}]"}, TEMPLATES, "needs 'field' and one of equals"),
        ({"when": "[{field: x, equals: 1, in: [1]}]"}, TEMPLATES, "one of"),
        ({"when": "[{field: x, rises_from: y}]"}, TEMPLATES, "needs a 'scale'"),
    ],
)
def test_loader_refuses_bad_rules(
    overrides: dict[str, Any], templates: set[str], fragment: str
) -> None:
    with pytest.raises(RuleFileError) as info:
        parse_rules(rules_text(**overrides), templates)
    assert fragment in str(info.value)
    assert "rule 1" in str(info.value)


def test_loader_needs_a_rules_list() -> None:
    with pytest.raises(RuleFileError, match="top-level 'rules:' list"):
        parse_rules("rule: []", TEMPLATES)


def test_shipped_rules_name_only_existing_templates() -> None:
    from looptrace_notifications.rulebook import default_rules

    templates = available_templates()
    for notification_type in default_rules().notification_types:
        assert f"{notification_type}.txt.j2" in templates
        assert f"{notification_type}.html.j2" in templates


# ------------------------------------------------------------------ preferences

DHAKA_NIGHT = QuietHours(time(22, 0), time(7, 0), "Asia/Dhaka")  # UTC+6, crosses midnight


def at(hour: int, minute: int = 0, day: int = 10) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (at(15, 59), Delivery(DeliveryKind.EMAIL_NOW)),  # 21:59 in Dhaka
        (at(16, 0), Delivery(DeliveryKind.EMAIL_AT, at(1, 0, day=11))),  # 22:00 local
        (at(19, 30), Delivery(DeliveryKind.EMAIL_AT, at(1, 0, day=11))),  # 01:30 next day
        (at(0, 59), Delivery(DeliveryKind.EMAIL_AT, at(1, 0))),  # 06:59 local
        (at(1, 0), Delivery(DeliveryKind.EMAIL_NOW)),  # 07:00 local: window over
    ],
)
def test_quiet_hours_across_midnight_in_a_non_utc_zone(now: datetime, expected: Delivery) -> None:
    prefs = Preferences(quiet_hours=DHAKA_NIGHT)
    assert decide_delivery(prefs, Category.PRODUCTION, now) == expected


def test_quiet_hours_within_one_day_follow_daylight_saving() -> None:
    siesta = QuietHours(time(13, 0), time(15, 0), "Europe/Madrid")
    prefs = Preferences(quiet_hours=siesta)
    winter = decide_delivery(prefs, Category.RISK, datetime(2025, 1, 15, 12, 30, tzinfo=UTC))
    summer = decide_delivery(prefs, Category.RISK, datetime(2025, 7, 15, 11, 30, tzinfo=UTC))
    assert winter.send_at == datetime(2025, 1, 15, 14, 0, tzinfo=UTC)  # CET = UTC+1
    assert summer.send_at == datetime(2025, 7, 15, 13, 0, tzinfo=UTC)  # CEST = UTC+2
    outside = decide_delivery(prefs, Category.RISK, datetime(2025, 1, 15, 14, 0, tzinfo=UTC))
    assert outside.kind is DeliveryKind.EMAIL_NOW


def test_email_off_for_a_category_means_in_app_only() -> None:
    prefs = Preferences(email_off=frozenset({Category.MESSAGES}), quiet_hours=DHAKA_NIGHT)
    delivery = decide_delivery(prefs, Category.MESSAGES, at(12))
    assert delivery.kind is DeliveryKind.IN_APP_ONLY and delivery.in_app
    assert decide_delivery(prefs, Category.QUALITY, at(12)).kind is DeliveryKind.EMAIL_NOW


def test_preferences_read_from_storage_as_plain_strings_work() -> None:
    prefs = Preferences(email_off=frozenset({"risk"}), mode="daily_digest")  # type: ignore[arg-type]
    assert decide_delivery(prefs, Category.RISK, at(9)).kind is DeliveryKind.IN_APP_ONLY
    assert decide_delivery(prefs, Category.QUALITY, at(9)).kind is DeliveryKind.DIGEST


def test_digest_mode_collects_regardless_of_quiet_hours() -> None:
    prefs = Preferences(mode=DeliveryMode.DAILY_DIGEST, quiet_hours=DHAKA_NIGHT)
    assert decide_delivery(prefs, Category.PRODUCTION, at(18)).kind is DeliveryKind.DIGEST
    assert decide_delivery(prefs, Category.PRODUCTION, at(9)).kind is DeliveryKind.DIGEST


def test_every_delivery_keeps_the_in_app_copy() -> None:
    for prefs in (Preferences(), Preferences(mode=DeliveryMode.DAILY_DIGEST)):
        assert decide_delivery(prefs, Category.ADMIN, at(9)).in_app


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        decide_delivery(Preferences(), Category.RISK, datetime(2025, 1, 1, 9, 0))


@pytest.mark.parametrize(
    ("start", "end", "zone", "fragment"),
    [
        (time(22), time(22), "Asia/Dhaka", "both 22:00:00"),
        (time(22), time(7), "Mars/Olympus_Mons", "unknown time zone 'Mars/Olympus_Mons'"),
    ],
)
def test_bad_quiet_hours(start: time, end: time, zone: str, fragment: str) -> None:
    with pytest.raises(InvalidQuietHours, match=fragment):
        QuietHours(start, end, zone)


# ------------------------------------------------------------------ SMTP


@pytest.mark.parametrize(
    ("code", "kind", "expected"),
    [
        (421, None, "transient"),
        (450, "recipients_refused", "transient"),  # the reply code decides
        (451, None, "transient"),
        (550, None, "permanent"),
        (554, "timeout", "permanent"),
        (None, "connection_refused", "transient"),
        (None, "timeout", "transient"),
        (None, "server_disconnected", "transient"),
        (None, "recipients_refused", "permanent"),
        (None, "invalid_address", "permanent"),
        (None, "something_new", "transient"),
        (None, None, "transient"),
    ],
)
def test_classify_smtp(code: int | None, kind: str | None, expected: str) -> None:
    assert classify_smtp(code, kind) == expected


def test_retry_only_transient_failures_up_to_the_limit() -> None:
    assert should_retry("transient", 1)
    assert not should_retry("transient", MAX_ATTEMPTS)
    assert not should_retry("permanent", 1)


@pytest.mark.parametrize("attempt", [1, 2, 3, 5, 9, 20, 1000])
def test_backoff_stays_within_full_jitter_bounds(attempt: int) -> None:
    rng = random.Random(attempt)
    ceiling = min(300.0, 2.0 ** (attempt - 1))
    delays = [next_attempt_delay(attempt, rng=rng) for _ in range(200)]
    assert all(0.0 <= d <= ceiling for d in delays)
    assert max(delays) > ceiling / 2  # it is spread over the range, not stuck at 0


def test_backoff_honours_base_and_cap() -> None:
    rng = random.Random(1)
    assert all(next_attempt_delay(2, base=0.5, rng=rng) <= 1.0 for _ in range(100))
    assert all(next_attempt_delay(30, cap=10.0, rng=rng) <= 10.0 for _ in range(100))


def test_backoff_counts_attempts_from_one() -> None:
    with pytest.raises(ValueError, match="from 1"):
        next_attempt_delay(0)


Q_BUYER = (B, "quality_risk_raised", Category.QUALITY)
Q_INSPECTOR = (Role.INSPECTOR, "quality_risk_raised", Category.QUALITY)


@pytest.mark.parametrize(
    ("level", "previous", "expected"),
    [
        ("medium", "low", {Q_BUYER, Q_INSPECTOR}),
        ("high", "medium", {Q_BUYER, Q_INSPECTOR}),
        ("high", None, {Q_BUYER, Q_INSPECTOR}),  # first assessment
        ("low", None, set()),
        ("medium", "high", set()),  # falling: no news
        ("low", "high", set()),
        ("high", "high", set()),
    ],
)
def test_quality_risk_reaches_the_buyer_and_the_inspection_company_when_it_rises(
    level: str, previous: str | None, expected: set[Any]
) -> None:
    assert heard("predictions.quality_risk", **risk(level, previous)) == expected
