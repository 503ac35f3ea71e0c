"""When a group SOP step falls due for one group: pure functions of the step, the plan's
time zone and the group's anchors, so schedules are tested without a database or a clock.

A step is one of:
- `after_created` / `after_enrolled`: `day_offset` days after the local date (in the
  plan's time zone) the group was created / joined the plan, at `time` (HH:MM local);
  day 0 is the anchor's own date. One occurrence, keyed "once".
- `at`: once, at an absolute moment. Keyed "once".
- `every`: every day, or every <weekday>, at `time` local; one occurrence per local date,
  keyed by that date ("2026-11-23"), so moving the step's time never makes a second one.

Local times are turned into UTC with zoneinfo's rules: a time that does not exist (the
hour skipped when clocks go forward) falls after the gap (02:30 → 03:30), and a time
that happens twice (clocks go back) is the first of the two.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from models.sop import SopStep, StepSchedule

__all__ = ["Occurrence", "occurrences", "ONCE", "WEEKDAYS", "EVERY_CHOICES", "parse_hhmm",
           "local_moment"]

ONCE = "once"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EVERY_CHOICES = ("day", *WEEKDAYS)
HHMM_PATTERN = "([01][0-9]|2[0-3]):([0-5][0-9])"
_HHMM = re.compile(HHMM_PATTERN)


@dataclass(frozen=True)
class Occurrence:
    key: str  # ONCE, or the local date "YYYY-MM-DD" of an `every` step
    due_at: datetime  # timezone-aware, UTC


def parse_hhmm(text: str) -> time:
    """"HH:MM" (00:00-23:59) as a time; ValueError otherwise."""
    match = _HHMM.fullmatch(text)
    if match is None:
        raise ValueError(f"not a HH:MM time: {text!r}")
    return time(int(match[1]), int(match[2]))


def local_moment(day: date, at: time, tz: ZoneInfo) -> datetime:
    """`day` at `at` on the wall clocks of `tz`, as a UTC datetime."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def _local_days(start: datetime, end: datetime, tz: ZoneInfo) -> Iterator[date]:
    day, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


def _candidates(step: SopStep, tz: ZoneInfo, group_created_at: datetime,
                enrolled_at: datetime, start: datetime, end: datetime) -> Iterator[Occurrence]:
    if step.schedule == StepSchedule.AT:
        if step.at is not None:
            yield Occurrence(ONCE, step.at.astimezone(UTC))
        return
    at = parse_hhmm(step.time)
    if step.schedule == StepSchedule.EVERY:
        weekday = None if step.every == "day" else WEEKDAYS.index(step.every)
        for day in _local_days(start, end, tz):
            if weekday is None or day.weekday() == weekday:
                yield Occurrence(day.isoformat(), local_moment(day, at, tz))
        return
    anchor = group_created_at if step.schedule == StepSchedule.AFTER_CREATED else enrolled_at
    day = anchor.astimezone(tz).date() + timedelta(days=step.day_offset or 0)
    yield Occurrence(ONCE, local_moment(day, at, tz))


def occurrences(step: SopStep, tz: ZoneInfo, group_created_at: datetime,
                enrolled_at: datetime, start: datetime, end: datetime) -> list[Occurrence]:
    """The step's occurrences for one group due in (start, end], none before enrolled_at
    (a group is not sent what fell due before it joined the plan), oldest first. A
    retired step has none."""
    if step.retired_at is not None:
        return []
    return [o for o in _candidates(step, tz, group_created_at, enrolled_at, start, end)
            if start < o.due_at <= end and o.due_at >= enrolled_at]
