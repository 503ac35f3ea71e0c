"""When SOP steps fall due: the pure schedule functions, in a zone without DST
(Asia/Shanghai) and one with it (Europe/Berlin)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from handlers.sop_schedule import Occurrence, occurrences, parse_hhmm
from models.sop import SopStep, StepSchedule

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def step(schedule: StepSchedule, **fields: Any) -> SopStep:
    return SopStep(schedule=schedule, **fields)


def due(s: SopStep, tz: ZoneInfo, start: datetime, end: datetime, *,
        created: datetime | None = None, enrolled: datetime | None = None) -> list[Occurrence]:
    created = created or start
    return occurrences(s, tz, created, enrolled or created, start, end)


def test_day_zero_is_the_local_date_the_group_was_created() -> None:
    created = utc(2026, 11, 23, 1, 0)  # 09:00 in Shanghai
    s = step(StepSchedule.AFTER_CREATED, day_offset=0, time="10:00")
    assert due(s, SHANGHAI, created, created + timedelta(days=30)) == [
        Occurrence("once", utc(2026, 11, 23, 2, 0))]


def test_the_anchor_date_is_local_not_utc() -> None:
    # 20:00 UTC on the 22nd is 04:00 on the 23rd in Shanghai: day 1 is the 24th.
    created = utc(2026, 11, 22, 20, 0)
    s = step(StepSchedule.AFTER_CREATED, day_offset=1, time="09:30")
    assert due(s, SHANGHAI, created, created + timedelta(days=5)) == [
        Occurrence("once", utc(2026, 11, 24, 1, 30))]


def test_nothing_before_enrolment() -> None:
    created = utc(2026, 11, 1, 2, 0)
    s = step(StepSchedule.AFTER_CREATED, day_offset=3, time="10:00")  # Nov 4, 02:00Z
    window = (utc(2026, 11, 1), utc(2026, 12, 1))
    assert due(s, SHANGHAI, *window, created=created, enrolled=utc(2026, 11, 4, 2, 0))
    # The plan came later than the step's day: the group never gets it.
    assert due(s, SHANGHAI, *window, created=created, enrolled=utc(2026, 11, 4, 2, 1)) == []
    # A step due before the group was created (day 0, earlier hour) is not its either.
    early = step(StepSchedule.AFTER_CREATED, day_offset=0, time="08:00")
    assert due(early, SHANGHAI, *window, created=created) == []


def test_after_enrolled_counts_from_the_enrolment() -> None:
    s = step(StepSchedule.AFTER_ENROLLED, day_offset=2, time="20:00")
    found = due(s, SHANGHAI, utc(2026, 1, 1), utc(2027, 1, 1), created=utc(2026, 1, 1),
                enrolled=utc(2026, 6, 10, 3, 0))
    assert found == [Occurrence("once", utc(2026, 6, 12, 12, 0))]


def test_the_window_is_open_at_start_and_closed_at_end() -> None:
    s = step(StepSchedule.AT, at=utc(2026, 11, 23, 2, 0))
    moment = utc(2026, 11, 23, 2, 0)
    anchor = utc(2026, 1, 1)
    assert due(s, SHANGHAI, moment - timedelta(hours=1), moment, created=anchor) == [
        Occurrence("once", moment)]
    assert due(s, SHANGHAI, moment, moment + timedelta(hours=1), created=anchor) == []


def test_every_day_is_keyed_by_local_date() -> None:
    s = step(StepSchedule.EVERY, every="day", time="07:00")  # 23:00 UTC the day before
    start = utc(2026, 11, 23, 0, 0)  # 08:00 local on the 23rd: that day's 07:00 is past
    found = due(s, SHANGHAI, start, start + timedelta(days=3), created=utc(2026, 1, 1))
    assert found == [Occurrence("2026-11-24", utc(2026, 11, 23, 23, 0)),
                     Occurrence("2026-11-25", utc(2026, 11, 24, 23, 0)),
                     Occurrence("2026-11-26", utc(2026, 11, 25, 23, 0))]


def test_every_weekday_only_on_that_weekday() -> None:
    s = step(StepSchedule.EVERY, every="monday", time="07:00")
    start = utc(2026, 11, 20)
    found = due(s, SHANGHAI, start, start + timedelta(days=15), created=utc(2026, 1, 1))
    assert [o.key for o in found] == ["2026-11-23", "2026-11-30"]
    assert all(o.due_at.astimezone(SHANGHAI).weekday() == 0 for o in found)
    # A group that joined on the Tuesday gets the next Monday only.
    later = due(s, SHANGHAI, start, start + timedelta(days=15), created=utc(2026, 1, 1),
                enrolled=utc(2026, 11, 24))
    assert [o.key for o in later] == ["2026-11-30"]


def test_a_retired_step_has_no_occurrences() -> None:
    s = step(StepSchedule.EVERY, every="day", time="10:00", retired_at=utc(2026, 11, 1))
    assert due(s, SHANGHAI, utc(2026, 11, 2), utc(2026, 11, 9), created=utc(2026, 1, 1)) == []


def test_every_day_keeps_the_local_hour_across_dst() -> None:
    s = step(StepSchedule.EVERY, every="day", time="10:00")
    spring = due(s, BERLIN, utc(2026, 3, 28), utc(2026, 3, 30, 12), created=utc(2026, 1, 1))
    assert spring == [Occurrence("2026-03-28", utc(2026, 3, 28, 9, 0)),  # CET, +01:00
                      Occurrence("2026-03-29", utc(2026, 3, 29, 8, 0)),  # CEST, +02:00
                      Occurrence("2026-03-30", utc(2026, 3, 30, 8, 0))]
    autumn = due(s, BERLIN, utc(2026, 10, 24), utc(2026, 10, 25, 12), created=utc(2026, 1, 1))
    assert autumn == [Occurrence("2026-10-24", utc(2026, 10, 24, 8, 0)),
                      Occurrence("2026-10-25", utc(2026, 10, 25, 9, 0))]


def test_skipped_and_repeated_local_times() -> None:
    # 02:30 does not exist on 2026-03-29 in Berlin: it falls after the gap, 03:30 CEST.
    gap = step(StepSchedule.EVERY, every="sunday", time="02:30")
    assert due(gap, BERLIN, utc(2026, 3, 28), utc(2026, 3, 30), created=utc(2026, 1, 1)) == [
        Occurrence("2026-03-29", utc(2026, 3, 29, 1, 30))]
    # 02:30 happens twice on 2026-10-25: the first one (CEST) counts, once.
    twice = step(StepSchedule.EVERY, every="sunday", time="02:30")
    assert due(twice, BERLIN, utc(2026, 10, 24), utc(2026, 10, 26), created=utc(2026, 1, 1)) == [
        Occurrence("2026-10-25", utc(2026, 10, 25, 0, 30))]


def test_day_offsets_across_dst_keep_the_wall_clock_time() -> None:
    created = utc(2026, 3, 28, 11, 0)  # 12:00 CET on Saturday
    s = step(StepSchedule.AFTER_CREATED, day_offset=1, time="12:00")
    assert due(s, BERLIN, created, created + timedelta(days=3)) == [
        Occurrence("once", utc(2026, 3, 29, 10, 0))]  # 12:00 CEST


def test_at_is_an_absolute_moment_whatever_the_zone() -> None:
    moment = utc(2026, 12, 1, 2, 0)
    s = step(StepSchedule.AT, at=moment)
    for tz in (SHANGHAI, BERLIN):
        assert due(s, tz, utc(2026, 11, 1), utc(2026, 12, 31), created=utc(2026, 1, 1)) == [
            Occurrence("once", moment)]


@pytest.mark.parametrize("text", ["24:00", "9:00", "09:60", "0900", "", "09:00:00", " 09:00"])
def test_bad_times_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_hhmm(text)


def test_good_times_parse() -> None:
    assert (parse_hhmm("00:00").hour, parse_hhmm("23:59").minute) == (0, 59)
