"""The workers' periodic points jobs: at start (and every interval), points past their
expiry are expired and this month's birthdays get their bonus."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.runtime import open_runtime
from bot.settings import Settings
from handlers.ledger import award
from handlers.points_rules import local_day
from models.members import Member
from models.points import EntryKind, PointsEntry
from tests.apphost import serve_app, wait_for, worker_process
from tests.handlers.points_world import assert_ledger_consistent, new_member


async def test_the_scheduler_expires_points_and_awards_birthdays(settings: Settings) -> None:
    now = datetime.now(UTC)
    earned = now - timedelta(days=settings.points.expire_after_days, minutes=1)
    async with open_runtime(settings):
        saver = await new_member()
        await award(saver, 70, key="old", reason="", now=earned, settings=settings)
        await award(saver, 5, key="new", reason="", now=now, settings=settings)
        born = await new_member(birthday=local_day(now).replace(year=1990, day=1))
    async with serve_app(settings), worker_process(settings):
        await wait_for(lambda: PointsEntry.exists(kind=EntryKind.EXPIRE), what="the expiry job")
        expired = await PointsEntry.get(kind=EntryKind.EXPIRE)
        assert expired.delta == -70 and expired.member_id == saver
        await wait_for(lambda: PointsEntry.exists(key__startswith=f"birthday:{born}:"),
                       what="the birthday job")
        assert (await Member.get(id=saver)).points == 5
        assert (await Member.get(id=born)).points == settings.points.birthday_month_bonus
        await assert_ledger_consistent()
