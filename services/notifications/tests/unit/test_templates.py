from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from looptrace_notifications.rendering import (
    DigestItem,
    EmptyDigest,
    TemplateMissing,
    TemplateValueMissing,
    available_templates,
    build_digest,
    render,
    timeline_url,
)
from looptrace_notifications.rulebook import default_rules

# The event data of every type the rules react to, plus what the service adds
# (recipient_name, base_url / timeline_url, names from its contact book).
SAMPLE: dict[str, Any] = {
    "recipient_name": "Ana",
    "order_id": "ord-42",
    "order_number": "PO-2025-042",
    "base_url": "https://looptrace.example/",
    "buyer": {"id": "b1", "name": "Nordic Knit AB"},
    "supplier": {"id": "s1", "name": "Dhaka Knitwear Ltd"},
    "supplier_id": "s1",
    "quantity": 1200,
    "target_date": date(2025, 5, 30),
    "stage_name": "Knitting",
    "started_at": datetime(2025, 3, 3, 8, 0, tzinfo=UTC),
    "completed_at": "2025-03-20T16:00:00+00:00",
    "days_late": 4,
    "forecast_end": "2025-04-02",
    "reason": None,
    "risk_level": "high",
    "previous_risk_level": "low",
    "expected_delay_days": 6.4,
    "drivers": ["yarn arrived late"],
    "warnings": ["its GOTS certification expired on 2025-01-31"],
    "recommended_actions": ["add a second shift"],
    "sample_inspected": 125,
    "defects_by_class": {"major": 4, "minor": 9},
    "summary": "Seam puckering on sleeves.",
    "to_status": "shipped",
    "author_role": "supplier",
    "text": "Trims arrive Monday.",
    "projected_completion": "2025-06-04",
    "topic": "production.progress.v1.dlq",
    "dead_letter_count": 37,
    "from_severity": "normal",
    "to_severity": "tightened",
    # the sample loop (production.sample_*)
    "kind": "pre_production",
    "round": 2,
    "due_date": "2025-03-10",
    "planned_date": "2025-03-12",
    "next_due_date": "2025-03-17",
    "reasons": "Shade off against the lab dip.",
    "comments": "Keep this hand feel.",
    "courier": "DHL",
    "tracking_number": "JD0001",
    "gate_opened": True,
    "probability": 0.62,
    "baseline_probability": 0.18,
    "inspection_stage": "Final Inspection",
}

NOTIFICATION_TYPES = sorted(default_rules().notification_types)


def test_digest_and_every_rule_type_have_both_templates() -> None:
    templates = available_templates()
    for name in [*NOTIFICATION_TYPES, "digest"]:
        assert {f"{name}.txt.j2", f"{name}.html.j2"} <= templates, name


@pytest.mark.parametrize("notification_type", NOTIFICATION_TYPES)
def test_every_type_renders(notification_type: str) -> None:
    subject, text, html = render(notification_type, SAMPLE)
    assert subject and "\n" not in subject
    assert text.startswith("Hello Ana,")
    assert html.lstrip().startswith("<!doctype html>") and "Hello Ana," in html
    if notification_type not in ("dead_letters_growing", "supplier_inspection_tightened"):
        assert "PO-2025-042" in subject
    assert "https://looptrace.example/v1/orders/ord-42/timeline" in text
    assert 'href="https://looptrace.example/v1/orders/ord-42/timeline"' in html


def test_context_values_reach_the_mail() -> None:
    subject, text, html = render("stage_delayed", SAMPLE)
    assert subject == "Order PO-2025-042: Knitting is running late"
    assert "4 days late" in text and "02 Apr 2025" in text
    assert "Reason given" not in text
    assert (
        "Reason given: power cut" in render("stage_delayed", {**SAMPLE, "reason": "power cut"}).text
    )
    _, text, _ = render("order_assigned", SAMPLE)
    assert "Nordic Knit AB" in text and "1200 pieces" in text and "30 May 2025" in text
    _, text, _ = render("delay_risk_raised", SAMPLE)
    assert "about 6 days" in text and "- yarn arrived late" in text
    assert "- add a second shift" in text
    assert "4 major, 9 minor" in render("inspection_failed", SAMPLE).text


def test_html_is_escaped_but_text_is_not() -> None:
    hostile = {**SAMPLE, "text": '<script>alert("x")</script> & more', "recipient_name": "<b>Bo"}
    _, text, html = render("message_posted", hostile)
    assert "<script>" not in html and "&lt;script&gt;" in html and "&amp; more" in html
    assert "Hello &lt;b&gt;Bo," in html
    assert '<script>alert("x")</script> & more' in text


