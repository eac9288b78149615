"""Rendering e-mails: each notification type has a ``<type>.txt.j2`` and a
``<type>.html.j2`` template; a text template's first line is the subject, the rest is
the body. Also the daily digest. No I/O except reading the package's templates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any, Final, NamedTuple
from urllib.parse import quote

import jinja2

from looptrace_notifications.domain.errors import NotificationRuleViolation, allowed

TEMPLATES_DIR: Final = Path(__file__).parent / "templates"


class TemplateMissing(NotificationRuleViolation):
    """No template for a notification type."""


class TemplateValueMissing(NotificationRuleViolation):
    """A template needs a value the context does not have."""


class EmptyDigest(NotificationRuleViolation):
    """A digest was asked for with nothing in it."""


def available_templates() -> frozenset[str]:
    return frozenset(_environment().list_templates(extensions=["j2"]))


# ---------------------------------------------------------------- rendering


class Rendered(NamedTuple):
    subject: str
    text: str
    html: str


def timeline_url(base_url: str, order_id: str) -> str:
    """The order's timeline resource in production (``base_url``: its public URL)."""
    return f"{base_url.rstrip('/')}/v1/orders/{quote(order_id, safe='')}/timeline"


def order_link(timeline_base_url: str, console_base_url: str, order_id: str) -> str:
    """Where an e-mail about ``order_id`` points: the console's order page when there is a
    console (``CONSOLE_BASE_URL``), else production's timeline resource."""
    if console_base_url:
        return f"{console_base_url.rstrip('/')}/orders/{quote(order_id, safe='')}"
    return timeline_url(timeline_base_url, order_id)


def _day(value: object) -> str:
    """``12 Mar 2025`` for dates, datetimes and ISO strings; anything else as is."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10]).strftime("%d %b %Y")
        except ValueError:
            return value
    return value.strftime("%d %b %Y") if isinstance(value, date) else str(value)


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["day"] = _day
    return env


def _render_one(name: str, context: Mapping[str, Any]) -> str:
    env = _environment()
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateNotFound:
        known = sorted({t.split(".")[0] for t in available_templates() if not t.startswith("_")})
        raise TemplateMissing(f"no template '{name}'; known types: {allowed(known)}") from None
    except jinja2.UndefinedError as error:
        raise TemplateValueMissing(
            f"template '{name}' needs a value the context lacks ({error.message}); "
            f"context has: {allowed(sorted(context))}"
        ) from None


def _split_subject(text: str) -> tuple[str, str]:
    subject, _, body = text.partition("\n")
    return subject.strip(), body.lstrip("\n")


def inspection_title(data: Mapping[str, Any]) -> str:
    """Which inspection, e.g. 'Final inspection at stage 9 (Final Inspection)'."""
    kind = data.get("inspection_kind")
    title = f"{str(kind).replace('_', ' ').capitalize()} inspection" if kind else "Inspection"
    if data.get("stage_number") is not None:
        title += f" at stage {data['stage_number']}"
        if data.get("stage_name"):
            title += f" ({data['stage_name']})"
    return title


def inspection_lot(data: Mapping[str, Any]) -> str:
    """The lot, e.g. 'lot of 500 pieces, re-inspection (round 2)'."""
    parts = [f"lot of {data['lot_size']} pieces"] if data.get("lot_size") else []
    if (data.get("round") or 1) > 1:
        parts.append(f"re-inspection (round {data['round']})")
    return ", ".join(parts) or "the order's lot"


def _with_derived(context: Mapping[str, Any]) -> dict[str, Any]:
    """Add ``timeline_url`` (from ``base_url`` + ``order_id``), ``buyer_name`` /
    ``supplier_name`` (from the events' ``buyer`` / ``supplier`` parties) when absent, and
    which inspection an inspection result is about (``inspection_title``, ``inspection_lot``)."""
    ctx = dict(context)
    ctx.setdefault("inspection_title", inspection_title(ctx))
    ctx.setdefault("inspection_lot", inspection_lot(ctx))
    if "timeline_url" not in ctx and "base_url" in ctx and "order_id" in ctx:
        ctx["timeline_url"] = timeline_url(str(ctx["base_url"]), str(ctx["order_id"]))
    for party in ("buyer", "supplier"):
        if f"{party}_name" not in ctx and isinstance(ctx.get(party), Mapping):
            ctx[f"{party}_name"] = ctx[party].get("name")
    return ctx


def render(notification_type: str, context: Mapping[str, Any]) -> Rendered:
    """Subject, text and HTML for one notification. The context is the event's data
    plus ``recipient_name`` and ``timeline_url`` (or ``base_url``); see ``_with_derived``."""
    ctx = _with_derived(context)
    subject, text = _split_subject(_render_one(f"{notification_type}.txt.j2", ctx))
    return Rendered(subject, text, _render_one(f"{notification_type}.html.j2", ctx))


# ---------------------------------------------------------------- digest


@dataclass(frozen=True)
class DigestItem:
    """One notification held back for the digest; ``at`` is when it happened (aware)."""

    order_number: str
    subject: str
    timeline_url: str
    at: datetime


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def build_digest(items: Sequence[DigestItem]) -> Rendered:
    """One e-mail for many notifications, grouped by order, oldest first."""
    if not items:
        raise EmptyDigest("a digest needs at least one notification; skip sending instead")
    groups: dict[str, list[DigestItem]] = {}
    for item in sorted(items, key=lambda i: i.at):
        utc_item = replace(item, at=item.at.astimezone(UTC))
        groups.setdefault(item.order_number, []).append(utc_item)
    summary = f"{_plural(len(items), 'update')} on {_plural(len(groups), 'order')}"
    context = {"summary": summary, "groups": groups}
    subject, text = _split_subject(_render_one("digest.txt.j2", context))
    return Rendered(subject, text, _render_one("digest.html.j2", context))
