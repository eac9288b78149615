from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from looptrace_production.calendar import (
    CalendarWithoutWorkingDays,
    HolidayNotADate,
    WeekendDayOutOfRange,
    WorkCalendar,
)
from looptrace_production.calendar_cache import remembered

FRIDAY = date(2025, 3, 7)
SATURDAY = date(2025, 3, 8)
MONDAY = date(2025, 3, 10)


def test_default_weekend_is_saturday_and_sunday() -> None:
    calendar = WorkCalendar()
    assert calendar.next_working_day(FRIDAY) == MONDAY
    assert calendar.previous_working_day(MONDAY) == FRIDAY
    assert calendar.on_or_after(SATURDAY) == MONDAY
    assert calendar.on_or_before(SATURDAY) == FRIDAY


def test_saturday_working_factory() -> None:
    calendar = WorkCalendar.six_day_week()
    assert calendar.next_working_day(FRIDAY) == SATURDAY
    assert calendar.add_working_days(FRIDAY, 2) == MONDAY


def test_holidays_are_not_working_days() -> None:
    calendar = WorkCalendar(holidays=frozenset({MONDAY}))
    assert calendar.next_working_day(FRIDAY) == date(2025, 3, 11)
    assert calendar.working_days_between(FRIDAY, date(2025, 3, 11)) == 1


def test_add_and_subtract_working_days() -> None:
    calendar = WorkCalendar()
    assert calendar.add_working_days(FRIDAY, 1) == MONDAY
    assert calendar.add_working_days(FRIDAY, 6) == date(2025, 3, 17)
    assert calendar.subtract_working_days(MONDAY, 1) == FRIDAY
    assert calendar.add_working_days(SATURDAY, 0) == SATURDAY


def test_working_days_between_is_signed() -> None:
    calendar = WorkCalendar()
    assert calendar.working_days_between(FRIDAY, date(2025, 3, 14)) == 5
    assert calendar.working_days_between(date(2025, 3, 14), FRIDAY) == -5
    assert calendar.working_days_between(FRIDAY, SATURDAY) == 0


def test_a_week_without_working_days_is_refused() -> None:
    with pytest.raises(CalendarWithoutWorkingDays, match="at least one working weekday"):
        WorkCalendar(weekend=frozenset(range(7)))
    with pytest.raises(ValueError, match="0 \\(Monday\\) to 6"):
        WorkCalendar(weekend=frozenset({7}))


def test_a_calendar_is_parsed_from_iso_holidays() -> None:
    calendar = WorkCalendar.parse([6, 6], ["2025-03-10", "2025-03-07"])
    assert calendar == WorkCalendar.six_day_week(holidays=[MONDAY, FRIDAY])


@pytest.mark.parametrize(
    "text", ["2025-02-29", "10/03/2025", "20250310", "2025-W11-1", "２０２５-03-10"]
)
def test_holidays_must_be_iso_dates(text: str) -> None:
    with pytest.raises(HolidayNotADate, match=r"YYYY-MM-DD\): holidays\[1\] = "):
        WorkCalendar.parse([5, 6], ["2025-03-10", text])


def test_weekend_days_out_of_range_name_the_rule() -> None:
    with pytest.raises(WeekendDayOutOfRange) as refused:
        WorkCalendar.parse([-1, 6], [])
    assert refused.value.rule == "weekend_day_out_of_range"


def test_calendar_round_trips_to_a_dict() -> None:
    calendar = WorkCalendar.six_day_week(holidays=[MONDAY, FRIDAY])
    assert WorkCalendar.from_dict(calendar.to_dict()) == calendar


calendars = st.builds(
    WorkCalendar,
    weekend=st.frozensets(st.integers(0, 6), max_size=3),
    holidays=st.frozensets(st.dates(date(2025, 1, 1), date(2025, 12, 31)), max_size=20),
)


@given(calendars, st.dates(date(2025, 1, 1), date(2025, 12, 31)), st.integers(-60, 60))
def test_adding_then_counting_gives_back_the_count(
    calendar: WorkCalendar, start: date, count: int
) -> None:
    end = calendar.add_working_days(start, count)
    assert calendar.working_days_between(start, end) == count
    if count:
        assert calendar.is_working_day(end)


@given(calendars, st.dates(date(2025, 1, 1), date(2025, 12, 31)), st.integers(-60, 60))
def test_a_remembered_move_is_the_move_worked_out_again(
    calendar: WorkCalendar, start: date, count: int
) -> None:
    first = calendar.add_working_days(start, count)
    assert calendar.add_working_days(start, count) == first  # now from the memo
    fresh = WorkCalendar(calendar.weekend, calendar.holidays)  # an empty memo
    assert fresh.add_working_days(start, count) == first
    day, step = start, 1 if count > 0 else -1
    for _ in range(abs(count)):  # one working day at a time, as a person would count
        day = date.fromordinal(day.toordinal() + step)
        while not calendar.is_working_day(day):
            day = date.fromordinal(day.toordinal() + step)
    assert first == day


def test_plans_share_one_remembering_calendar_per_set_of_days() -> None:
    calendar = WorkCalendar.six_day_week(holidays=[MONDAY])
    one, two = (remembered(WorkCalendar.from_dict(calendar.to_dict())) for _ in range(2))
    assert one is two and one == calendar and calendar == one
    assert remembered(WorkCalendar(frozenset({6}), frozenset({MONDAY}))) is one
    assert remembered(WorkCalendar(frozenset({6}))) is not one
    assert remembered(one) is one and one.to_json() == calendar.to_json()


@given(start=st.dates(date(2026, 1, 1), date(2027, 12, 31)), count=st.integers(-40, 40))
def test_a_remembering_calendar_moves_as_the_plain_one(start: date, count: int) -> None:
    calendar = WorkCalendar.six_day_week(holidays=[MONDAY])
    for _ in range(2):  # worked out, then remembered
        assert remembered(calendar).add_working_days(start, count) == calendar.add_working_days(
            start, count
        )
