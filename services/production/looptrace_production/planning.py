"""What the production service plans with, loaded once per process."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from looptrace_production.calendar import WorkCalendar
from looptrace_production.config import ProductionSettings
from looptrace_production.plan_cache import PlanCache
from looptrace_production.templates import Template


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Planning:
    """What scheduling needs, loaded once per process.

    ``calendar`` is the default for suppliers that have not stored their own; ``plans`` keeps
    the decoded plans the consumer committed, so the next batch need not decode them again.
    """

    settings: ProductionSettings
    templates: dict[str, Template]
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    now: Callable[[], datetime] = utcnow
    plans: PlanCache = field(default_factory=PlanCache)  # committed plans, between batches

    @functools.cached_property
    def clock_skew(self) -> timedelta:
        return self.settings.clock_skew
