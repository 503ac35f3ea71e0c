"""The receive limit's periods (natural day, week from Monday, month, in Shanghai) and
how many pushes each allows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from handlers.sop_limits import ReceiveLimit, parse_receive_limit


def test_the_settings_forms_parse() -> None:
    assert parse_receive_limit("days_in_month") == ReceiveLimit("month")
    assert parse_receive_limit("4/month") == ReceiveLimit("month", 4)
    assert parse_receive_limit("7/week") == ReceiveLimit("week", 7)
    assert parse_receive_limit("1/day") == ReceiveLimit("day", 1)
    for bad in ("0/day", "3/year", "days", ""):
        with pytest.raises(ValueError):
            parse_receive_limit(bad)


def test_days_in_month_allows_as_many_as_the_shanghai_month_has_days() -> None:
    limit = parse_receive_limit("days_in_month")
    # 2027-02-28 17:00 UTC is already March 1st in Shanghai.
    assert limit.allowed(datetime(2027, 2, 28, 15, 0, tzinfo=UTC)) == 28
    assert limit.allowed(datetime(2027, 2, 28, 17, 0, tzinfo=UTC)) == 31
    assert limit.period_of(datetime(2027, 2, 10, tzinfo=UTC)) == (
        datetime(2027, 1, 31, 16, 0, tzinfo=UTC), datetime(2027, 2, 28, 16, 0, tzinfo=UTC))


def test_days_and_weeks_start_at_shanghai_midnight_and_monday() -> None:
    # Wednesday 2027-03-03, 20:00 UTC = Thursday 04:00 in Shanghai.
    now = datetime(2027, 3, 3, 20, 0, tzinfo=UTC)
    assert ReceiveLimit("day", 1).period_of(now) == (
        datetime(2027, 3, 3, 16, 0, tzinfo=UTC), datetime(2027, 3, 4, 16, 0, tzinfo=UTC))
    assert ReceiveLimit("week", 7).period_of(now) == (
        datetime(2027, 2, 28, 16, 0, tzinfo=UTC), datetime(2027, 3, 7, 16, 0, tzinfo=UTC))
    assert ReceiveLimit("week", 7).allowed(now) == 7
