"""Opening hours: a text such as ``周一至周五 09:00-12:00, 13:30-17:30`` → a weekly schedule.

The grammar is documented in ``docs/region-format.md`` ("Opening hours"). In short: rules
separated by ``;``, each a day part (``周一至周五``, ``星期六``, ``周六、周日``, ``工作日``,
``Mo-Fr``, ``Sa,Su``, ``PH`` …) and a time part (``09:00-12:00, 13:30-17:30``, ``全天``,
``24小时``, ``休息``, ``闭馆``, ``off``); a later rule replaces an earlier one on the days it names;
a rule without days applies to every day; ``24/7`` is always open; a trailing note in
parentheses is kept but not read. Full-width digits and punctuation are accepted. Anything else
is an input error naming the row and column: the parser never guesses.

Public holidays (from a calendar such as :class:`gis.workdays.MainlandCalendar`) are closed
unless a ``PH`` / ``节假日`` rule says otherwise; a make-up working day (调休上班) keeps the hours
of the first of Monday–Friday that has any. Blank hours are *unknown*, never "closed":
:func:`parse_hours` returns ``None`` for them.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from .errors import InputError, InputProblem

__all__ = ["WeeklySchedule", "HolidayCalendar", "parse_hours", "parse_hours_column",
           "DAY_MINUTES"]

DAY_MINUTES = 24 * 60
_EN_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_ZH_DAYS = ("一", "二", "三", "四", "五", "六", "日")


class HolidayCalendar(Protocol):
    """What a schedule asks of a holiday calendar."""

    def is_holiday(self, day: dt.date) -> bool:  # pragma: no cover - protocol
        """True on a public holiday."""

    def is_makeup_workday(self, day: dt.date) -> bool:  # pragma: no cover - protocol
        """True on a weekend day that is a working day."""


Interval = tuple[int, int]


def _fmt(m: int) -> str:
    return f"{m // 60:02d}:{m % 60:02d}"


@dataclass(frozen=True, init=False)
class WeeklySchedule:
    """Open intervals per weekday, in minutes after midnight, and on public holidays.

    Parameters
    ----------
    days
        Seven sequences (Monday first) of ``(start_min, end_min)`` intervals, ``0 <= start <
        end <= 1440``, sorted and not overlapping.
    holiday
        Intervals on public holidays; ``None`` (the default) means closed.
    text
        The text the schedule was read from (for messages).
    note
        A trailing note in parentheses, kept but not read (e.g. ``illustrative``).
    """

    days: tuple[tuple[Interval, ...], ...]
    holiday: tuple[Interval, ...] | None
    text: str
    note: str

    def __init__(self, days: Sequence[Iterable[Interval]], *,
                 holiday: Iterable[Interval] | None = None, text: str = "",
                 note: str = "") -> None:
        norm = tuple(tuple((int(a), int(b)) for a, b in d) for d in days)
        if len(norm) != 7:
            raise ValueError("Expected 7 weekdays of intervals (Monday first).")
        hol = None if holiday is None else tuple((int(a), int(b)) for a, b in holiday)
        for ivs in (*norm, *(() if hol is None else (hol,))):
            for i, (a, b) in enumerate(ivs):
                if not 0 <= a < b <= DAY_MINUTES:
                    raise ValueError(f"Expected 0 <= start < end <= 1440, got ({a}, {b}).")
                if i and ivs[i - 1][1] > a:
                    raise ValueError("Expected sorted, non-overlapping intervals.")
        object.__setattr__(self, "days", norm)
        object.__setattr__(self, "holiday", hol)
        object.__setattr__(self, "text", str(text))
        object.__setattr__(self, "note", str(note))

    def weekly(self, weekday: int) -> tuple[Interval, ...]:
        """Intervals of a weekday (0 = Monday) in an ordinary week."""
        return self.days[weekday]

    def workday(self) -> tuple[Interval, ...]:
        """Intervals of a make-up working day: the first of Monday–Friday that has any."""
        for d in self.days[:5]:
            if d:
                return d
        return ()

    def open_intervals(self, day: dt.date, calendar: HolidayCalendar | None = None
                       ) -> list[Interval]:
        """Open ``(start_min, end_min)`` intervals on ``day``.

        Parameters
        ----------
        day
            The date.
        calendar
            Public holidays and make-up working days; ``None``: the plain week.
        """
        if calendar is not None:
            if calendar.is_holiday(day):
                return list(self.holiday or ())
            if calendar.is_makeup_workday(day):
                return list(self.workday())
        return list(self.days[day.weekday()])

    def is_open(self, when: dt.datetime, calendar: HolidayCalendar | None = None) -> bool:
        """True when ``when`` (local time) falls in an open interval (start included)."""
        m = when.hour * 60 + when.minute
        return any(a <= m < b for a, b in self.open_intervals(when.date(), calendar))

    def closed_all_day(self, day: dt.date, calendar: HolidayCalendar | None = None) -> bool:
        """True when there is no open interval on ``day``."""
        return not self.open_intervals(day, calendar)

    def to_osm(self) -> str:
        """The schedule in OSM ``opening_hours`` form, e.g. ``Mo-Fr 09:00-17:30; PH off``."""
        if all(d == ((0, DAY_MINUTES),) for d in self.days) and \
                self.holiday == ((0, DAY_MINUTES),):
            return "24/7"
        parts: list[str] = []
        i = 0
        while i < 7:
            j = i
            while j + 1 < 7 and self.days[j + 1] == self.days[i]:
                j += 1
            if self.days[i]:
                span = _EN_DAYS[i] if i == j else f"{_EN_DAYS[i]}-{_EN_DAYS[j]}"
                parts.append(f"{span} " + ",".join(f"{_fmt(a)}-{_fmt(b)}"
                                                   for a, b in self.days[i]))
            i = j + 1
        hol = self.holiday
        parts.append("PH off" if not hol else "PH " + ",".join(f"{_fmt(a)}-{_fmt(b)}"
                                                               for a, b in hol))
        return "; ".join(parts)

    def __str__(self) -> str:
        return self.to_osm()


# --- parsing ------------------------------------------------------------------------------

_DAY_WORD = (r"(?:周|星期|礼拜)[一二三四五六日天七]|Mo|Tu|We|Th|Fr|Sa|Su|PH|法定节假日|节假日|"
             r"工作日|周末|每天|每日|全周")
_DAY_RE = re.compile(_DAY_WORD)
_DASH = r"\s*(?:-|—|–|~|至|到)\s*"
_DAY_ITEM = re.compile(rf"({_DAY_WORD})(?:{_DASH}({_DAY_WORD}))?")
_DAY_SEP = re.compile(r"\s*(?:,|、|和|/)\s*")
_TIME = r"(\d{1,2}):(\d{2})"
_RANGE = re.compile(rf"{_TIME}{_DASH}{_TIME}")
_TIME_SEP = re.compile(r"\s*(?:,|、|和)\s*|\s+")
_CLOSED = re.compile(r"(?:off|closed|休息|闭馆|不开放|不办公|关闭)", re.IGNORECASE)
_ALLDAY = re.compile(r"(?:全天|24小时|24h|00:00-24:00)", re.IGNORECASE)
_NOTE = re.compile(r"\s*\(([^()]*)\)\s*$")
_GROUPS = {"工作日": (0, 1, 2, 3, 4), "周末": (5, 6), "每天": tuple(range(7)),
           "每日": tuple(range(7)), "全周": tuple(range(7))}


class _Bad(ValueError):
    """A parse failure with the message shown to the user."""


def _day_index(word: str) -> int:
    if word in _EN_DAYS:
        return _EN_DAYS.index(word)
    ch = word[-1]
    if ch in ("天", "七"):
        return 6
    return _ZH_DAYS.index(ch)


def _is_ph(word: str) -> bool:
    return word in ("PH", "法定节假日", "节假日")


def _days_of(item: re.Match) -> tuple[set[int], bool]:
    """Weekdays and whether public holidays are named by one day item (``周一至周五``)."""
    a, b = item.group(1), item.group(2)
    if b is None:
        if _is_ph(a):
            return set(), True
        if a in _GROUPS:
            return set(_GROUPS[a]), False
        return {_day_index(a)}, False
    if _is_ph(a) or _is_ph(b) or a in _GROUPS or b in _GROUPS:
        raise _Bad(f"{item.group(0)!r}: a range joins two weekdays (such as 周一至周五 or Mo-Fr)")
    i, j = _day_index(a), _day_index(b)
    if i == j:
        raise _Bad(f"{item.group(0)!r}: a range needs two different weekdays")
    span = range(i, j + 1) if i < j else [*range(i, 7), *range(0, j + 1)]  # Fr-Mo wraps
    return set(span), False


def _minutes(h: str, m: str, *, end: bool) -> int:
    hh, mm = int(h), int(m)
    if mm > 59 or hh > 24 or (hh == 24 and (mm or not end)):
        raise _Bad(f"{h}:{m} is not a time of day (00:00–23:59, or 24:00 as an end)")
    return hh * 60 + mm


def _times(text: str) -> tuple[Interval, ...]:
    """``09:00-12:00, 13:30-17:30`` / ``全天`` / ``休息`` → intervals (empty when closed)."""
    s = text.strip()
    if not s:
        raise _Bad("days without times: expected times such as 09:00-17:30, 全天 or 休息")
    if _CLOSED.fullmatch(s):
        return ()
    if _ALLDAY.fullmatch(s):
        return ((0, DAY_MINUTES),)
    out: list[Interval] = []
    pos = 0
    while pos < len(s):
        m = _RANGE.match(s, pos)
        if m is None:
            raise _Bad(f"cannot read {s[pos:]!r}: expected a time range such as 09:00-12:00")
        a = _minutes(m.group(1), m.group(2), end=False)
        b = _minutes(m.group(3), m.group(4), end=True)
        if b <= a:
            raise _Bad(f"{m.group(0)!r} ends before it starts (a range past midnight is not "
                       "supported: split it over two days)")
        out.append((a, b))
        pos = m.end()
        sep = _TIME_SEP.match(s, pos)
        if sep is not None and sep.end() > pos:
            pos = sep.end()
            if pos >= len(s):
                raise _Bad(f"{s!r} ends with a separator")
    out.sort()
    for (a0, b0), (a1, _) in itertools.pairwise(out):
        if a1 < b0:
            raise _Bad(f"{_fmt(a0)}-{_fmt(b0)} and the range from {_fmt(a1)} overlap")
    return tuple(out)


def _rule(text: str) -> tuple[set[int] | None, bool, tuple[Interval, ...]]:
    """One rule → (weekdays or ``None`` for every day, names public holidays, intervals)."""
    s = text.strip()
    days: set[int] = set()
    ph = False
    pos = 0
    named = False
    while True:
        m = _DAY_ITEM.match(s, pos)
        if m is None:
            break
        d, p = _days_of(m)
        days |= d
        ph = ph or p
        named = True
        pos = m.end()
        sep = _DAY_SEP.match(s, pos)
        if sep is not None and _DAY_ITEM.match(s, sep.end()):
            pos = sep.end()
            continue
        break
    if named:
        rest = s[pos:].lstrip(" \t:,")
    else:
        rest = s
        if _DAY_RE.search(s):
            raise _Bad(f"cannot read {s!r}: put the days first, then the times")
    return (days if named else None), ph, _times(rest)


def _normalise(text: str) -> str:
    s = unicodedata.normalize("NFKC", str(text)).strip()
    s = s.replace("\n", ";").replace("|", ";")
    return re.sub(r"\s+", " ", s)


def _parse(text: str) -> WeeklySchedule:
    s = _normalise(text)
    note = ""
    m = _NOTE.search(s)
    if m is not None:
        note, s = m.group(1).strip(), s[:m.start()].strip()
    if "(" in s or ")" in s:
        raise _Bad("a note in parentheses may only stand at the end")
    if s == "24/7":
        full = ((0, DAY_MINUTES),)
        return WeeklySchedule([full] * 7, holiday=full, text=text, note=note)
    rules = [r for r in s.split(";")]
    if not any(r.strip() for r in rules):
        raise _Bad("no rules: expected days and times such as 周一至周五 09:00-17:30")
    days: list[tuple[Interval, ...]] = [()] * 7
    holiday: tuple[Interval, ...] | None = None
    for r in rules:
        if not r.strip():
            raise _Bad("an empty rule between two ';'")
        wd, ph, ivs = _rule(r)
        for d in range(7) if wd is None else sorted(wd):
            days[d] = ivs
        if ph:
            holiday = ivs
    return WeeklySchedule(days, holiday=holiday, text=text, note=note)


def parse_hours(text: object, *, file: str = "hours", row: int | None = None,
                column: str = "hours") -> WeeklySchedule | None:
    """Read one opening-hours text (see the module docstring for the grammar).

    Parameters
    ----------
    text
        The text; blank (``""``, whitespace, ``None``, NaN) means unknown hours.
    file, row, column
        Where the text came from, named in the error.

    Returns
    -------
    WeeklySchedule or None
        ``None`` for unknown (blank) hours.

    Raises
    ------
    InputError
        With one :class:`~gis.errors.InputProblem` naming file, row and column.
    """
    if text is None or (isinstance(text, float) and text != text) or not str(text).strip():
        return None
    try:
        return _parse(str(text))
    except _Bad as exc:
        raise InputError(InputProblem(file, row, column, f"opening hours {str(text)!r}: {exc} "
                                      "(see docs/region-format.md, 'Opening hours')")) from None


def parse_hours_column(values: Iterable[object], *, file: str = "hours",
                       column: str = "hours") -> tuple[list[WeeklySchedule | None],
                                                       list[InputProblem]]:
    """Read a column of hours texts; rows are 1-based data rows.

    Returns
    -------
    tuple
        One schedule (or ``None`` for blank or unreadable text) per value, and every problem.
    """
    out: list[WeeklySchedule | None] = []
    problems: list[InputProblem] = []
    for i, v in enumerate(values, start=1):
        try:
            out.append(parse_hours(v, file=file, row=i, column=column))
        except InputError as exc:
            problems += exc.problems
            out.append(None)
    return out, problems