def test_explicit_timeline_url_wins_and_order_ids_are_quoted() -> None:
    assert (
        timeline_url("https://x.example/", "a/b c")
        == "https://x.example/v1/orders/a%2Fb%20c/timeline"
    )
    _, text, _ = render("order_delivered", {**SAMPLE, "timeline_url": "https://t.example/1"})
    assert "Timeline: https://t.example/1" in text


def test_named_supplier_overrides_the_party() -> None:
    ctx = {**SAMPLE, "supplier_name": "DKL (Gazipur)"}
    assert "DKL (Gazipur)" in render("supplier_assigned", ctx).text
    assert "Dhaka Knitwear Ltd" in render("supplier_assigned", SAMPLE).text


def test_missing_template_is_a_clear_error() -> None:
    with pytest.raises(TemplateMissing) as info:
        render("order_exploded", SAMPLE)
    assert "order_exploded.txt.j2" in str(info.value)
    assert "order_confirmed" in str(info.value)  # lists the known types
    assert "_layout" not in str(info.value)


def test_missing_value_names_it() -> None:
    context = {k: v for k, v in SAMPLE.items() if k != "stage_name"}
    with pytest.raises(TemplateValueMissing, match="stage_name"):
        render("milestone_completed", context)


# ------------------------------------------------------------------ digest


def item(order: str, subject: str, hour: int) -> DigestItem:
    return DigestItem(
        order_number=order,
        subject=subject,
        timeline_url=f"https://looptrace.example/orders/{order}/timeline",
        at=datetime(2025, 3, 10, hour, 0, tzinfo=UTC),
    )


def test_digest_groups_by_order_oldest_first() -> None:
    items = [
        item("PO-2", "Order PO-2 has shipped", 15),
        item("PO-1", "Order PO-1: Knitting is running late", 9),
        item("PO-1", "Order PO-1: high risk of delay", 11),
    ]
    subject, text, html = build_digest(items)
    assert subject == "LoopTrace digest: 3 updates on 2 orders"
    assert text.index("Order PO-1 ") < text.index("Knitting") < text.index("high risk")
    assert text.index("high risk") < text.index("Order PO-2 ") < text.index("has shipped")
    assert text.count("Order PO-1 (") == 1
    assert 'href="https://looptrace.example/orders/PO-1/timeline"' in html
    assert html.count("<h3>") == 2


def test_digest_shows_times_in_utc_and_escapes_html() -> None:
    dhaka = timezone(timedelta(hours=6))
    one = DigestItem(
        "PO-<9>", "New message <b>", "https://x.example/", datetime(2025, 3, 10, 9, 0, tzinfo=dhaka)
    )
    subject, text, html = build_digest([one])
    assert subject == "LoopTrace digest: 1 update on 1 order"
    assert "10 Mar 03:00 UTC" in text
    assert "New message <b>" in text and "New message &lt;b&gt;" in html and "PO-&lt;9&gt;" in html


def test_empty_digest_is_refused() -> None:
    with pytest.raises(EmptyDigest):
        build_digest([])


def test_the_two_cut_and_sew_inspection_mails_say_which_inspection_passed() -> None:
    internal = {**SAMPLE, "stage_number": 8, "stage_name": "Quality Control (Internal)",
                "inspection_kind": "inline", "lot_size": 1200, "round": 1}  # fmt: skip
    final = {**SAMPLE, "stage_number": 9, "stage_name": "Final Inspection",
             "inspection_kind": "final", "lot_size": 1200, "round": 2}  # fmt: skip
    first, second = render("inspection_passed", internal), render("inspection_passed", final)
    assert first.subject != second.subject and first.text != second.text
    assert first.subject == (
        "Order PO-2025-042: Inline inspection at stage 8 (Quality Control (Internal)) passed"
    )
    assert (
        second.subject == "Order PO-2025-042: Final inspection at stage 9 (Final Inspection) passed"
    )
    assert "lot of 1200 pieces, re-inspection (round 2), 125 pieces inspected" in second.text
    assert "Final inspection at stage 9" in second.html and "lot of 1200 pieces" in second.html
    failed = render("inspection_failed", internal)
    assert failed.subject.endswith(
        "Inline inspection at stage 8 (Quality Control (Internal)) failed"
    )


def test_quality_risk_mail_states_the_chance_the_supplier_rate_and_that_it_is_advisory() -> None:
    subject, text, html = render("quality_risk_raised", SAMPLE)
    assert subject == "Order PO-2025-042: high risk that the next inspection fails"
    assert "(Final Inspection) has a high risk of being rejected: about 62 %" in text
    assert "the supplier's usual rate is 18 %" in text and "advisory" in html
    assert "- yarn arrived late" in text and "<li>add a second shift</li>" in html


def test_an_assignment_warning_lists_each_warning() -> None:
    _, text, html = render("assignment_warned", SAMPLE)
    assert "- its GOTS certification expired on 2025-01-31" in text
    assert "<li>its GOTS certification expired on 2025-01-31</li>" in html
