"""Mainland China's working-day calendar: public holidays and make-up working days (调休).

The dates come from the maintained ``chinesecalendar`` package (import name
``chinese_calendar``), which publishes each year once the State Council announces it, usually in
November of the year before. A date in a year the package does not know yet is either an error
(``strict=True``: :class:`CalendarError`) or treated as "holidays not yet published"
(``strict=False``: weekdays work, weekends rest, and a warning says so once per year).
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import lru_cache

import chinese_calendar as _cc
from chinese_calendar import constants as _const

from .errors import BianminError

__all__ = ["CalendarError", "MainlandCalendar", "known_years", "is_working_day",
           "next_working_day", "holiday_name", "HOLIDAY_NAMES_ZH"]

log = logging.getLogger(__name__)

#: Chinese names of the holidays the package names in English.
HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


class CalendarError(BianminError, ValueError):
    """A date the holiday calendar cannot answer for (its year is not published yet)."""


@lru_cache(maxsize=1)
def known_years() -> tuple[int, int]:
    """First and last year the installed ``chinesecalendar`` knows."""
    years = {d.year for d in _const.holidays} | {d.year for d in _const.workdays}
    return min(years), max(years)


def _package_version() -> str:
    return str(getattr(_cc, "__version__", "?"))


class MainlandCalendar:
    """Public holidays and make-up working days of mainland China.

    Parameters
    ----------
    strict
        ``True``: a date outside the package's known years raises :class:`CalendarError`.
        ``False``: such a date follows the plain week (Monday–Friday work) and a warning
        "holidays not yet published" is logged once per year.
    """

    def __init__(self, *, strict: bool = False) -> None:
        self.strict = bool(strict)
        self._warned: set[int] = set()

    def __repr__(self) -> str:
        return f"MainlandCalendar(strict={self.strict})"

    def published(self, day: dt.date) -> bool:
        """True when the package knows the holidays of ``day``'s year."""
        lo, hi = known_years()
        return lo <= day.year <= hi

    def _known(self, day: dt.date) -> bool:
        if self.published(day):
            return True
        lo, hi = known_years()
        msg = (f"holidays for {day.year} not yet published: chinesecalendar "
               f"{_package_version()} knows {lo}–{hi}; update the package")
        if self.strict:
            raise CalendarError(f"{day.isoformat()}: {msg}")
        if day.year not in self._warned:
            self._warned.add(day.year)
            log.warning("%s; %d follows the plain week (Monday–Friday work)", msg, day.year)
        return False

    def is_holiday(self, day: dt.date) -> bool:
        """True on a public holiday (法定节假日 and the days off around it), not on weekends."""
        if not self._known(day):
            return False
        return day in _const.holidays

    def is_makeup_workday(self, day: dt.date) -> bool:
        """True on a Saturday or Sunday that is a working day (调休上班)."""
        if not self._known(day):
            return False
        return day in _const.workdays

    def is_working_day(self, day: dt.date) -> bool:
        """True on a working day: Monday–Friday that is no holiday, or a make-up day."""
        if not self._known(day):
            return day.weekday() < 5
        return bool(_cc.is_workday(day))

    def next_working_day(self, day: dt.date, *, include: bool = False) -> dt.date:
        """The first working day after ``day`` (or from ``day`` on with ``include``)."""
        d = day if include else day + dt.timedelta(days=1)
        for _ in range(60):  # the longest run of days off is well under 60
            if self.is_working_day(d):
                return d
            d += dt.timedelta(days=1)
        raise CalendarError(f"no working day within 60 days after {day.isoformat()}")

    def holiday_name(self, day: dt.date, *, lang: str = "en") -> str | None:
        """Name of the holiday ``day`` belongs to (also on its make-up days), else ``None``."""
        if not self._known(day):
            return None
        on, name = _cc.get_holiday_detail(day)
        if name is None:
            return None
        del on
        return HOLIDAY_NAMES_ZH.get(name, name) if lang == "zh" else str(name)


_DEFAULT = MainlandCalendar(strict=False)


def is_working_day(day: dt.date, *, strict: bool = False) -> bool:
    """Working day in mainland China (see :class:`MainlandCalendar`)."""
    return MainlandCalendar(strict=True).is_working_day(day) if strict else \
        _DEFAULT.is_working_day(day)


def next_working_day(day: dt.date, *, strict: bool = False, include: bool = False) -> dt.date:
    """First working day after ``day`` (see :meth:`MainlandCalendar.next_working_day`)."""
    cal = MainlandCalendar(strict=True) if strict else _DEFAULT
    return cal.next_working_day(day, include=include)


def holiday_name(day: dt.date, *, lang: str = "en", strict: bool = False) -> str | None:
    """Holiday name of ``day`` or ``None`` (see :meth:`MainlandCalendar.holiday_name`)."""
    cal = MainlandCalendar(strict=True) if strict else _DEFAULT
    return cal.holiday_name(day, lang=lang)
