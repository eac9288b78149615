"""Use cases of the notifications service. The same functions serve Kafka handlers and HTTP."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from looptrace_notifications import repository as repo
from looptrace_notifications.config import NotificationsSettings
from looptrace_notifications.contacts import Contact, load_contacts, save_contacts
from looptrace_notifications.domain.delivery import (
    DeliveryKind,
    DeliveryMode,
    Preferences,
    QuietHours,
    decide_delivery,
)
from looptrace_notifications.domain.errors import NotificationRuleViolation
from looptrace_notifications.domain.rules import Category, Role, Rule
from looptrace_notifications.models import OrderContactRow, PreferenceRow
from looptrace_notifications.rendering import order_link
from looptrace_notifications.rulebook import match
from looptrace_notifications.subjects import subject
from looptrace_shared.errors import WaitingFor, as_rule_violation
from looptrace_shared.messaging.dispatch import Context

SOURCE = "notifications"
# roles addressed by e-mail, from the settings: they need no contact
_BY_EMAIL = frozenset({Role.ADMIN, Role.INSPECTOR})
# the contact book as a batch holds it, or as a test writes it
AnyContact = Contact | OrderContactRow


@dataclass(frozen=True)
class Recipient:
    id: str
    role: Role
    name: str | None
    email: str | None


@dataclass
class NotificationsContext(Context):
    """One batch (or one request): the unit of work and the contacts loaded for it."""

    SOURCE = SOURCE
    settings: NotificationsSettings
    contacts: dict[str, Contact] = field(default_factory=dict)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    pending: list[dict[str, Any]] = field(default_factory=list)
    # orders whose contacts were looked up (found or not): no second query for them
    looked_up: set[str] = field(default_factory=set)
    changed: dict[str, Contact] = field(default_factory=dict)

    async def preload(self, order_ids: list[str]) -> None:
        self.contacts.update(await load_contacts(self.uow.session, order_ids))
        self.looked_up.update(order_ids)

    async def contact(self, order_id: str) -> Contact:
        found = self.contacts.get(order_id)
        if found is None and order_id not in self.looked_up:
            await self.preload([order_id])
            found = self.contacts.get(order_id)
        if found is None:
            raise WaitingFor(f"contacts of order {order_id} are not known yet (no order.created)")
        return found

    def remember(self, contact: Contact) -> None:
        """``contact`` is the order's from now on; ``flush`` writes it with the batch."""
        self.contacts[contact.order_id] = self.changed[contact.order_id] = contact


# ---- notifying -----------------------------------------------------------------------


async def notify(
    ctx: NotificationsContext,
    event_type: str,
    order_id: str,
    data: Mapping[str, Any],
    event_id: str,
    contact: Contact | None = None,
) -> None:
    """Turn one event into notifications (one per recipient); they are written by ``flush``.

    ``contact``: the order's contacts as this event leaves them (else the known ones). Raises
    before it changes anything, so a refused event leaves no notification behind.
    """
    rules = match(event_type, data)
    if not rules:
        return
    if contact is None:
        needs_contact = any(r.role not in _BY_EMAIL for r in rules)
        contact = await ctx.contact(order_id) if needs_contact else ctx.contacts.get(order_id)
    ctx.pending += _notification_rows(ctx, rules, contact, event_type, order_id, data, event_id)


async def flush(ctx: NotificationsContext) -> list[repo.Created]:
    """Write the batch's changed contacts, its notifications and the e-mails they call for:
    three statements a batch.

    A (source event, recipient) pair already stored is skipped, so redelivery creates nothing.
    """
    changed, ctx.changed = ctx.changed, {}
    await save_contacts(ctx.uow.session, changed.values())
    rows, ctx.pending = ctx.pending, []
    created = await repo.insert_notifications(ctx.uow.session, rows)
    await _plan_emails(ctx, created)
    return created


