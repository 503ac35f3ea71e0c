"""The SOP scheduler's tick: make the tasks of every occurrence that fell due, push what
is due, follow what was pushed. Every worker runs it every `sop.tick_seconds`
(bot/scheduler.py), cron may run `python run.py sop tick`: any number at once.

Task creation, per enabled plan: refresh its enrolment, then for every enrolled active
group × active step, the occurrences due in (now − missed_lookback_days, now]. Those
without a task get one: `pending` when due at most `grace_seconds` ago, else `missed`
(the scheduler was down; a burst of stale messages is worse than none). Existing task
keys are read in one query per plan and only the missing rows are inserted, with
`ON CONFLICT DO NOTHING` on the unique (plan, step, group, occurrence) key, so
schedulers running at once make each task once.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

from redis.asyncio import Redis
from tortoise.expressions import Subquery

from handlers.sop_dispatch import DispatchResult, dispatch_due
from handlers.sop_poll import PollResult, poll_pushes
from handlers.sop_schedule import occurrences
from handlers.sop_targets import refresh_enrollment
from models.groups import GroupChat, GroupStatus
from models.sop import SopEnrollment, SopPlan, SopStep, SopTask, TaskStatus
from models.upsert import insert_rows

if TYPE_CHECKING:
    from bot.settings import Settings, SopSettings
    from bot.wecom import WeComClient

__all__ = ["SopTickResult", "run_sop_tick", "create_due_tasks"]

log = logging.getLogger("scrm.sop")

TASK_KEY = ("plan_id", "step_id", "chat_id", "occurrence")


@dataclass
class SopTickResult:
    plans: int = 0
    enrolled: int = 0
    removed: int = 0
    created: int = 0  # new pending tasks
    created_missed: int = 0  # new tasks already past the grace window
    dispatch: DispatchResult = field(default_factory=DispatchResult)
    poll: PollResult = field(default_factory=PollResult)

    def summary(self) -> str:
        parts = [f"{k}={v}" for k, v in asdict(self).items() if not isinstance(v, dict)]
        parts += [f"dispatch.{k}={v}" for k, v in asdict(self.dispatch).items()]
        parts += [f"poll.{k}={v}" for k, v in asdict(self.poll).items()]
        return " ".join(parts)


async def run_sop_tick(wecom: WeComClient, redis: Redis, settings: Settings,
                       now: datetime) -> SopTickResult:
    """One scheduler pass at `now` (UTC aware); see the module."""
    result = SopTickResult()
    for plan in await SopPlan.filter(enabled=True, deleted_at=None).order_by("id"):
        result.plans += 1
        enrolled, removed = await refresh_enrollment(plan)
        result.enrolled += enrolled
        result.removed += removed
        created, missed = await create_due_tasks(plan, settings.sop, now)
        result.created += created
        result.created_missed += missed
    result.dispatch = await dispatch_due(wecom, redis, settings, now)
    result.poll = await poll_pushes(wecom, settings.sop, now)
    log.info("sop.tick now=%s %s", now.isoformat(), result.summary())
    return result


class _Enrolled(NamedTuple):
    chat_id: str
    owner: str
    created_at: datetime
    enrolled_at: datetime


async def _enrolled_groups(plan: SopPlan) -> list[_Enrolled]:
    """The plan's enrolled groups that are active, with their enrolment time, reading
    only the columns the schedule needs."""
    enrolled = dict(await SopEnrollment.filter(plan_id=plan.id).values_list(
        "chat_id", "enrolled_at"))
    groups = await GroupChat.filter(
        chat_id__in=Subquery(SopEnrollment.filter(plan_id=plan.id).values("chat_id")),
        status=GroupStatus.ACTIVE,
    ).values_list("chat_id", "owner", "created_at")
    return [_Enrolled(chat_id, owner, created, enrolled[chat_id])
            for chat_id, owner, created in groups if chat_id in enrolled]


async def create_due_tasks(plan: SopPlan, sop: SopSettings, now: datetime) -> tuple[int, int]:
    """Create the plan's missing tasks due in the lookback window; returns (pending,
    missed) rows this call inserted."""
    steps = await SopStep.filter(plan_id=plan.id, retired_at=None)
    if not steps:
        return 0, 0
    tz = ZoneInfo(plan.timezone)
    start = now - timedelta(days=sop.missed_lookback_days)
    wanted: list[dict[str, Any]] = []
    for group in await _enrolled_groups(plan):
        for step in steps:
            for occ in occurrences(step, tz, group.created_at, group.enrolled_at, start, now):
                wanted.append({"plan_id": plan.id, "step_id": step.id, "chat_id": group.chat_id,
                               "occurrence": occ.key, "due_at": occ.due_at,
                               "owner": group.owner})
    if not wanted:
        return 0, 0
    existing = set(await SopTask.filter(
        plan_id=plan.id, occurrence__in=list({w["occurrence"] for w in wanted}),
    ).values_list(*TASK_KEY))
    grace = timedelta(seconds=sop.grace_seconds)
    fresh: list[dict[str, Any]] = []
    stale: list[dict[str, Any]] = []
    for row in wanted:
        if tuple(row[k] for k in TASK_KEY) in existing:
            continue
        if now - row["due_at"] <= grace:
            fresh.append({**row, "status": TaskStatus.PENDING})
        else:
            stale.append({**row, "status": TaskStatus.MISSED, "finished_at": now,
                          "error": f"fell due more than {sop.grace_seconds} s before the "
                                   "scheduler saw it (grace_seconds): not sent late"})
    created = await insert_rows(SopTask, fresh, unless=TASK_KEY)
    missed = await insert_rows(SopTask, stale, unless=TASK_KEY)
    if created or missed:
        log.info("sop.tasks_created plan=%s pending=%d missed=%d", plan.id, created, missed)
    return created, missed
