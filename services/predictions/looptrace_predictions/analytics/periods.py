"""Week parts: the periods of the rollups that answer a range of days.

A week part is the days of one week (Monday to Sunday) that fall in one month: a week that
crosses a month's end is two parts. Each part lies in one week and in one month, so whole
parts add up to any range of whole weeks or whole months, and a part's sums can still be
counted in its month (a scorecard's monthly snapshots). A part is named by its first day:
its week's Monday, or the 1st of its month when the month begins mid-week.

A range of days is then covered by the parts wholly inside it, plus at most six days at
each end that no whole part covers: those are read from the facts (a stage's own row), so
figures over any range equal the unaggregated ones, medians and p90s included (the stage
rollups keep exact histograms of whole overrun days, which add up; percentiles do not).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

DAY = timedelta(days=1)


def part_of(day: date) -> date:
    """The first day of the week part ``day`` is in."""
    return max(day - timedelta(days=day.weekday()), day.replace(day=1))


def part_end(first: date) -> date:
    """The last day of the week part that begins on ``first``."""
    sunday = first + timedelta(days=6 - first.weekday())
    month_end = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return min(sunday, month_end)


@dataclass(frozen=True)
class Cover:
    """A range of days as whole week parts (``parts``: the first days of the first and the
    last part, either open like the range) and the days at its ends outside them."""

    parts: tuple[date | None, date | None] | None
    days: tuple[tuple[date | None, date | None], ...]


def cover(start: date | None, end: date | None) -> Cover:
    """The whole week parts inside [start, end] (open ends: no limit) and the edge days."""
    first = start if start is None or part_of(start) == start else part_end(start) + DAY
    last = end if end is None or part_end(part_of(end)) == end else part_of(end) - DAY
    if first is not None and last is not None and first > last:
        return Cover(None, ((start, end),))
    days = []
    if start is not None and first is not None and start < first:
        days.append((start, first - DAY))
    if end is not None and last is not None and last < end:
        days.append((last + DAY, end))
    return Cover((first, None if last is None else part_of(last)), tuple(days))
