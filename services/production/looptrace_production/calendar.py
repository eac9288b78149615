"""A supplier's working days: which weekdays the factory rests and its holidays.

``WorkCalendar`` is a plain value. Plans ask the same few hundred moves of their calendar on
every re-forecast; ``calendar_cache.remembered`` gives them one shared calendar per distinct
calendar that remembers them (``Calendar`` is what a plan needs of either).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

import orjson

MONDAY, SATURDAY, SUNDAY = 0, 5, 6
_ONE_DAY = timedelta(days=1)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class CalendarWithoutWorkingDays(ValueError):
    """A calendar whose weekend covers the whole week can never schedule anything."""

    rule = "calendar_without_working_days"


class WeekendDayOutOfRange(ValueError):
    rule = "weekend_day_out_of_range"


class HolidayNotADate(ValueError):
    rule = "holiday_not_a_date"


@dataclass(frozen=True)
class WorkCalendar:
    """Working days of one factory.

    ``weekend`` holds ``date.weekday()`` numbers (Monday = 0 … Sunday = 6); the default is
    Saturday and Sunday. Factories that work Saturdays use ``WorkCalendar.six_day_week()``.
    """

    weekend: frozenset[int] = frozenset({SATURDAY, SUNDAY})
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        object.__setattr__(self, "weekend", frozenset(self.weekend))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        unknown = sorted(day for day in self.weekend if day not in range(7))
        if unknown:
            raise WeekendDayOutOfRange(
                f"weekend days must be 0 (Monday) to 6 (Sunday), got {unknown}"
            )
        if len(self.weekend) == 7:
            raise CalendarWithoutWorkingDays(
                "the weekend covers all seven days; leave at least one working weekday"
            )

    @classmethod
    def parse(cls, weekend: Iterable[int], holidays: Iterable[str]) -> WorkCalendar:
        """A calendar from user input: holidays as ISO dates (``YYYY-MM-DD``), each checked."""
        return cls(weekend=frozenset(weekend), holidays=frozenset(_holidays(holidays)))

    @classmethod
    def six_day_week(cls, holidays: Iterable[date] = ()) -> WorkCalendar:
        """A factory that works Saturdays and rests on Sundays."""
        return cls(weekend=frozenset({SUNDAY}), holidays=frozenset(holidays))

    def is_working_day(self, day: date) -> bool:
        return day.weekday() not in self.weekend and day not in self.holidays

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        return self.add_working_days(day, 1)

    def previous_working_day(self, day: date) -> date:
        """The last working day strictly before ``day``."""
        return self.add_working_days(day, -1)

    def on_or_after(self, day: date) -> date:
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day

    def on_or_before(self, day: date) -> date:
        while not self.is_working_day(day):
            day -= _ONE_DAY
        return day

    def add_working_days(self, day: date, count: int) -> date:
        """Move ``count`` working days from ``day`` (backwards when ``count`` is negative).

        ``count == 0`` returns ``day`` itself, even when it is not a working day.
        """
        step = _ONE_DAY if count > 0 else -_ONE_DAY
        for _ in range(abs(count)):
            day += step
            while not self.is_working_day(day):
                day += step
        return day

    def subtract_working_days(self, day: date, count: int) -> date:
        return self.add_working_days(day, -count)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in ``(start, end]``, or minus those in ``[end, start)`` going back.

        So ``working_days_between(day, add_working_days(day, count)) == count`` for any count.
        """
        if end < start:
            return -self._count(end - _ONE_DAY, start - _ONE_DAY)
        return self._count(start, end)

    def _count(self, after: date, until: date) -> int:
        days = (until - after).days
        return sum(
            1 for offset in range(1, days + 1) if self.is_working_day(after + offset * _ONE_DAY)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "weekend": sorted(self.weekend),
            "holidays": [day.isoformat() for day in sorted(self.holidays)],
        }

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkCalendar:
        return cls(
            frozenset(int(day) for day in data["weekend"]),
            frozenset(date.fromisoformat(day) for day in data["holidays"]),
        )


class Calendar(Protocol):
    """What a plan asks of its calendar: a ``WorkCalendar`` or one that remembers its moves."""

    @property
    def weekend(self) -> frozenset[int]: ...

    @property
    def holidays(self) -> frozenset[date]: ...

    def is_working_day(self, day: date) -> bool: ...

    def add_working_days(self, day: date, count: int) -> date: ...

    def next_working_day(self, day: date) -> date: ...

    def previous_working_day(self, day: date) -> date: ...

    def subtract_working_days(self, day: date, count: int) -> date: ...

    def on_or_after(self, day: date) -> date: ...

    def on_or_before(self, day: date) -> date: ...

    def working_days_between(self, start: date, end: date) -> int: ...

    def to_dict(self) -> dict[str, Any]: ...

    def to_json(self) -> bytes: ...


def _holidays(texts: Iterable[str]) -> list[date]:
    days, bad = [], []
    for n, text in enumerate(texts):
        try:
            if not _ISO_DATE.fullmatch(text):
                raise ValueError(text)
            days.append(date.fromisoformat(text))
        except ValueError:
            bad.append(f"holidays[{n}] = {text!r}")
    if bad:
        raise HolidayNotADate(f"holidays must be ISO dates (YYYY-MM-DD): {', '.join(bad)}")
    return days
