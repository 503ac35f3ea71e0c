"""Dispatching due SOP tasks: claim them, check they may still go, apply the receive
limit, group them into add_msg_template calls and push them at the configured pace.

Any number of dispatchers may run at once (every worker's tick, `run.py sop tick`):
a task is claimed by one conditional UPDATE (sop_claim), so it is pushed at most once.

What a claimed task becomes before any call:
- its plan was disabled or deleted, its step retired, or its group dismissed (or no
  longer known) since the task was created → `missed`, with that reason: it was not
  pushed and never will be (like a step that fell due during downtime);
- its group already had its pushes for the period (sop_limits) → `skipped_limit`.
The rest are grouped per (owner, step, rendered text): a text with {group_name}
differs per group, so those groups go one per call; others share calls of up to
2,000 groups. Calls are paced at `sop.push_calls_per_second` across all processes
(a 1-second window of the shared rate limiter) and run for several owners at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from redis.asyncio import Redis
from redis.exceptions import LockError

from bot.redis_lock import redis_lock
from handlers.sop_claim import claim_due, expire_leases, miss_stale, release, settle
from handlers.sop_content import render
from handlers.sop_limits import ReceiveLimit, admit, parse_receive_limit
from handlers.sop_push import PushBatch, PushOutcome, push_batch
from handlers.welcome import guide_name
from models.groups import GroupChat, GroupStatus
from models.sop import SopPlan, SopStep, SopTask, TaskStatus

if TYPE_CHECKING:
    from bot.settings import Settings
    from bot.wecom import WeComClient
    from bot.wecom.ratelimit import RateLimiter

__all__ = ["DispatchResult", "dispatch_due"]

log = logging.getLogger("scrm.sop")

MAX_CHAT_IDS = 2000  # add_msg_template chat_id_list
CONCURRENT_OWNERS = 16
# A claim is sized to be pushed in about this long even at one call per task, well
# inside the claim's lease (sop_claim.SEND_LEASE).
CLAIM_SECONDS = 120
MIN_CLAIM, MAX_CLAIM = 100, 5000


@dataclass
class DispatchResult:
    claimed: int = 0
    calls: int = 0
    pushed: int = 0
    failed: int = 0
    manual: int = 0
    skipped_limit: int = 0
    missed: int = 0  # stale (past the grace window), or no longer to be pushed
    requeued: int = 0  # back to pending (rate limited): the next tick pushes them
    unknown: int = 0  # a dispatcher died or WeCom did not answer: not pushed again

    def add(self, outcome: PushOutcome) -> None:
        for f in fields(outcome):
            setattr(self, f.name, getattr(self, f.name) + getattr(outcome, f.name))


@dataclass
class _Due:
    task: SopTask
    plan: SopPlan
    step: SopStep
    group: GroupChat


def _push_limiter(redis: Redis, settings: Settings) -> RateLimiter:
    from bot.wecom.ratelimit import RateLimiter

    return RateLimiter(redis, settings.wecom.corp_id,
                       per_minute=settings.sop.push_calls_per_second, per_api={},
                       clock=time.time, sleep=asyncio.sleep, window_seconds=1)


async def dispatch_due(wecom: WeComClient, redis: Redis, settings: Settings,
                       now: datetime) -> DispatchResult:
    """Push every task due by `now` (within the grace window); see the module."""
    sop = settings.sop
    grace = timedelta(seconds=sop.grace_seconds)
    result = DispatchResult(unknown=await expire_leases(now), missed=await miss_stale(now, grace))
    limiter = _push_limiter(redis, settings)
    limit = parse_receive_limit(sop.receive_limit)
    claim = max(MIN_CLAIM, min(MAX_CLAIM, sop.push_calls_per_second * CLAIM_SECONDS))
    gate = asyncio.Semaphore(CONCURRENT_OWNERS)

    async def one_owner(owner: str, due: list[_Due]) -> None:
        async with gate:
            try:
                await _dispatch_owner(wecom, redis, owner, due, limiter=limiter, limit=limit,
                                      settings=settings, now=now, result=result)
            except Exception:
                # The other owners go on. Tasks this one still holds are settled when
                # their lease runs out (they may have been mid-call).
                log.exception("sop.dispatch_failed owner=%s tasks=%d", owner, len(due))

    while tasks := await claim_due(now, grace, claim):
        result.claimed += len(tasks)
        by_owner = await _pushable(tasks, now, result)
        requeued_before = result.requeued
        await asyncio.gather(*(one_owner(o, d) for o, d in by_owner.items()))
        # Tasks put back (rate limited) wait for the next tick, not this loop.
        if len(tasks) < claim or result.requeued > requeued_before:
            break
    return result


async def _pushable(tasks: Sequence[SopTask], now: datetime, result: DispatchResult
                    ) -> dict[str, list[_Due]]:
    """The claimed tasks that may still go, per current group owner; the others are
    settled as missed with the reason."""
    plans = {p.id: p for p in await SopPlan.filter(id__in={t.plan_id for t in tasks})}
    steps = {s.id: s for s in await SopStep.filter(id__in={t.step_id for t in tasks})}
    groups = {g.chat_id: g for g in await GroupChat.filter(chat_id__in={t.chat_id for t in tasks})}
    by_owner: dict[str, list[_Due]] = defaultdict(list)
    gone: dict[str, list[int]] = defaultdict(list)
    for task in tasks:
        plan, step = plans.get(task.plan_id), steps.get(task.step_id)
        group = groups.get(task.chat_id)
        if plan is None or plan.deleted_at is not None:
            gone["the plan was deleted before the push"].append(task.id)
        elif not plan.enabled:
            gone["the plan was disabled before the push"].append(task.id)
        elif step is None or step.retired_at is not None:
            gone["the step was removed from the plan before the push"].append(task.id)
        elif group is None or group.status != GroupStatus.ACTIVE:
            gone["the group was dismissed before the push"].append(task.id)
        else:
            by_owner[group.owner].append(_Due(task, plan, step, group))
    for reason, ids in gone.items():
        result.missed += await settle(ids, TaskStatus.MISSED, now, reason)
    for due in by_owner.values():
        due.sort(key=lambda d: (d.task.due_at, d.step.position, d.task.id))
    return by_owner


async def _dispatch_owner(wecom: WeComClient, redis: Redis, owner: str, due: list[_Due], *,
                          limiter: RateLimiter, limit: ReceiveLimit, settings: Settings,
                          now: datetime, result: DispatchResult) -> None:
    # One owner's admissions at a time (all processes): the count and the admission
    # of a group's next push must not interleave with another dispatcher's.
    try:
        async with redis_lock(redis, f"scrm:sop:owner:{settings.wecom.corp_id}:{owner}"):
            admission = await admit([d.task for d in due], limit, now)
    except LockError:
        log.warning("sop.owner_busy owner=%s tasks=%d", owner, len(due))
        result.requeued += await release([d.task.id for d in due])
        return
    if admission.over_limit:
        allowed = limit.allowed(now)
        result.skipped_limit += await settle(
            [t.id for t in admission.over_limit], TaskStatus.SKIPPED_LIMIT, now,
            f"the group already had {allowed} group pushes this {limit.period} "
            f"(receive_limit {settings.sop.receive_limit})")
    admitted = {t.id for t in admission.admitted}
    for batch in await _batches(wecom, owner, [d for d in due if d.task.id in admitted]):
        # Calls one after another per owner; owners run side by side (CONCURRENT_OWNERS).
        result.add(await push_batch(wecom, batch, limiter=limiter, sop=settings.sop, now=now))


async def _batches(wecom: WeComClient, owner: str, due: list[_Due]) -> list[PushBatch]:
    """One owner's tasks grouped per (step, rendered text), ≤ MAX_CHAT_IDS groups each,
    in the order the tasks fell due."""
    owner_name: str | None = None
    grouped: dict[tuple[int, str], PushBatch] = {}
    batches: list[PushBatch] = []
    for d in due:
        if "{owner_name}" in d.step.text and owner_name is None:
            owner_name = await guide_name(owner, wecom)
        text = render(d.step.text, group_name=d.group.name, owner_name=owner_name or "")
        batch = grouped.get((d.step.id, text))
        if batch is None or len(batch.tasks) >= MAX_CHAT_IDS:
            batch = grouped[(d.step.id, text)] = PushBatch(d.plan, d.step, owner, text, [])
            batches.append(batch)
        batch.tasks.append(d.task)
        batch.group_names[d.group.chat_id] = d.group.name
    return batches

