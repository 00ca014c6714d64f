"""Opening hours: the grammar (valid and invalid texts), the weekly schedule and the calendar."""

from __future__ import annotations

import datetime as dt

import pytest

from gis.errors import InputError
from gis.hours import WeeklySchedule, parse_hours, parse_hours_column
from gis.io import Column, validate_table
from gis.workdays import MainlandCalendar

M9, M12, M1330, M1730 = 540, 720, 810, 1050
WEEKDAY_SPLIT = ((M9, M12), (M1330, M1730))


def _days(text: str) -> list[tuple]:
    s = parse_hours(text)
    assert s is not None
    return [s.weekly(d) for d in range(7)]


@pytest.mark.parametrize(("text", "expected"), [
    ("周一至周五 09:00-12:00, 13:30-17:30; 周六 09:00-12:00",
     [WEEKDAY_SPLIT] * 5 + [((M9, M12),), ()]),
    ("星期一到星期五 09:00-12:00、13:30-17:30", [WEEKDAY_SPLIT] * 5 + [(), ()]),
    ("周一—周五 09:00-12:00，13:30-17:30；周六 09:00-12:00",
     [WEEKDAY_SPLIT] * 5 + [((M9, M12),), ()]),
    ("周一至周五 ０９：００－１２：００", [((M9, M12),)] * 5 + [(), ()]),
    ("周一至周五：9:00-17:30", [((M9, M1730),)] * 5 + [(), ()]),
    ("周一至周五9:00-17:30", [((M9, M1730),)] * 5 + [(), ()]),
    ("周六、周日 全天", [()] * 5 + [((0, 1440),)] * 2),
    ("每天 24小时", [((0, 1440),)] * 7),
    ("周一至周日 09:00-17:00; 周日 休息", [((M9, 1020),)] * 6 + [()]),
    ("周一至周五 09:00-17:00; 周三 闭馆", [((M9, 1020),)] * 2 + [()] + [((M9, 1020),)] * 2
     + [(), ()]),
    ("Mo-Fr 09:00-17:30; Sa 09:00-12:00; PH off", [((M9, M1730),)] * 5 + [((M9, M12),), ()]),
    ("Mo,We,Fr 08:00-12:00", [((480, M12),), (), ((480, M12),), (), ((480, M12),), (), ()]),
    ("Fr-Mo 10:00-14:00", [((600, 840),)] + [()] * 3 + [((600, 840),)] * 3),
    ("08:00-20:00", [((480, 1200),)] * 7),
    ("工作日 09:00-17:00", [((M9, 1020),)] * 5 + [(), ()]),
    ("周一至周五 09:00-12:00, 13:30-17:30 (illustrative)", [WEEKDAY_SPLIT] * 5 + [(), ()]),
    ("Mo-Su 00:00-24:00", [((0, 1440),)] * 7),
])
def test_valid_hours(text: str, expected: list[tuple]) -> None:
    """Each accepted text gives exactly the worked-out intervals per weekday (minutes)."""
    assert _days(text) == [tuple(x) for x in expected]


@pytest.mark.parametrize(("text", "match"), [
    ("周八 09:00-12:00", "expected a time range"),
    ("Mo-Fr", "days without times"),
    ("周一至周五", "days without times"),
    ("9点到5点", "expected a time range"),
    ("Mo-Fr 9-17", "expected a time range"),
    ("09:00-08:00", "ends before it starts"),
    ("Mo-Fr 22:00-02:00", "past midnight"),
    ("周一至周五 09:00-12:00, 11:00-13:00", "overlap"),
    ("Mo-Fr 25:00-26:00", "not a time of day"),
    ("Mo-Fr 09:60-10:00", "not a time of day"),
    ("09:00-12:00 周一", "days first"),
    ("周一至周五 09:00-12:00,", "ends with a separator"),
    ("Mo-Fr 09:00-12:00;; Sa 09:00-12:00", "empty rule"),
    ("周一至周一 09:00-12:00", "two different weekdays"),
    ("PH-Mo 09:00-12:00", "joins two weekdays"),
    ("周一 (上午) 09:00-12:00", "parentheses"),
    ("open sometimes", "expected a time range"),
])
def test_invalid_hours(text: str, match: str) -> None:
    """An unreadable text is an InputError naming file, row and column; nothing is guessed."""
    with pytest.raises(InputError, match=match) as info:
        parse_hours(text, file="outlets.csv", row=7, column="hours")
    (p,) = info.value.problems
    assert (p.file, p.row, p.column) == ("outlets.csv", 7, "hours")


