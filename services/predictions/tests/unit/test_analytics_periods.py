"""Week parts and the cover of a range of days, worked out on the calendar of 2026.

February 2026 begins on a Sunday and March on a Sunday: the week of Monday 2026-01-26 has
two parts (01-26..01-31 and 02-01), the week of Monday 02-23 two (02-23..02-28, 03-01).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from looptrace_predictions.analytics.periods import Cover, cover, part_end, part_of

D = date.fromisoformat


@pytest.mark.parametrize(
    ("day", "first", "last"),
    [
        ("2026-02-10", "2026-02-09", "2026-02-15"),  # a Tuesday: its week's Monday to Sunday
        ("2026-01-31", "2026-01-26", "2026-01-31"),  # a Saturday: the week's part in January
        ("2026-02-01", "2026-02-01", "2026-02-01"),  # the Sunday that begins February
        ("2026-03-01", "2026-03-01", "2026-03-01"),  # the Sunday that begins March
        ("2026-03-02", "2026-03-02", "2026-03-08"),
        ("2026-12-31", "2026-12-28", "2026-12-31"),  # a Thursday: the year's last part
    ],
)
def test_a_day_s_week_part(day: str, first: str, last: str) -> None:
    assert part_of(D(day)) == D(first)
    assert part_end(D(first)) == D(last)


def test_week_parts_tile_the_calendar_and_each_lies_in_one_week_and_one_month() -> None:
    day, seen = D("2025-12-01"), 0
    while day < D("2027-02-01"):
        end = part_end(day)
        assert part_of(day) == day and part_of(end) == day
        assert (end.year, end.month) == (day.year, day.month)
        assert end - day <= timedelta(days=6) and end.weekday() >= day.weekday()
        day, seen = end + timedelta(days=1), seen + 1
    # 61 Mondays (2025-12-01 + 7k up to 2027-01-25); of the 14 months only 2025-12 and
    # 2026-06 begin on a Monday: 12 more parts begin on a month's 1st
    assert seen == 61 + 12


def test_a_range_is_its_whole_parts_and_the_days_at_its_ends() -> None:
    # Tuesday 02-10 to Friday 03-20: 02-10..02-15 and 03-16..03-20 are parts of weeks the
    # range does not hold whole; the parts from 02-16 to the one beginning 03-09 are inside
    assert cover(D("2026-02-10"), D("2026-03-20")) == Cover(
        (D("2026-02-16"), D("2026-03-09")),
        ((D("2026-02-10"), D("2026-02-15")), (D("2026-03-16"), D("2026-03-20"))),
    )
    # a month's end is a part's end: 01-26..02-01 is two whole parts, no edge days
    assert cover(D("2026-01-26"), D("2026-02-01")) == Cover((D("2026-01-26"), D("2026-02-01")), ())
    # within one week: days only
    assert cover(D("2026-02-10"), D("2026-02-12")) == Cover(
        None, ((D("2026-02-10"), D("2026-02-12")),)
    )
    # open ends stay open
    assert cover(None, D("2026-02-11")) == Cover(
        (None, D("2026-02-02")), ((D("2026-02-09"), D("2026-02-11")),)
    )
    assert cover(D("2026-02-11"), None) == Cover(
        (D("2026-02-16"), None), ((D("2026-02-11"), D("2026-02-15")),)
    )
    assert cover(None, None) == Cover((None, None), ())


def test_every_day_of_a_range_is_covered_once() -> None:
    start = D("2026-01-20")
    for length in range(0, 50, 3):
        for shift in range(9):
            a = start + timedelta(days=shift)
            b = a + timedelta(days=length)
            c = cover(a, b)
            days = [d for lo, hi in c.days for d in _days(lo, hi)]
            if c.parts is not None:
                first, last = c.parts
                assert first is not None and last is not None
                days += _days(first, part_end(last))
            assert sorted(days) == _days(a, b)


def _days(a: date | None, b: date | None) -> list[date]:
    assert a is not None and b is not None
    return [a + timedelta(days=i) for i in range((b - a).days + 1)]
