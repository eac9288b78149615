"""Pure pieces of the wiring: SMTP outcome classification, Message-IDs, recipients, digest timing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import aiosmtplib

from looptrace_notifications.config import NotificationsSettings
from looptrace_notifications.digests import is_due
from looptrace_notifications.mailer import Mail, compose, failure, message_id
from looptrace_notifications.models import OrderContactRow, PreferenceRow
from looptrace_notifications.rendering import Rendered
from looptrace_notifications.rulebook import match
from looptrace_notifications.services import Recipient, mail_context, recipients

SETTINGS = NotificationsSettings(
    notifications_admin_emails=" a@x.example, b@x.example ,", smtp_from="LT <mail@lt.example>"
)
CONTACT = OrderContactRow(
    order_id="o1",
    order_number="PO-1",
    buyer_id="b1",
    buyer_name="Buyer",
    buyer_email="b@b.example",
    supplier_id=None,
    supplier_name=None,
    supplier_email=None,
)


def test_smtp_replies_are_classified_with_the_reply_kept() -> None:
    busy = failure(aiosmtplib.SMTPDataError(421, "try later"))
    assert (busy.outcome, busy.reply, busy.code) == ("transient", "421 try later", 421)
    refused = aiosmtplib.SMTPRecipientRefused(550, "no such user", "x@y")
    gone = failure(aiosmtplib.SMTPRecipientsRefused([refused]))
    assert (gone.outcome, gone.reply) == ("permanent", "550 no such user")
    assert failure(ConnectionRefusedError("nope")).outcome == "transient"
    assert failure(aiosmtplib.SMTPReadTimeoutError("slow")).reply.startswith("timeout")


def test_message_id_is_stable_per_delivery_and_uses_the_sender_domain() -> None:
    assert message_id(42, SETTINGS) == "<delivery-42@lt.example>" == message_id(42, SETTINGS)
    mail = compose(
        Mail("to@x.example", Rendered("Subj", "text", "<p>html</p>"), "<delivery-1@lt>"), "f@x"
    )
    assert mail["Message-ID"] == "<delivery-1@lt>" and mail["Subject"] == "Subj"
    assert mail.get_body(("html",)).get_content().strip() == "<p>html</p>"  # type: ignore[union-attr]


def test_admins_come_from_settings_and_unassigned_suppliers_hear_nothing() -> None:
    assert SETTINGS.admin_emails == ["a@x.example", "b@x.example"]
    rule_for = {r.role.value: r for r in match("quality.inspection_failed", {})}
    assert recipients(rule_for["supplier"], CONTACT, SETTINGS.admin_emails) == []
    (buyer,) = recipients(rule_for["buyer"], CONTACT, SETTINGS.admin_emails)
    assert (buyer.id, buyer.email) == ("b1", "b@b.example")
    high = [
        r
        for r in match("predictions.delay_risk", {"risk_level": "high"})
        if r.role.value == "admin"
    ]
    assert [a.id for a in recipients(high[0], None, SETTINGS.admin_emails)] == SETTINGS.admin_emails


def test_mail_context_adds_contacts_but_event_data_wins() -> None:
    who = Recipient("b1", match("order.created", {})[0].role, "Buyer", "b@b.example")
    ctx = mail_context(
        SETTINGS, CONTACT, "o1", {"order_number": "PO-1-event", "stage_name": "Knit"}, who
    )
    assert ctx["order_number"] == "PO-1-event" and ctx["buyer"]["name"] == "Buyer"
    assert ctx["recipient_name"] == "Buyer" and ctx["base_url"] == SETTINGS.timeline_base_url


def test_digest_is_due_once_a_day_after_the_local_hour() -> None:
    prefs = PreferenceRow(user_id="u", time_zone="America/New_York", last_digest_on=None)
    assert not is_due(prefs, datetime(2025, 3, 10, 11, 0, tzinfo=UTC), 8)  # 07:00 EDT
    assert is_due(prefs, datetime(2025, 3, 10, 12, 0, tzinfo=UTC), 8)  # 08:00 EDT
    prefs.last_digest_on = date(2025, 3, 10)
    assert not is_due(prefs, datetime(2025, 3, 10, 20, 0, tzinfo=UTC), 8)


def test_the_inspection_company_is_addressed_by_the_e_mails_in_its_setting() -> None:
    settings = NotificationsSettings(notifications_inspection_emails="qc@insp.example, ,")
    (rule,) = [
        r
        for r in match("predictions.quality_risk", {"risk_level": "high"})
        if r.role.value == "inspector"
    ]
    (who,) = recipients(rule, None, settings.admin_emails, settings.inspection_emails)
    assert (who.id, who.email, who.role.value) == ("qc@insp.example",) * 2 + ("inspector",)
    assert recipients(rule, CONTACT, SETTINGS.admin_emails) == []  # none configured
