"""Who hears what: notification rules, as ``rules.yaml`` writes them.

Each rule names an event type, a role, a notification type (a template pair) and a
category users can switch e-mail off for. No I/O: ``looptrace_notifications.rulebook``
reads the shipped file.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any, Final, TypeVar

import yaml

from looptrace_notifications.domain.errors import NotificationRuleViolation, allowed

_E = TypeVar("_E", bound=StrEnum)


class Role(StrEnum):
    BUYER = "buyer"
    SUPPLIER = "supplier"
    ADMIN = "admin"
    INSPECTOR = "inspector"  # the inspection company: NOTIFICATIONS_INSPECTION_EMAILS


class Category(StrEnum):
    """What a user can switch e-mail on or off for."""

    ORDER_UPDATES = "order_updates"
    PRODUCTION = "production"
    QUALITY = "quality"
    RISK = "risk"
    MESSAGES = "messages"
    ADMIN = "admin"


class RuleFileError(NotificationRuleViolation):
    """``rules.yaml`` names something that does not exist or is malformed."""


# ---------------------------------------------------------------- rules

_OPERATORS: Final = ("equals", "not_equals", "in", "rises_from", "after", "not_after")


@dataclass(frozen=True)
class Condition:
    """One test on the event's ``data``; ``field`` may be dotted (``risk.level``).

    ``equals`` / ``not_equals`` / ``in`` compare with a value. ``rises_from``,
    ``after`` and ``not_after`` compare with another field of ``data``:
    ``rises_from`` holds when ``field`` ranks higher on ``scale`` than the other
    (a missing other value ranks below the scale: a first alert at ``medium`` rises);
    ``after`` / ``not_after`` compare values of one type (ISO dates, numbers) and
    fail when either is missing. A missing field is ``None``.
    """

    field: str
    operator: str
    operand: Any
    scale: tuple[str, ...] = ()

    def holds(self, data: Mapping[str, Any]) -> bool:
        value = _lookup(data, self.field)
        if self.operator == "equals":
            return bool(value == self.operand)
        if self.operator == "not_equals":
            return bool(value != self.operand)
        if self.operator == "in":
            return value in self.operand
        other = _lookup(data, self.operand)
        if self.operator == "rises_from":
            return _rises(value, other, self.scale)
        later = _later(value, other)
        return later is (self.operator == "after")


def _rises(value: Any, before: Any, scale: tuple[str, ...]) -> bool:
    ranks = {level: rank for rank, level in enumerate(scale)}
    before_rank = -1 if before is None else ranks.get(before)
    return value in ranks and before_rank is not None and ranks[value] > before_rank


def _later(value: Any, other: Any) -> bool | None:
    """``value > other``, or ``None`` when either is missing or they don't compare."""
    if value is None or other is None:
        return None
    try:
        return bool(value > other)
    except TypeError:
        return None


def _lookup(data: Mapping[str, Any], dotted: str) -> Any:
    value: Any = data
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


@dataclass(frozen=True)
class Rule:
    """When ``event_type`` arrives and every condition holds, ``role`` hears it."""

    event_type: str
    role: Role
    notification_type: str
    category: Category
    conditions: tuple[Condition, ...] = ()

    def applies(self, event_type: str, data: Mapping[str, Any]) -> bool:
        return event_type == self.event_type and all(c.holds(data) for c in self.conditions)


@dataclass(frozen=True)
class RuleBook:
    rules: tuple[Rule, ...]

    def match(self, event_type: str, data: Mapping[str, Any]) -> list[Rule]:
        return [rule for rule in self.by_type.get(event_type, ()) if rule.applies(event_type, data)]

    @cached_property
    def by_type(self) -> dict[str, tuple[Rule, ...]]:
        """The rules of each event type, in file order (every event asks for its own)."""
        out: dict[str, list[Rule]] = {}
        for rule in self.rules:
            out.setdefault(rule.event_type, []).append(rule)
        return {t: tuple(rules) for t, rules in out.items()}

    @property
    def notification_types(self) -> frozenset[str]:
        return frozenset(rule.notification_type for rule in self.rules)


def parse_rules(text: str, templates: Collection[str]) -> RuleBook:
    """Read rules from YAML; every notification type must have both templates in ``templates``."""
    document = yaml.safe_load(text) or {}
    entries = document.get("rules") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise RuleFileError("rules file must have a top-level 'rules:' list")
    return RuleBook(tuple(_parse_rule(n, e, templates) for n, e in enumerate(entries, 1)))


def _parse_rule(number: int, entry: Any, templates: Collection[str]) -> Rule:
    where = f"rule {number} ({entry.get('event', '?') if isinstance(entry, dict) else entry!r})"
    keys = {"event", "role", "notification", "category", "when"}
    if not isinstance(entry, dict) or not {"event", "role", "notification", "category"} <= set(
        entry
    ):
        raise RuleFileError(f"{where}: needs event, role, notification and category")
    if unknown := set(entry) - keys:
        raise RuleFileError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(keys)}")
    notification = str(entry["notification"])
    missing = [
        f"{notification}.{k}.j2"
        for k in ("txt", "html")
        if f"{notification}.{k}.j2" not in templates
    ]
    if missing:
        raise RuleFileError(f"{where}: unknown template for '{notification}'; add {missing}")
    return Rule(
        event_type=str(entry["event"]),
        role=_member(Role, entry["role"], f"{where}: unknown role"),
        notification_type=notification,
        category=_member(Category, entry["category"], f"{where}: unknown category"),
        conditions=tuple(_parse_condition(where, c) for c in entry.get("when") or ()),
    )


def _member(enum: type[_E], value: Any, problem: str) -> _E:
    try:
        return enum(value)
    except ValueError:
        raise RuleFileError(f"{problem} '{value}'; allowed: {allowed(enum)}") from None


def _parse_condition(where: str, item: Any) -> Condition:
    operators = [op for op in _OPERATORS if isinstance(item, dict) and op in item]
    if not isinstance(item, dict) or "field" not in item or len(operators) != 1:
        raise RuleFileError(
            f"{where}: each 'when' item needs 'field' and one of {allowed(_OPERATORS)}; got {item!r}"
        )
    operator = operators[0]
    scale = tuple(str(s) for s in item.get("scale") or ())
    if operator == "rises_from" and len(scale) < 2:
        raise RuleFileError(f"{where}: 'rises_from' needs a 'scale' of at least two levels")
    return Condition(str(item["field"]), operator, item[operator], scale)