@pytest.mark.parametrize("blank", ["", "   ", None, float("nan")])
def test_blank_hours_are_unknown(blank) -> None:
    """Blank hours mean unknown (None), not closed."""
    assert parse_hours(blank) is None


def test_column_reports_every_bad_row() -> None:
    """A column with two bad texts reports both rows and keeps the good schedules."""
    scheds, problems = parse_hours_column(["Mo-Fr 09:00-17:00", "nope", "", "Mo 9-5"],
                                          file="o.csv")
    assert [p.row for p in problems] == [2, 4]
    assert scheds[0] is not None and scheds[1] is None and scheds[2] is None


def test_table_schema_kind_hours() -> None:
    """validate_table's 'hours' kind names the row of an unreadable hours text."""
    import pandas as pd
    df = pd.DataFrame({"id": ["a", "b"], "hours": ["周一至周五 09:00-17:00", "weekdays 9 to 5"]})
    _, problems = validate_table(df, "outlets.csv", [Column("id"), Column("hours", "hours",
                                                                         required=False)])
    assert [(p.row, p.column) for p in problems] == [(2, "hours")]


def test_schedule_with_calendar() -> None:
    """Holidays close (unless PH hours are given); a make-up Saturday keeps Monday's hours."""
    s = parse_hours("周一至周五 09:00-12:00, 13:30-17:30; 周六 09:00-12:00")
    cal = MainlandCalendar(strict=True)
    assert s.open_intervals(dt.date(2026, 9, 28), cal) == list(WEEKDAY_SPLIT)  # Monday
    assert s.open_intervals(dt.date(2026, 10, 1), cal) == []  # National Day, a Thursday
    assert s.open_intervals(dt.date(2026, 10, 10), cal) == list(WEEKDAY_SPLIT)  # make-up Sat
    assert s.open_intervals(dt.date(2026, 10, 10)) == [(M9, M12)]  # no calendar: a Saturday
    assert s.closed_all_day(dt.date(2026, 10, 4), cal)  # Sunday in the holiday
    ph = parse_hours("Mo-Fr 09:00-17:00; PH 10:00-12:00")
    assert ph.open_intervals(dt.date(2026, 10, 1), cal) == [(600, 720)]


def test_is_open_edges() -> None:
    """Open at the start minute, closed at the end minute and in the lunch closure."""
    s = parse_hours("Mo-Fr 09:00-12:00, 13:30-17:30")
    mon = dt.date(2026, 12, 7)
    at = lambda h, m: dt.datetime.combine(mon, dt.time(h, m))  # noqa: E731
    assert s.is_open(at(9, 0)) and s.is_open(at(11, 59)) and s.is_open(at(13, 30))
    assert not s.is_open(at(12, 0)) and not s.is_open(at(12, 30)) and not s.is_open(at(17, 30))
    assert not s.is_open(dt.datetime(2026, 12, 6, 10, 0))  # Sunday


def test_schedule_checks_itself_and_is_frozen() -> None:
    """Overlapping or out-of-day intervals are refused; a schedule cannot be changed."""
    with pytest.raises(ValueError, match="non-overlapping"):
        WeeklySchedule([[(540, 720), (700, 800)]] + [[]] * 6)
    with pytest.raises(ValueError, match="start < end"):
        WeeklySchedule([[(0, 1500)]] + [[]] * 6)
    s = WeeklySchedule([[]] * 7)
    with pytest.raises(AttributeError):
        s.days = ()  # type: ignore[misc]


def test_round_trip_through_osm_form() -> None:
    """The OSM form of a parsed schedule parses back to the same schedule."""
    s = parse_hours("周一至周五 09:00-12:00, 13:30-17:30; 周六 09:00-12:00; 节假日 10:00-11:00")
    assert s.to_osm() == "Mo-Fr 09:00-12:00,13:30-17:30; Sa 09:00-12:00; PH 10:00-11:00"
    back = parse_hours(s.to_osm())
    assert back.days == s.days and back.holiday == s.holiday
