"""Working-day moves remembered, one calendar per distinct set of working days.

Every re-forecast of every plan asks its calendar for the same few hundred (day, count) moves
again, and every saved plan writes its calendar. ``remembered`` gives every plan of the same
working days one ``RememberedCalendar``, which keeps both. Plans get theirs where they get a
calendar: when they are scheduled (``schedule``) and when they are read back (``plan_codec``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from looptrace_production.calendar import Calendar, WorkCalendar

MOVES_LIMIT = 50_000  # remembered moves per calendar (a few MB at most)
CALENDARS_LIMIT = 1024  # distinct calendars remembered


class RememberedCalendar:
    """A ``WorkCalendar`` that remembers the moves it worked out, and its JSON."""

    __slots__ = ("calendar", "_moves", "_json")

    def __init__(self, calendar: WorkCalendar) -> None:
        self.calendar = calendar
        self._moves: dict[tuple[date, int], date] = {}
        self._json: bytes | None = None

    @property
    def weekend(self) -> frozenset[int]:
        return self.calendar.weekend

    @property
    def holidays(self) -> frozenset[date]:
        return self.calendar.holidays

    def add_working_days(self, day: date, count: int) -> date:
        moved = self._moves.get((day, count))
        if moved is None:
            if len(self._moves) >= MOVES_LIMIT:
                self._moves.clear()
            moved = self._moves[day, count] = self.calendar.add_working_days(day, count)
        return moved

    def next_working_day(self, day: date) -> date:
        return self.add_working_days(day, 1)

    def previous_working_day(self, day: date) -> date:
        return self.add_working_days(day, -1)

    def subtract_working_days(self, day: date, count: int) -> date:
        return self.add_working_days(day, -count)

    def is_working_day(self, day: date) -> bool:
        return self.calendar.is_working_day(day)

    def on_or_after(self, day: date) -> date:
        return self.calendar.on_or_after(day)

    def on_or_before(self, day: date) -> date:
        return self.calendar.on_or_before(day)

    def working_days_between(self, start: date, end: date) -> int:
        return self.calendar.working_days_between(start, end)

    def to_dict(self) -> dict[str, Any]:
        return self.calendar.to_dict()

    def to_json(self) -> bytes:
        if self._json is None:
            self._json = self.calendar.to_json()
        return self._json

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RememberedCalendar):
            return self.calendar == other.calendar
        if isinstance(other, WorkCalendar):
            return self.calendar == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.calendar)

    def __repr__(self) -> str:
        return f"RememberedCalendar({self.calendar!r})"


_calendars: dict[WorkCalendar, RememberedCalendar] = {}


def remembered(calendar: WorkCalendar | RememberedCalendar | Calendar) -> RememberedCalendar:
    """The one remembering calendar of these working days."""
    if isinstance(calendar, RememberedCalendar):
        return calendar
    key = (
        calendar
        if isinstance(calendar, WorkCalendar)
        else WorkCalendar.from_dict(calendar.to_dict())
    )
    found = _calendars.get(key)
    if found is None:
        if len(_calendars) >= CALENDARS_LIMIT:
            _calendars.clear()
        found = _calendars[key] = RememberedCalendar(key)
    return found
