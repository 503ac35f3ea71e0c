"""SOP plan targeting in SQL, and keeping enrolments in step with it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.runtime import open_runtime
from bot.settings import Settings
from handlers.sop_targets import matching_groups, refresh_enrollment
from models.groups import GroupChat, GroupLabel, GroupStatus
from models.sop import SopEnrollment, SopPlan, SopTask, TaskStatus

PLAN_CREATED = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[None]:
    async with open_runtime(settings):
        yield


async def group(chat_id: str, *, name: str = "", owner: str = "zhangsan",
                created_at: datetime = datetime(2026, 11, 1, tzinfo=UTC),
                labels: tuple[str, ...] = (),
                status: GroupStatus = GroupStatus.ACTIVE) -> GroupChat:
    chat = await GroupChat.create(chat_id=chat_id, name=name or chat_id, owner=owner,
                                  created_at=created_at, status=status)
    for label in labels:
        await GroupLabel.create(chat_id=chat_id, label=label)
    return chat


async def plan(timezone: str = "Asia/Shanghai", **target: Any) -> SopPlan:
    return await SopPlan.create(name="plan", target=target, timezone=timezone,
                                created_at=PLAN_CREATED)


async def matched(p: SopPlan) -> list[str]:
    return sorted(str(chat_id) for chat_id in
                  await matching_groups(p).values_list("chat_id", flat=True))


async def enrolled(p: SopPlan) -> dict[str, datetime]:
    return dict(await SopEnrollment.filter(plan_id=p.id).values_list("chat_id", "enrolled_at"))


async def test_each_target_field_narrows_the_groups(db: None) -> None:
    await group("a", name="上海 VIP 群", owner="zhangsan", labels=("store:SH-01", "vip"))
    await group("b", name="北京 vip 群", owner="lisi", labels=("store:BJ-01",))
    await group("c", name="上海 普通群", owner="lisi")
    await group("d", name="上海 VIP 老群", owner="zhangsan", status=GroupStatus.DISMISSED)
    assert await matched(await plan()) == ["a", "b", "c"]  # empty target: every active group
    assert await matched(await plan(owners=["lisi"])) == ["b", "c"]
    assert await matched(await plan(chat_ids=["a", "c", "d", "zz"])) == ["a", "c"]
    assert await matched(await plan(name_contains="VIP")) == ["a", "b"]  # any case
    assert await matched(await plan(labels=["vip", "store:BJ-01"])) == ["a", "b"]  # any of
    assert await matched(await plan(labels=["nobody-has-it"])) == []
    # Every non-empty field must match.
    assert await matched(await plan(owners=["lisi"], name_contains="上海")) == ["c"]
    assert await matched(await plan(owners=["zhangsan"], labels=["store:BJ-01"])) == []


async def test_name_contains_is_literal(db: None) -> None:
    await group("a", name="100%_off")
    await group("b", name="100 off")
    assert await matched(await plan(name_contains="%_")) == ["a"]
    assert await matched(await plan(name_contains="_")) == ["a"]


async def test_created_range_is_in_local_dates_of_the_plan(db: None) -> None:
    # Shanghai is UTC+8: local 2026-11-05 runs from 11-04 16:00 to 11-05 16:00 UTC.
    await group("before", created_at=datetime(2026, 11, 4, 15, 59, tzinfo=UTC))
    await group("first", created_at=datetime(2026, 11, 4, 16, 0, tzinfo=UTC))
    await group("last", created_at=datetime(2026, 11, 6, 15, 59, tzinfo=UTC))
    await group("after", created_at=datetime(2026, 11, 6, 16, 0, tzinfo=UTC))
    window = {"created_from": "2026-11-05", "created_until": "2026-11-06"}
    assert await matched(await plan(**window)) == ["first", "last"]
    assert await matched(await plan(created_from="2026-11-05")) == ["after", "first", "last"]
    assert await matched(await plan(created_until="2026-11-04")) == ["before"]
    # The same dates in Berlin (UTC+1 in November: 11-04 23:00 to 11-06 23:00 UTC).
    assert await matched(await plan("Europe/Berlin", **window)) == ["after", "last"]


async def test_refresh_enrols_new_matches_and_removes_the_rest(db: None) -> None:
    older = await group("older", created_at=PLAN_CREATED - timedelta(days=3), labels=("vip",))
    p = await plan(labels=["vip"])
    assert await refresh_enrollment(p) == (1, 0)
    # A group older than the plan joins it when the plan was created.
    assert await enrolled(p) == {"older": PLAN_CREATED}
    assert await refresh_enrollment(p) == (0, 0)

    newer = await group("newer", created_at=PLAN_CREATED + timedelta(days=2), labels=("vip",))
    await group("unlabelled", created_at=PLAN_CREATED + timedelta(days=2))
    assert await refresh_enrollment(p) == (1, 0)
    assert await enrolled(p) == {"older": PLAN_CREATED, "newer": newer.created_at}

    # "older" loses its label, "newer" is dismissed: both leave the plan.
    await GroupLabel.filter(chat_id=older.chat_id).delete()
    await GroupChat.filter(chat_id=newer.chat_id).update(status=GroupStatus.DISMISSED)
    assert await refresh_enrollment(p) == (0, 2)
    assert await enrolled(p) == {}


async def test_removal_drops_pending_tasks_only(db: None) -> None:
    await group("kept")
    await group("gone")
    p = await plan()
    assert await refresh_enrollment(p) == (2, 0)
    due = PLAN_CREATED + timedelta(days=1)
    for chat_id in ("kept", "gone"):
        for step_id, status, msgid in ((1, TaskStatus.PENDING, ""),
                                       (2, TaskStatus.PUSHED, "msg-1"),
                                       (3, TaskStatus.SENT, "msg-2")):
            await SopTask.create(plan_id=p.id, step_id=step_id, chat_id=chat_id,
                                 occurrence="once", due_at=due, status=status, msgid=msgid)
    p.target = {"chat_ids": ["kept"]}
    await p.save()
    assert await refresh_enrollment(p) == (0, 1)
    left = set(await SopTask.filter(plan_id=p.id).values_list("chat_id", "step_id"))
    assert left == {("kept", 1), ("kept", 2), ("kept", 3), ("gone", 2), ("gone", 3)}


async def test_a_deleted_plan_targets_nothing(db: None) -> None:
    await group("a")
    p = await plan()
    assert await refresh_enrollment(p) == (1, 0)
    p.deleted_at = PLAN_CREATED + timedelta(days=1)
    assert await matched(p) == []
    assert await refresh_enrollment(p) == (0, 1)


async def test_concurrent_refreshes_enrol_each_group_once(db: None) -> None:
    count = 2500  # more than one insert batch
    await GroupChat.bulk_create([
        GroupChat(chat_id=f"wr{i:05d}", name=f"群 {i}", owner=f"guide{i % 50}",
                  created_at=PLAN_CREATED + timedelta(minutes=i)) for i in range(count)])
    p = await plan()
    results = await asyncio.gather(*(refresh_enrollment(p) for _ in range(3)))
    assert sum(added for added, _ in results) == count
    assert all(removed == 0 for _, removed in results)
    rows = await SopEnrollment.filter(plan_id=p.id).count()
    assert rows == count
    stored = await enrolled(p)
    assert stored["wr00007"] == PLAN_CREATED + timedelta(minutes=7)
