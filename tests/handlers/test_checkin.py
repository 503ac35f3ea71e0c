"""Daily check-in and the other earning rules: one check-in per Shanghai day, the streak
and its bonuses, the birthday month bonus (on check-in and from the scheduler's job),
安心码 first verification and the first guide add."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from bot.runtime import open_runtime
from bot.settings import Settings
from handlers.checkin import AlreadyCheckedIn, check_in
from handlers.ledger import UnknownMember, award
from handlers.points_rules import award_birthdays, award_guide_add, award_scan
from models.members import Member, MemberStatus
from models.points import CheckIn, PointsEntry
from tests.handlers.points_world import T0, assert_ledger_consistent, balance, new_member

DAY = timedelta(days=1)


async def test_one_check_in_a_day_by_shanghai_time(settings: Settings) -> None:
    async with open_runtime(settings):
        member = await new_member()
        person = await Member.get(id=member)
        late = T0.replace(hour=15, minute=59)  # 23:59 in Shanghai, 1 March
        first = await check_in(person, settings, late)
        assert (first.day, first.streak, first.awarded, first.balance) == (
            date(2025, 3, 1), 1, settings.points.checkin_daily, 5)
        with pytest.raises(AlreadyCheckedIn):
            await check_in(person, settings, T0)
        await Member.filter(id=member).update(status=MemberStatus.ERASED)
        with pytest.raises(UnknownMember):
            await check_in(person, settings, T0 + DAY)
        await Member.filter(id=member).update(status=MemberStatus.ACTIVE)
        # 00:00 in Shanghai is still 1 March in UTC, and already the next day here.
        second = await check_in(person, settings, late + timedelta(minutes=1))
        assert (second.day, second.streak) == (date(2025, 3, 2), 2)
        refused = await asyncio.gather(
            *(check_in(person, settings, late + timedelta(hours=1)) for _ in range(20)),
            return_exceptions=True)
        assert all(isinstance(r, AlreadyCheckedIn) for r in refused)
        assert await PointsEntry.filter(member_id=member).count() == 2
        assert await balance(member) == 2 * settings.points.checkin_daily
        await assert_ledger_consistent()


async def test_streak_bonuses_and_a_broken_streak(settings: Settings) -> None:
    daily = settings.points.checkin_daily
    async with open_runtime(settings):
        member = await new_member()
        person = await Member.get(id=member)
        days = [await check_in(person, settings, T0 + n * DAY) for n in range(8)]
        assert [d.streak for d in days] == list(range(1, 9))
        assert [d.streak_bonus for d in days] == [0] * 6 + [20, 0]
        assert days[6].awarded == daily + 20
        assert (await PointsEntry.get(key=f"checkin:{member}:2025-03-07")).delta == daily + 20
        after_gap = await check_in(person, settings, T0 + 9 * DAY)  # 9 March missed
        assert (after_gap.streak, after_gap.streak_bonus) == (1, 0)
        assert after_gap.balance == 9 * daily + 20
        assert await CheckIn.filter(member_id=member).count() == 9
        await assert_ledger_consistent()


async def test_birthday_month_bonus_on_check_in_and_by_the_job(settings: Settings) -> None:
    bonus = settings.points.birthday_month_bonus
    v2_gift = settings.members.levels[1].birthday_gift_points
    async with open_runtime(settings):
        march = await new_member(birthday=date(1990, 3, 15))
        march_v2 = await new_member(birthday=date(1985, 3, 2))
        april = await new_member(birthday=date(1992, 4, 1))
        merged = await new_member(birthday=date(1991, 3, 9))
        await Member.filter(id=merged).update(status=MemberStatus.MERGED)
        await award(march_v2, 0, key="growth", reason="", now=T0, settings=settings, growth=500)

        march_row = await Member.get(id=march)
        done = await check_in(march_row, settings, T0)
        assert done.birthday_bonus == bonus
        assert done.balance == settings.points.checkin_daily + bonus
        assert await award_birthdays(settings, T0) == 1  # march_v2 only
        assert await award_birthdays(settings, T0 + DAY) == 0
        assert await balance(march_v2) == bonus + v2_gift
        assert await balance(april) == 0 and await balance(merged) == 0
        assert (await check_in(march_row, settings, T0 + DAY)).birthday_bonus == 0
        # Next year, again once.
        next_year = T0 + 365 * DAY
        assert await award_birthdays(settings, next_year) == 2
        assert await PointsEntry.filter(key=f"birthday:{march}:2026").exists()
        await assert_ledger_consistent()


async def test_scan_and_guide_add_award_once(settings: Settings) -> None:
    async with open_runtime(settings):
        first, second = await new_member(), await new_member()
        assert await award_scan(first, "https://a/01/09520123456788/21/X1", settings, T0)
        assert not await award_scan(second, "https://a/01/09520123456788/21/X1", settings, T0)
        assert await award_guide_add(second, settings, T0)
        assert not await award_guide_add(second, settings, T0 + DAY)
        assert await balance(first) == settings.points.scan_first_verification
        assert await balance(second) == settings.points.first_guide_add
        await assert_ledger_consistent()
