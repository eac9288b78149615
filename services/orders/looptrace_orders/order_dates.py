"""The window an order's target date must fall in (a named rule; configurable)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from looptrace_orders.workflow import OrderRuleViolation


class TargetDateOutOfRange(OrderRuleViolation):
    """The target date is implausibly far in the past or the future."""


@dataclass(frozen=True)
class TargetWindow:
    past_days: int = 365
    future_days: int = 3 * 365

    def check(self, target: date, today: date) -> None:
        earliest = today - timedelta(days=self.past_days)
        latest = today + timedelta(days=self.future_days)
        if not earliest <= target <= latest:
            raise TargetDateOutOfRange(
                f"target_date {target} is outside {earliest}..{latest} (today - "
                f"{self.past_days} days to today + {self.future_days} days); check the date"
            )
