"""Mainland holidays and make-up working days from the chinesecalendar package."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from gis.workdays import (
    CalendarError,
    MainlandCalendar,
    holiday_name,
    known_years,
    next_working_day,
)

D = dt.date


def test_known_years_cover_2026() -> None:
    """The installed package knows 2026 (the year the tests below use)."""
    lo, hi = known_years()
    assert lo <= 2026 <= hi


def test_national_day_is_a_holiday() -> None:
    """2026-10-01 (a Thursday) is National Day: no working day."""
    cal = MainlandCalendar(strict=True)
    assert cal.is_holiday(D(2026, 10, 1)) and not cal.is_working_day(D(2026, 10, 1))
    assert cal.holiday_name(D(2026, 10, 1)) == "National Day"
    assert cal.holiday_name(D(2026, 10, 1), lang="zh") == "国庆节"
    assert holiday_name(D(2026, 10, 7)) == "National Day"


@pytest.mark.parametrize("day", [D(2026, 10, 10), D(2026, 9, 20), D(2026, 2, 14)])
def test_makeup_weekend_days_are_working_days(day: dt.date) -> None:
    """The published make-up days of 2026 (Sat 10-10, Sun 09-20, Sat 02-14) are working days."""
    cal = MainlandCalendar(strict=True)
    assert day.weekday() >= 5
    assert cal.is_makeup_workday(day) and cal.is_working_day(day) and not cal.is_holiday(day)


def test_ordinary_weekend_and_weekday() -> None:
    """An ordinary Sunday rests; an ordinary Monday works."""
    cal = MainlandCalendar(strict=True)
    assert not cal.is_working_day(D(2026, 12, 6)) and not cal.is_holiday(D(2026, 12, 6))
    assert cal.is_working_day(D(2026, 12, 7))


def test_next_working_day_skips_the_golden_week() -> None:
    """After 2026-09-30 the next working day is 2026-10-08 (01–07 off); a Friday → Monday."""
    assert next_working_day(D(2026, 9, 30), strict=True) == D(2026, 10, 8)
    assert next_working_day(D(2026, 12, 4), strict=True) == D(2026, 12, 7)
    assert next_working_day(D(2026, 12, 7), strict=True, include=True) == D(2026, 12, 7)
    # the Friday before the make-up Saturday 2026-10-10 is followed by that Saturday
    assert next_working_day(D(2026, 10, 9), strict=True) == D(2026, 10, 10)


def test_unpublished_year_strict_and_lenient(caplog) -> None:
    """A year past the package's data: strict raises; lenient warns and follows the week."""
    year = known_years()[1] + 1
    day = D(year, 1, 1)
    with pytest.raises(CalendarError, match="not yet published"):
        MainlandCalendar(strict=True).is_working_day(day)
    lenient = MainlandCalendar(strict=False)
    with caplog.at_level(logging.WARNING, logger="gis.workdays"):
        assert lenient.is_working_day(day) == (day.weekday() < 5)
        assert not lenient.is_holiday(day)
    assert "not yet published" in caplog.text
