"""The refusals of notifications' rules; each message tells the user what to fix."""

from __future__ import annotations

from collections.abc import Iterable


class NotificationRuleViolation(ValueError):
    """Base of every notifications rule; the message tells the user what to fix."""


def allowed(values: Iterable[str]) -> str:
    return ", ".join(values)
