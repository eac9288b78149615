"""Use cases of the notifications service. The same functions serve Kafka handlers and HTTP."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from looptrace_notifications import repository as repo
from looptrace_notifications.config import NotificationsSettings
from looptrace_notifications.domain.delivery import (
    DeliveryKind,
    DeliveryMode,
    Preferences,
    QuietHours,
    decide_delivery,
)
from looptrace_notifications.domain.errors import NotificationRuleViolation
from looptrace_notifications.domain.rules import Category, Role, Rule
from looptrace_notifications.models import NotificationRow, OrderContactRow, PreferenceRow
from looptrace_notifications.rendering import order_link, render
from looptrace_notifications.rulebook import match
from looptrace_shared.errors import WaitingFor, as_rule_violation
from looptrace_shared.events import orders as ev
from looptrace_shared.messaging.dispatch import Context

SOURCE = "notifications"


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
    contacts: dict[str, OrderContactRow] = field(default_factory=dict)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    pending: list[dict[str, Any]] = field(default_factory=list)

    async def preload(self, order_ids: list[str]) -> None:
        self.contacts.update(await repo.load_contacts(self.uow.session, order_ids))

    async def contact(self, order_id: str) -> OrderContactRow:
        found = self.contacts.get(order_id)
        if found is None:
            found = (await repo.load_contacts(self.uow.session, [order_id])).get(order_id)
        if found is None:
            raise WaitingFor(f"contacts of order {order_id} are not known yet (no order.created)")
        self.contacts[order_id] = found
        return found


# ---- contacts ------------------------------------------------------------------------


async def remember_buyer(ctx: NotificationsContext, facts: ev.OrderFacts) -> None:
    await _upsert_contact(ctx, facts.order_id, _buyer_values(facts))


async def remember_supplier(ctx: NotificationsContext, facts: ev.OrderSupplierAssigned) -> None:
    s = facts.supplier
    values = {"supplier_id": s.id, "supplier_name": s.name}
    values["supplier_email"] = str(s.email) if s.email else None
    await _upsert_contact(ctx, facts.order_id, {**_buyer_values(facts), **values})


async def note_completion(ctx: NotificationsContext, order_id: str, at: datetime) -> None:
    """The order completed: its messages become due for cold storage after retention."""
    table = OrderContactRow.__table__
    await ctx.uow.session.execute(
        update(table).where(table.c.order_id == order_id).values(completed_at=at)
    )


def _buyer_values(facts: ev.OrderFacts) -> dict[str, Any]:
    b = facts.buyer
    values = {"order_number": facts.order_number, "buyer_id": b.id, "buyer_name": b.name}
    return {**values, "buyer_email": str(b.email) if b.email else None}


async def _upsert_contact(ctx: NotificationsContext, order_id: str, values: dict[str, Any]) -> None:
    stmt = pg_insert(OrderContactRow).values(order_id=order_id, **values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["order_id"], set_={**values, "updated_at": ctx.now}
    ).returning(OrderContactRow)
    row = (await ctx.uow.session.scalars(stmt.execution_options(populate_existing=True))).one()
    ctx.contacts[order_id] = row


# ---- notifying -----------------------------------------------------------------------


async def notify(
    ctx: NotificationsContext,
    event_type: str,
    order_id: str,
    data: Mapping[str, Any],
    event_id: str,
) -> None:
    """Turn one event into notifications (one per recipient); they are written by ``flush``."""
    rules = match(event_type, data)
    if not rules:
        return
    needs_contact = any(r.role not in (Role.ADMIN, Role.INSPECTOR) for r in rules)
    contact = await ctx.contact(order_id) if needs_contact else ctx.contacts.get(order_id)
    ctx.pending += _notification_rows(ctx, rules, contact, event_type, order_id, data, event_id)


async def flush(ctx: NotificationsContext) -> list[NotificationRow]:
    """Write the batch's notifications and the e-mails they call for: two statements a batch.

    A (source event, recipient) pair already stored is skipped, so redelivery creates nothing.
    """
    rows, ctx.pending = ctx.pending, []
    created = await repo.insert_notifications(ctx.uow.session, rows)
    await _plan_emails(ctx, created)
    return created


def recipients(
    rule: Rule,
    contact: OrderContactRow | None,
    admins: list[str],
    inspectors: Sequence[str] = (),
    actor: str | None = None,
) -> list[Recipient]:
    """``actor``: the admin the event names as having acted (``assigned_by``); when it is one
    of the admins, only that admin hears of it."""
    if rule.role in (Role.ADMIN, Role.INSPECTOR):  # addressed by e-mail, from the settings
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
    contact: OrderContactRow | None,
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
    for rule in rules:
        actor = data.get("assigned_by") if event_type == "production.assignment_warned" else None
        for who in recipients(
            rule, contact, ctx.settings.admin_emails, ctx.settings.inspection_emails, actor
        ):
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
                "subject": _subject(rule.notification_type, context),
                "context": context,
            }
    return list(rows.values())


def _subject(notification_type: str, context: Mapping[str, Any]) -> str:
    try:
        return render(notification_type, context).subject
    except NotificationRuleViolation as err:
        raise as_rule_violation(err) from err


async def _plan_emails(ctx: NotificationsContext, created: list[NotificationRow]) -> None:
    with_email = [n for n in created if n.recipient_email]
    keys = [(n.recipient_role, n.recipient_id) for n in with_email]
    prefs = await repo.load_preferences(ctx.uow.session, keys)
    rows = []
    for n in with_email:
        decided = decide_delivery(
            preferences(prefs.get((n.recipient_role, n.recipient_id))),
            Category(n.category),
            ctx.now,
        )
        if decided.kind is DeliveryKind.IN_APP_ONLY:
            continue
        digest = decided.kind is DeliveryKind.DIGEST
        rows.append(
            {
                "notification_id": n.id,
                "recipient_email": n.recipient_email,
                "state": "digest" if digest else "pending",
                "next_attempt_at": decided.send_at or ctx.now,
            }
        )
    await repo.insert_deliveries(ctx.uow.session, rows)


def preferences(row: PreferenceRow | None) -> Preferences:
    if row is None:
        return Preferences()
    quiet = None
    if row.quiet_start is not None and row.quiet_end is not None:
        quiet = QuietHours(row.quiet_start, row.quiet_end, row.time_zone)
    off = frozenset(Category(c) for c in row.email_off)
    return Preferences(email_off=off, mode=DeliveryMode(row.mode), quiet_hours=quiet)
