"""Group SOP delivery end to end against the sandbox: tasks made when steps fall due,
one push per group however many schedulers run, downtime, the receive limit, and plan
edits. Time is the `now` each tick is given; what WeCom got is read from the sandbox's
console (`GET /sandbox/groupmsg`)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

from bot.settings import Settings
from handlers.sop_plans import StepSpec, spec_of, update_plan
from models.sop import SopPush, TaskStatus
from tests.apphost import cli_process
from tests.handlers.sop_world import (
    ADD,
    SopWorld,
    chats_pushed,
    local_day,
    more_clients,
    next_weekday,
    sop_world,
)
from tests.sandbox_fixtures import SandboxConsole

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)


def day1_at_10(text: str) -> StepSpec:
    return StepSpec(day_offset=1, time="10:00", text=text)


async def rate_limited(w: SopWorld) -> None:
    """The next add_msg_template fails with 45009 through all the transport's retries."""
    await w.console.fault(ADD, 45009, count=w.settings.wecom.busy_retries + 1)


async def test_a_relative_step_goes_once_when_it_falls_due(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    async with sop_world(settings, sandbox) as w:
        p = await w.planned(day1_at_10("欢迎来到{group_name}"), per_owner=2)
        due = p.at("10:00")

        early = await w.tick(due - MINUTE)
        assert (early.created, await w.pushes()) == (0, [])

        on_time = await w.tick(due)
        assert on_time.created == 2 and on_time.dispatch.pushed == 2
        pushes = await w.pushes()
        # {group_name} differs per group: one call each, with the group's own name.
        assert sorted(x["text"] for x in pushes) == sorted(f"欢迎来到{g.name}" for g in p.groups)
        assert chats_pushed(pushes) == sorted(g.chat_id for g in p.groups)
        assert {x["sender"] for x in pushes} == {"zhangsan"}

        again = await w.tick(due + MINUTE)
        assert again.created == 0 and again.dispatch.claimed == 0
        assert len(await w.pushes()) == 2
        tasks = await w.tasks()
        assert [t.status for t in tasks] == [TaskStatus.PUSHED] * 2
        assert {t.msgid for t in tasks} == {x["msgid"] for x in pushes}
        assert all(t.pushed_at == due and t.owner == "zhangsan" for t in tasks)


async def test_a_weekly_step_goes_every_monday(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    async with sop_world(settings, sandbox) as w:
        p = await w.planned(StepSpec(every="monday", time="10:00", text="{owner_name}的本周福利"),
                            per_owner=3)
        monday = next_weekday(p.created, 0, "10:00")

        assert (await w.tick(monday - MINUTE)).created == 0
        first = await w.tick(monday)
        # One content for all three groups: one call.
        assert (first.created, first.dispatch.calls) == (3, 1)
        assert (await w.tick(monday + MINUTE)).created == 0
        assert (await w.tick(monday + 6 * DAY)).created == 0

        second = await w.tick(monday + 7 * DAY)
        assert (second.created, second.dispatch.calls) == (3, 1)
        pushes = await w.pushes()
        # The owner's name (the same for all three groups) from WeCom user/get.
        assert [x["text"] for x in pushes] == ["群主zhangsan的本周福利"] * 2
        assert chats_pushed(pushes) == sorted(2 * [g.chat_id for g in p.groups])
        assert sorted({t.occurrence for t in await w.tasks()}) == [
            local_day(monday).isoformat(), local_day(monday + 7 * DAY).isoformat()]


async def test_three_schedulers_at_once_push_each_group_once(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    async with sop_world(settings, sandbox) as w:
        p = await w.planned(StepSpec(day_offset=0, time="23:59", text="群公告：本周活动"),
                            owners=("zhangsan", "lisi", "wangwu"), per_owner=4)
        due = p.at("23:59", day=0)
        async with more_clients(w, 3) as clients:
            results = await asyncio.gather(*(w.tick(due, c) for c in clients))

        assert sum(r.created for r in results) == 12
        assert sum(r.dispatch.pushed for r in results) == 12
        # Usually one call per owner; a scheduler that claims while another is still
        # creating an owner's tasks may split them into two calls, never push twice.
        calls = sum(r.dispatch.calls for r in results)
        assert 3 <= calls <= 12
        pushes = await w.pushes()
        assert chats_pushed(pushes) == sorted(g.chat_id for g in p.groups)
        assert {x["sender"] for x in pushes} == {"lisi", "wangwu", "zhangsan"}
        assert await SopPush.all().count() == calls
        assert (await sandbox.calls(ADD))["counts"][ADD] == calls


async def test_three_tick_processes_at_once_push_each_group_once(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    """`run.py sop tick --now …` three times at once (as three cron jobs would)."""
    async with sop_world(settings, sandbox) as w:
        p = await w.planned(StepSpec(day_offset=1, time="09:00", text="早安"),
                            owners=("zhangsan", "lisi"), per_owner=5)
    now = p.at("09:00").isoformat()
    async with cli_process(settings, "sop", "tick", "--now", now) as a, \
            cli_process(settings, "sop", "tick", "--now", now) as b, \
            cli_process(settings, "sop", "tick", "--now", now) as c:
        for proc in (a, b, c):
            out, _ = await asyncio.wait_for(proc.communicate(), 60)
            assert proc.returncode == 0 and "sop tick" in out.decode(), out.decode()
    pushes = await sandbox.group_pushes()
    assert chats_pushed(pushes) == sorted(g.chat_id for g in p.groups)
    assert len(pushes) == 2


async def test_after_downtime_recent_steps_go_late_and_stale_ones_are_missed(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    async with sop_world(settings, sandbox, grace_seconds=3600) as w:
        p = await w.planned(day1_at_10("迟到也要发"),
                            StepSpec(day_offset=1, time="07:30", text="太旧了"))
        back_up = p.at("10:30")

        result = await w.tick(back_up)
        assert (result.created, result.created_missed, result.dispatch.pushed) == (1, 1, 1)
        assert [x["text"] for x in await w.pushes()] == ["迟到也要发"]
        (late,) = await w.tasks(step_id=p.steps[0].id)
        (stale,) = await w.tasks(step_id=p.steps[1].id)
        assert (late.status, late.pushed_at) == (TaskStatus.PUSHED, back_up)
        assert stale.status == TaskStatus.MISSED and "grace_seconds" in stale.error
        assert stale.msgid == "" and stale.pushed_at is None


async def test_a_pending_task_past_the_grace_window_is_missed_not_sent(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    """A task left pending (rate limited at its due time) and picked up again only
    after the grace window is missed, not pushed."""
    async with sop_world(settings, sandbox, grace_seconds=3600) as w:
        due = (await w.planned(day1_at_10("限流"))).at("10:00")
        await rate_limited(w)

        limited = await w.tick(due)
        assert (limited.dispatch.requeued, await w.statuses()) == (1, [TaskStatus.PENDING])
        later = await w.tick(due + timedelta(hours=2))
        assert later.dispatch.missed == 1
        assert await w.statuses() == [TaskStatus.MISSED]
        assert await w.pushes() == []


async def test_a_rate_limited_task_goes_at_the_next_tick(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    async with sop_world(settings, sandbox) as w:
        due = (await w.planned(day1_at_10("重试"))).at("10:00")
        await rate_limited(w)

        assert (await w.tick(due)).dispatch.requeued == 1
        assert (await w.tick(due + MINUTE)).dispatch.pushed == 1
        assert len(await w.pushes()) == 1
        assert await w.statuses() == [TaskStatus.PUSHED]


async def test_the_receive_limit_skips_pushes_over_it(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    async with sop_world(settings, sandbox, receive_limit="1/day") as w:
        p = await w.planned(day1_at_10("上午"), StepSpec(day_offset=1, time="15:00", text="下午"),
                            StepSpec(day_offset=2, time="10:00", text="次日"), per_owner=2)

        assert (await w.tick(p.at("10:00"))).dispatch.pushed == 2
        afternoon = await w.tick(p.at("15:00"))
        assert (afternoon.dispatch.skipped_limit, afternoon.dispatch.calls) == (2, 0)
        skipped = await w.tasks(step_id=p.steps[1].id)
        assert {t.status for t in skipped} == {TaskStatus.SKIPPED_LIMIT}
        assert "receive_limit 1/day" in skipped[0].error
        # The next local day is a new period.
        assert (await w.tick(p.at("10:00", day=2))).dispatch.pushed == 2
        assert [x["text"] for x in await w.pushes()] == ["上午", "次日"]


async def test_two_steps_due_together_over_the_limit_admit_only_the_first(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    """Two steps of one group fall due in one tick, with three schedulers at once: the
    count is made under the owner's lock, so exactly one goes."""
    async with sop_world(settings, sandbox, receive_limit="1/week") as w:
        due = (await w.planned(day1_at_10("第一条"), day1_at_10("第二条"))).at("10:00")
        async with more_clients(w, 3) as clients:
            results = await asyncio.gather(*(w.tick(due, c) for c in clients))

        assert sum(r.dispatch.pushed for r in results) == 1
        assert sum(r.dispatch.skipped_limit for r in results) == 1
        assert [x["text"] for x in await w.pushes()] == ["第一条"]


async def test_the_sandbox_receive_limit_shows_as_failed(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    """WeCom's own limit (send result 3) when ours allows more: the group's task fails,
    saying why."""
    async with sop_world(settings, sandbox) as w:
        p = await w.planned(day1_at_10("一"), StepSpec(day_offset=1, time="11:00", text="二"))
        await sandbox.group_push_policy(auto="confirm", receive_limit=1)
        ticks = [await w.tick(p.at("10:00")), await w.tick(p.at("11:00")),
                 await w.tick(p.at("11:00") + 2 * MINUTE)]

        assert [(t.poll.sent, t.poll.failed) for t in ticks] == [(0, 0), (1, 0), (0, 1)]
        first, second = await w.tasks()
        assert first.status == TaskStatus.SENT
        assert second.status == TaskStatus.FAILED and "send result 3" in second.error
        assert [c["status"] for x in await w.pushes() for c in x["chats"]] == [1, 3]


async def test_editing_a_sent_step_does_not_send_it_again(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    async with sop_world(settings, sandbox) as w:
        p = await w.planned(day1_at_10("原文"), per_owner=2)
        await w.tick(p.at("10:00"))
        edited = spec_of(p.plan, p.steps)
        edited.steps[0] = dataclasses.replace(edited.steps[0], time="11:00", text="改过的")
        await update_plan(p.plan, edited, p.at("10:30"))

        after = await w.tick(p.at("11:00"))
        assert (after.created, after.dispatch.calls) == (0, 0)
        assert [x["text"] for x in await w.pushes()] == ["原文"]


async def test_disabling_a_plan_stops_its_pushes(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    async with sop_world(settings, sandbox) as w:
        p = await w.planned(StepSpec(every="day", time="10:00", text="每日"))
        assert (await w.tick(p.at("10:00"))).dispatch.pushed == 1
        # Rate limited on day 2: its task waits, pending, for the next tick.
        await rate_limited(w)
        assert (await w.tick(p.at("10:00", day=2))).dispatch.requeued == 1

        off = spec_of(p.plan, p.steps)
        off.enabled = False
        await update_plan(p.plan, off, p.at("10:01", day=2))
        pending = await w.tick(p.at("10:02", day=2))
        assert (pending.plans, pending.dispatch.missed) == (0, 1)
        assert (await w.tick(p.at("10:00", day=3))).created == 0
        assert len(await w.pushes()) == 1
        (day2,) = await w.tasks(occurrence=local_day(p.at("10:00", day=2)).isoformat())
        assert (day2.status, day2.error) == (TaskStatus.MISSED,
                                             "the plan was disabled before the push")
