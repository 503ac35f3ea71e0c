"""What happens to a group push after add_msg_template: the owner confirms (sent) or
not (reminders, then not sent at the deadline), WeCom says 41063 or 41094, the push
cannot be automated (the owner gets it by app message), a dispatcher dies mid-push;
and the app's scheduler running ticks on its own."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from bot.settings import Settings, WeComSettings
from handlers.sop_claim import SEND_LEASE, claim_due
from handlers.sop_plans import StepSpec
from handlers.sop_tick import create_due_tasks
from models.sop import SopPush, TaskStatus
from tests.apphost import serve_app, wait_for, worker_process
from tests.handlers.sop_world import ADD, SHANGHAI, SopWorld, chats_pushed, sop_world
from tests.sandbox_fixtures import SandboxConsole

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
TASK = "externalcontact/get_groupmsg_task"
REMIND = "externalcontact/remind_groupmsg_send"


async def pushed_at_due(w: SopWorld, text: str = "新品到店", groups: int = 2) -> datetime:
    """`groups` groups of zhangsan, a step due on day 1 at 10:00, the tick that pushes
    it; returns the due time."""
    due = (await w.planned(StepSpec(day_offset=1, time="10:00", text=text),
                           per_owner=groups)).at("10:00")
    assert (await w.tick(due)).dispatch.pushed == groups
    return due


async def test_a_confirmed_push_is_recorded_sent_even_after_41063(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    async with sop_world(settings, sandbox, poll_every_seconds=60) as w:
        due = await pushed_at_due(w)
        (push,) = await w.pushes()
        await sandbox.fault(TASK, 41063, count=1)

        dispatching = await w.tick(due + MINUTE)
        assert (dispatching.poll.polled, dispatching.poll.later) == (1, 1)
        waiting = await w.tick(due + 2 * MINUTE)
        assert (waiting.poll.polled, waiting.poll.sent) == (1, 0)
        assert await w.statuses() == [TaskStatus.PUSHED] * 2

        await sandbox.confirm_group_push(push["msgid"], "zhangsan")
        confirmed = await w.tick(due + 3 * MINUTE)
        assert (confirmed.poll.sent, confirmed.poll.finished) == (2, 1)
        assert await w.statuses() == [TaskStatus.SENT] * 2
        stored = await SopPush.get(msgid=push["msgid"])
        assert stored.finished_at == due + 3 * MINUTE and stored.owner_sent_at is not None
        assert (await w.tick(due + 4 * MINUTE)).poll.polled == 0


async def test_an_ignored_push_is_reminded_three_times_then_not_sent(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    async with sop_world(settings, sandbox, remind_after_minutes=60,
                         remind_every_minutes=240, confirm_hours=24) as w:
        due = await pushed_at_due(w)
        reminded = []
        for hours in (0.5, 1, 2, 5, 9, 13, 20, 23.9):
            reminded.append((await w.tick(due + hours * HOUR)).poll.reminded)
        assert reminded == [0, 1, 0, 1, 1, 0, 0, 0]
        (push,) = await w.pushes()
        assert push["reminders"] == 3 and not push["cancelled"]

        deadline = await w.tick(due + 24 * HOUR)
        assert (deadline.poll.not_sent, deadline.poll.finished) == (2, 1)
        tasks = await w.tasks()
        assert {t.status for t in tasks} == {TaskStatus.NOT_SENT}
        assert "did not confirm" in tasks[0].error
        (push,) = await w.pushes()
        assert push["cancelled"] and push["reminders"] == 3


async def test_wecom_refusing_a_reminder_stops_reminding_for_a_while(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    """Our 24 h window (by the ticks' time) allows a 4th reminder on day 2; the sandbox
    (by its own clock) still counts three and answers 41094: recorded, not retried at
    once, and the push goes on to its deadline."""
    async with sop_world(settings, sandbox, remind_after_minutes=60,
                         remind_every_minutes=240, confirm_hours=48) as w:
        due = await pushed_at_due(w, groups=1)
        for hours in (1, 5, 9):
            assert (await w.tick(due + hours * HOUR)).poll.reminded == 1
        refused = await w.tick(due + 25 * HOUR)
        assert refused.poll.reminded == 0
        assert len((await SopPush.get()).reminders) == 4
        assert (await w.tick(due + 26 * HOUR)).poll.reminded == 0
        calls = (await sandbox.calls(REMIND))["calls"]
        assert [c["errcode"] for c in calls] == [0, 0, 0, 41094]
        assert (await w.tick(due + 48 * HOUR)).poll.not_sent == 1


async def test_a_push_that_cannot_be_automated_goes_to_the_owner_by_app_message(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    async with sop_world(settings, sandbox) as w:
        link = {"msgtype": "link", "link": {"title": "新品目录", "url": "https://example.com/new"}}
        p = await w.planned(StepSpec(day_offset=1, time="10:00", text="{group_name} 的新品",
                                     attachments=[link]), per_owner=2)
        await sandbox.fault(ADD, 48002, count=2)

        result = await w.tick(p.at("10:00"))
        assert (result.dispatch.manual, result.dispatch.pushed) == (2, 0)
        assert await w.pushes() == []
        tasks = await w.tasks()
        assert {t.status for t in tasks} == {TaskStatus.MANUAL}
        assert all("errcode 48002" in t.error and "by app message" in t.error for t in tasks)
        messages = await sandbox.app_messages("zhangsan")
        assert len(messages) == 2  # the text differs per group: one message per group
        names = sorted(g.name for g in p.groups)
        for message, name in zip(sorted(messages, key=lambda m: m["content"]), names,
                                 strict=True):
            assert f"{name} 的新品" in message["content"]
            assert "新品目录 https://example.com/new" in message["content"]


async def test_without_an_app_the_manual_task_says_nobody_was_told(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    no_app = dataclasses.replace(settings, wecom=WeComSettings(
        **{**dataclasses.asdict(settings.wecom), "agent_id": 0}))
    async with sop_world(no_app, sandbox) as w:
        p = await w.planned(StepSpec(day_offset=1, time="10:00", text="手动"))
        await sandbox.fault(ADD, 41054)

        await w.tick(p.at("10:00"))
        (task,) = await w.tasks()
        assert task.status == TaskStatus.MANUAL
        assert "errcode 41054" in task.error and "not configured" in task.error
        assert await sandbox.app_messages() == []


async def test_a_task_whose_dispatcher_died_is_failed_never_pushed_twice(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    async with sop_world(settings, sandbox) as w:
        p = await w.planned(StepSpec(day_offset=1, time="10:00", text="一次"))
        due = p.at("10:00")
        # A tick before the due time makes no task; make it, then play a dispatcher
        # that claims it and dies before recording anything.
        assert (await w.tick(due - MINUTE)).created == 0
        await create_due_tasks(p.plan, w.settings.sop, due)
        assert len(await claim_due(due, timedelta(hours=1), 10)) == 1

        during = await w.tick(due + MINUTE)
        assert (during.dispatch.claimed, during.dispatch.unknown) == (0, 0)
        after = await w.tick(due + SEND_LEASE + MINUTE)
        assert after.dispatch.unknown == 1
        (task,) = await w.tasks()
        assert task.status == TaskStatus.FAILED and task.error.startswith("outcome unknown")
        assert await w.pushes() == []


async def test_the_workers_tick_on_their_own(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    """No `run_sop_tick` call here: the embedded server's in-process worker, or a
    `run.py worker` process on PostgreSQL + Redis, ticks every sop.tick_seconds."""
    ticking = dataclasses.replace(settings, sop=dataclasses.replace(settings.sop,
                                                                    tick_seconds=0.05))
    async with sop_world(ticking, sandbox) as w:
        (group,) = await w.add_groups(["zhangsan"], 1)
        soon = datetime.now(UTC) + timedelta(seconds=1)
        await w.plan([StepSpec(at=soon.astimezone(SHANGHAI).replace(tzinfo=None),
                               text="自动")], created=group.created_at)
    async with serve_app(ticking), worker_process(ticking):
        pushes = await wait_for(sandbox.group_pushes, what="a worker's tick to push")
    assert [p["text"] for p in pushes] == ["自动"]
    assert chats_pushed(pushes) == [group.chat_id]