def recipients(
    rule: Rule,
    contact: AnyContact | None,
    admins: list[str],
    inspectors: Sequence[str] = (),
    actor: str | None = None,
) -> list[Recipient]:
    """``actor``: the admin the event names as having acted (``assigned_by``); when it is one
    of the admins, only that admin hears of it."""
    if rule.role in _BY_EMAIL:
        if rule.role is Role.ADMIN:
            listed = [actor] if actor is not None and actor in admins else admins
        else:
            listed = list(inspectors)
        return [Recipient(a, rule.role, None, a) for a in listed]
    if contact is None:
        return []
    if rule.role is Role.BUYER:
        return [Recipient(contact.buyer_id, Role.BUYER, contact.buyer_name, contact.buyer_email)]
    if contact.supplier_id is None:
        return []
    s = contact
    return [Recipient(s.supplier_id, Role.SUPPLIER, s.supplier_name, s.supplier_email)]  # type: ignore[arg-type]


def mail_context(
    settings: NotificationsSettings,
    contact: AnyContact | None,
    order_id: str,
    data: Mapping[str, Any],
    who: Recipient,
) -> dict[str, Any]:
    """What the templates see: the event's data, the contact book, the recipient, the links."""
    ctx: dict[str, Any] = {"order_id": order_id, "base_url": settings.timeline_base_url}
    if settings.console_base_url:
        ctx["timeline_url"] = order_link("", settings.console_base_url, order_id)
    if contact is not None:
        ctx["order_number"] = contact.order_number
        ctx["buyer"] = {"id": contact.buyer_id, "name": contact.buyer_name}
        if contact.supplier_id:
            ctx["supplier"] = {"id": contact.supplier_id, "name": contact.supplier_name}
    return {**ctx, **data, "recipient_name": who.name or "there"}


def _notification_rows(ctx, rules, contact, event_type, order_id, data, event_id):  # type: ignore[no-untyped-def]
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    actor = data.get("assigned_by") if event_type == "production.assignment_warned" else None
    admins, inspectors = ctx.settings.admin_emails, ctx.settings.inspection_emails
    for rule in rules:
        for who in recipients(rule, contact, admins, inspectors, actor):
            if (who.role.value, who.id) in rows:  # one notification per event and recipient
                continue
            context = mail_context(ctx.settings, contact, order_id, data, who)
            rows[(who.role.value, who.id)] = {
                "source_event_id": event_id,
                "source_event_type": event_type,
                "recipient_id": who.id,
                "recipient_role": who.role.value,
                "recipient_name": who.name,
                "recipient_email": who.email,
                "order_id": order_id,
                "order_number": context.get("order_number"),
                "notification_type": rule.notification_type,
                "category": rule.category.value,
                "subject": _subject(ctx, rule.notification_type, context),
                "context": context,
            }
    return list(rows.values())


def _subject(ctx: NotificationsContext, notification_type: str, context: Mapping[str, Any]) -> str:
    try:
        return subject(notification_type, context, ctx.settings.notifications_template_checks)
    except NotificationRuleViolation as err:
        raise as_rule_violation(err) from err


async def _plan_emails(ctx: NotificationsContext, created: list[repo.Created]) -> None:
    with_email = [(i, n) for i, n in created if n["recipient_email"]]
    keys = {(n["recipient_role"], n["recipient_id"]) for _, n in with_email}
    prefs = {
        k: preferences(r) for k, r in (await repo.load_preferences(ctx.uow.session, keys)).items()
    }
    rows = []
    for nid, n in with_email:
        decided = decide_delivery(
            prefs.get((n["recipient_role"], n["recipient_id"])) or _DEFAULT,
            Category(n["category"]),
            ctx.now,
        )
        if decided.kind is DeliveryKind.IN_APP_ONLY:
            continue
        digest = decided.kind is DeliveryKind.DIGEST
        rows.append(
            {
                "notification_id": nid,
                "recipient_email": n["recipient_email"],
                "state": "digest" if digest else "pending",
                "next_attempt_at": decided.send_at or ctx.now,
                "attempts": 0,
            }
        )
    await repo.insert_deliveries(ctx.uow.session, rows)


_DEFAULT = Preferences()


def preferences(row: PreferenceRow | None) -> Preferences:
    if row is None:
        return _DEFAULT
    quiet = None
    if row.quiet_start is not None and row.quiet_end is not None:
        quiet = QuietHours(row.quiet_start, row.quiet_end, row.time_zone)
    off = frozenset(Category(c) for c in row.email_off)
    return Preferences(email_off=off, mode=DeliveryMode(row.mode), quiet_hours=quiet)
