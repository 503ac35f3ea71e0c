"""The points ledger: one movement per business key, balances that never go negative
(also under concurrent debits), first-expiring-first spending, expiry, reversal and the
merge of two members' points."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.runtime import open_runtime
from bot.settings import Settings
from handlers.ledger import (
    InsufficientPoints,
    UnknownEntry,
    UnknownMember,
    award,
    deduct,
    move_member_points,
    points_summary,
    reverse,
)
from handlers.points_expiry import expire_due_points
from models.members import LevelChange, Member, MemberStatus
from models.points import EntryKind, PointsEntry
from tests.handlers.points_world import T0, assert_ledger_consistent, balance, new_member

DAY = timedelta(days=1)


async def test_a_key_moves_points_once(settings: Settings) -> None:
    async with open_runtime(settings):
        member = await new_member()
        assert await award(member, 30, key="scan:code-1", reason="scan", now=T0,
                           settings=settings)
        assert not await award(member, 30, key="scan:code-1", reason="scan", now=T0,
                               settings=settings)
        assert await deduct(member, 10, key="mall:order-1", reason="mall", now=T0)
        assert not await deduct(member, 10, key="mall:order-1", reason="mall", now=T0)
        assert await balance(member) == 20
        entries = await PointsEntry.filter(member_id=member).order_by("id")
        assert [(e.kind, e.delta, e.balance_after) for e in entries] == [
            (EntryKind.EARN, 30, 30), (EntryKind.SPEND, -10, 20)]
        assert entries[0].expires_at == T0 + timedelta(days=settings.points.expire_after_days)
        # Concurrent duplicates of one key: one moves, the rest find it taken.
        moved = await asyncio.gather(*(award(member, 5, key="guide_add:x", reason="add",
                                             now=T0, settings=settings) for _ in range(20)))
        assert moved.count(True) == 1
        assert await balance(member) == 25
        await assert_ledger_consistent()


async def test_a_debit_past_the_balance_is_refused_and_changes_nothing(
    settings: Settings,
) -> None:
    async with open_runtime(settings):
        member = await new_member()
        await award(member, 15, key="a", reason="", now=T0, settings=settings)
        with pytest.raises(InsufficientPoints) as refused:
            await deduct(member, 16, key="too-much", reason="", now=T0)
        assert (refused.value.balance, refused.value.wanted) == (15, 16)
        assert await PointsEntry.get_or_none(key="too-much") is None
        assert await balance(member) == 15
        # The refused key stays free for a later, affordable debit.
        assert await deduct(member, 15, key="too-much", reason="", now=T0)
        assert await balance(member) == 0
        with pytest.raises(UnknownMember):
            await award(999_999, 1, key="nobody", reason="", now=T0, settings=settings)
        await Member.filter(id=member).update(status=MemberStatus.ERASED)
        with pytest.raises(UnknownMember):
            await award(member, 1, key="erased", reason="", now=T0, settings=settings)
        await assert_ledger_consistent()


async def test_concurrent_debits_never_take_a_balance_below_zero(settings: Settings) -> None:
    async with open_runtime(settings):
        member = await new_member()
        for n in range(4):  # four credit rows, so debits cross rows
            await award(member, 25, key=f"earn-{n}", reason="", now=T0 + n * DAY,
                        settings=settings)
        results = await asyncio.gather(
            *(deduct(member, 7, key=f"spend-{n}", reason="", now=T0) for n in range(40)),
            return_exceptions=True)
        assert results.count(True) == 14  # 14 × 7 = 98 ≤ 100 < 105
        assert all(isinstance(r, InsufficientPoints) for r in results if r is not True)
        assert await balance(member) == 2
        await assert_ledger_consistent()


async def test_spending_takes_the_points_that_expire_first(settings: Settings) -> None:
    async with open_runtime(settings):
        member = await new_member()
        for n, points in enumerate((10, 20, 30)):
            await award(member, points, key=f"earn-{n}", reason="", now=T0 + n * DAY,
                        settings=settings)
        await deduct(member, 25, key="spend", reason="", now=T0 + 5 * DAY)
        earned = await PointsEntry.filter(member_id=member, kind=EntryKind.EARN).order_by("id")
        assert [e.remaining for e in earned] == [0, 5, 30]
        # Rows 2 and 3 expire on days 366 and 367: within 6 days of day 360 only row 2.
        summary = await points_summary(member, T0 + 360 * DAY, soon_days=6)
        assert (summary.balance, summary.expiring_soon) == (35, 5)
        assert summary.next_expiry == earned[1].expires_at
        summary = await points_summary(member, T0, soon_days=30)
        assert (summary.balance, summary.expiring_soon) == (35, 0)
        await deduct(member, 35, key="all", reason="", now=T0 + 6 * DAY)
        assert (await points_summary(member, T0, soon_days=30)).next_expiry is None
        await assert_ledger_consistent()


async def test_expiry_takes_what_is_left_once(settings: Settings) -> None:
    lifetime = timedelta(days=settings.points.expire_after_days)
    async with open_runtime(settings):
        member = await new_member()
        await award(member, 50, key="old", reason="", now=T0, settings=settings)
        await award(member, 40, key="new", reason="", now=T0 + 10 * DAY, settings=settings)
        await deduct(member, 20, key="spend", reason="", now=T0 + DAY)

        assert (await expire_due_points(T0 + lifetime - DAY)).entries == 0
        expired = await expire_due_points(T0 + lifetime)
        assert (expired.entries, expired.points) == (1, 30)
        assert await balance(member) == 40
        entry = await PointsEntry.get(kind=EntryKind.EXPIRE)
        old = await PointsEntry.get(key="old")
        assert (entry.key, entry.delta, entry.balance_after) == (f"expire:{old.id}", -30, 40)
        assert old.remaining == 0
        # Again, and twice at once: nothing more.
        again = await asyncio.gather(*(expire_due_points(T0 + lifetime) for _ in range(3)))
        assert all(e.entries == 0 for e in again)
        later = await expire_due_points(T0 + lifetime + 10 * DAY)
        assert (later.entries, later.points) == (1, 40)
        assert await balance(member) == 0
        await assert_ledger_consistent()


async def test_reversal_takes_back_once_and_never_below_zero(settings: Settings) -> None:
    async with open_runtime(settings):
        member = await new_member()
        await award(member, 100, key="order:tmall:1", reason="", now=T0, settings=settings,
                    growth=600)
        assert (await Member.get(id=member)).level == 2
        await award(member, 10, key="checkin", reason="", now=T0, settings=settings)
        await deduct(member, 95, key="mall", reason="", now=T0)
        assert await reverse("order:tmall:1", key="refund:tmall:1", reason="refund", now=T0,
                             settings=settings)
        assert not await reverse("order:tmall:1", key="refund:tmall:1", reason="refund",
                                 now=T0, settings=settings)
        taken = await PointsEntry.get(key="refund:tmall:1")
        # 15 were left of 110: all of them go, the balance stops at 0; growth goes back.
        assert (taken.kind, taken.delta, taken.growth_delta) == (EntryKind.REVERSE, -15, -600)
        stored = await Member.get(id=member)
        assert (stored.points, stored.growth, stored.level) == (0, 0, 1)
        assert [c.to_level for c in await LevelChange.filter(member_id=member).order_by("id")
                ] == [2, 1]
        # A reversed debit comes back as points that expire like earned ones.
        assert await reverse("mall", key="mall-cancelled", reason="", now=T0, settings=settings)
        back = await PointsEntry.get(key="mall-cancelled")
        assert (back.delta, back.remaining, back.expires_at is not None) == (95, 95, True)
        with pytest.raises(UnknownEntry):
            await reverse("order:none", key="refund:none", reason="", now=T0, settings=settings)
        await assert_ledger_consistent()


async def test_a_merge_moves_history_and_balances_once(settings: Settings) -> None:
    async with open_runtime(settings):
        survivor, merged = await new_member(), await new_member()
        await award(survivor, 40, key="s-earn", reason="", now=T0, settings=settings, growth=100)
        await award(merged, 70, key="m-earn", reason="", now=T0 + DAY, settings=settings,
                    growth=450)
        await deduct(merged, 20, key="m-spend", reason="", now=T0 + DAY)
        await Member.filter(id=merged).update(status=MemberStatus.MERGED)
        await move_member_points(merged, survivor, now=T0 + 2 * DAY, settings=settings)
        await move_member_points(merged, survivor, now=T0 + 2 * DAY, settings=settings)
        kept = await Member.get(id=survivor)
        gone = await Member.get(id=merged)
        assert (kept.points, kept.growth, kept.level) == (90, 550, 2)
        assert (gone.points, gone.growth) == (0, 0)
        assert await PointsEntry.filter(member_id=merged).count() == 0
        assert await PointsEntry.filter(member_id=survivor).count() == 4  # 3 moved + merge
        marker = await PointsEntry.get(kind=EntryKind.MERGE)
        assert (marker.key, marker.delta, marker.balance_after) == (f"merge:{merged}", 0, 90)
        # The moved points keep their expiry and are spent first-expiring-first.
        await deduct(survivor, 45, key="s-spend", reason="", now=T0 + 3 * DAY)
        assert (await PointsEntry.get(key="s-earn")).remaining == 0
        assert (await PointsEntry.get(key="m-earn")).remaining == 45
        await assert_ledger_consistent()
