"""Time limits in calendar time or in working time.

The working calendar is configurable: working periods of a day (default 09:00-12:00 and 14:00-18:00, the
usual Chinese office hours), working weekdays (Monday to Friday) and exceptions by date (public holidays,
and weekend days worked in exchange, 调休), all in the district's local time (UTC+8, no daylight saving).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

WARN_SHARE = 0.8  # a warning at 80% of the time limit, a breach at 100%


def _parse_periods(text: str) -> tuple[tuple[time, time], ...]:
    periods = []
    for part in text.split(","):
        start, end = part.strip().split("-")
        a, b = time.fromisoformat(start), time.fromisoformat(end)
        if b <= a:
            raise ValueError(f"working period {part!r} ends before it starts")
        periods.append((a, b))
    return tuple(sorted(periods))


@dataclass(frozen=True)
class WorkingCalendar:
    periods: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(14), time(18)))
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)  # weekend days worked (调休)
    utc_offset_hours: int = 8

    @classmethod
    def from_settings(
        cls,
        periods: str,
        weekdays: str,
        exceptions: Iterable[tuple[date, str]] = (),
        utc_offset_hours: int = 8,
    ) -> WorkingCalendar:
        days = set()
        for part in weekdays.split(","):
            if "-" in part:
                a, b = part.split("-")
                days |= set(range(int(a) - 1, int(b)))
            else:
                days.add(int(part) - 1)
        holidays = frozenset(d for d, kind in exceptions if kind == "holiday")
        workdays = frozenset(d for d, kind in exceptions if kind == "workday")
        return cls(_parse_periods(periods), frozenset(days), holidays, workdays, utc_offset_hours)

    @property
    def tz(self) -> timezone:
        return timezone(timedelta(hours=self.utc_offset_hours))

    def is_working_day(self, day: date) -> bool:
        if day in self.holidays:
            return False
        return day in self.workdays or day.weekday() in self.weekdays

    def intervals_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals (local time) from ``start`` on, the first one clipped to start."""
        local = start.astimezone(self.tz)
        day = local.date()
        for _ in range(3660):  # ten years: a calendar with no working time at all must not loop forever
            if self.is_working_day(day):
                for a, b in self.periods:
                    s = datetime.combine(day, a, self.tz)
                    e = datetime.combine(day, b, self.tz)
                    if e <= local:
                        continue
                    yield max(s, local), e
            day += timedelta(days=1)
        raise ValueError("the working calendar has no working time in ten years")

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of working time after ``start``."""
        left = duration
        if left <= timedelta(0):
            return start
        for s, e in self.intervals_from(start):
            span = e - s
            if span >= left:
                return (s + left).astimezone(start.tzinfo)
            left -= span
        raise AssertionError("unreachable")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time between two moments (zero if end is before start)."""
        total = timedelta(0)
        if end <= start:
            return total
        for s, e in self.intervals_from(start):
            if s >= end:
                break
            total += min(e, end) - s
        return total


def add_time(calendar: WorkingCalendar, mode: str, start: datetime, duration: timedelta) -> datetime:
    """``start`` plus a duration counted on the calendar or in working time."""
    return start + duration if mode == "calendar" else calendar.add(start, duration)


def time_between(calendar: WorkingCalendar, mode: str, start: datetime, end: datetime) -> timedelta:
    if mode == "calendar":
        return max(end - start, timedelta(0))
    return calendar.between(start, end)


@dataclass(frozen=True)
class Deadlines:
    accept_due: datetime
    resolve_warn: datetime
    resolve_due: datetime


def deadlines(
    calendar: WorkingCalendar, mode: str, start: datetime, accept_minutes: float, resolve_hours: float
) -> Deadlines:
    limit = timedelta(hours=resolve_hours)
    return Deadlines(
        accept_due=add_time(calendar, mode, start, timedelta(minutes=accept_minutes)),
        resolve_warn=add_time(calendar, mode, start, limit * WARN_SHARE),
        resolve_due=add_time(calendar, mode, start, limit),
    )
