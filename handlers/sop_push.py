"""One add_msg_template call: one owner, one step, one rendered content, ≤ 2,000 groups,
and what its answer means for each task.

- created: a `SopPush` (polled later for the owner's confirmation) and the tasks
  `pushed`; groups in `fail_list` are `failed` (not the sender's any more, or dismissed);
- 45009 / 45033 / -1 still failing after the transport's retries, or an error before
  the call (token): the tasks go back to `pending` for the next tick;
- no answer from WeCom to the call itself (timeout, connection lost): the push may
  exist, so the tasks are `failed` with "outcome unknown", never pushed again;
- an errcode that no retry can fix for this owner (sop_manual.MANUAL_ERRCODES): the
  owner gets the content by app message, the tasks are `manual`;
- any other errcode: `failed` with it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from handlers.sop_claim import hold, release, settle
from handlers.sop_manual import MANUAL_ERRCODES, hand_over
from models.sop import SopPlan, SopPush, SopStep, SopTask, TaskStatus

if TYPE_CHECKING:
    from bot.settings import SopSettings
    from bot.wecom import WeComClient
    from bot.wecom.ratelimit import RateLimiter

__all__ = ["PushBatch", "PushOutcome", "push_batch", "ADD_MSG_TEMPLATE"]

log = logging.getLogger("scrm.sop")

ADD_MSG_TEMPLATE = "externalcontact/add_msg_template"
FAIL_LIST_ERROR = ("WeCom refused this group (add_msg_template fail_list): the owner no "
                   "longer owns it, or it was dismissed")


@dataclass
class PushBatch:
    plan: SopPlan
    step: SopStep
    owner: str
    text: str
    tasks: list[SopTask]
    group_names: dict[str, str] = field(default_factory=dict)  # chat_id → name


@dataclass
class PushOutcome:
    calls: int = 0
    pushed: int = 0
    failed: int = 0
    manual: int = 0
    requeued: int = 0
    unknown: int = 0


async def push_batch(wecom: WeComClient, batch: PushBatch, *, limiter: RateLimiter,
                     sop: SopSettings, now: datetime) -> PushOutcome:
    """Push the batch's tasks that this dispatcher still holds; see the module."""
    from bot.wecom import RateLimited, SystemBusy, WeComError, WeComUnavailable

    held = await hold([t.id for t in batch.tasks], now)
    tasks = [t for t in batch.tasks if t.id in held]
    if not tasks:
        return PushOutcome()
    ids = [t.id for t in tasks]
    await limiter.acquire(ADD_MSG_TEMPLATE)
    try:
        created = await wecom.msg_template.add_group_push(
            sender=batch.owner, chat_ids=[t.chat_id for t in tasks], text=batch.text,
            attachments=batch.step.attachments)
    except WeComUnavailable as exc:
        if exc.api != ADD_MSG_TEMPLATE:
            return PushOutcome(requeued=await release(ids))
        error = (f"outcome unknown: no answer from WeCom to add_msg_template ({exc.reason}); "
                 "not pushed again to rule out a duplicate")
        log.error("sop.push_unknown plan=%s step=%s owner=%s tasks=%d reason=%s",
                  batch.plan.id, batch.step.id, batch.owner, len(ids), exc.reason)
        return PushOutcome(calls=1, unknown=await settle(ids, TaskStatus.FAILED, now, error))
    except (RateLimited, SystemBusy) as exc:
        log.warning("sop.push_deferred plan=%s step=%s owner=%s tasks=%d errcode=%s",
                    batch.plan.id, batch.step.id, batch.owner, len(ids), exc.errcode)
        return PushOutcome(calls=1, requeued=await release(ids))
    except WeComError as exc:
        if exc.api != ADD_MSG_TEMPLATE:
            return PushOutcome(requeued=await release(ids))
        reason = f"add_msg_template errcode {exc.errcode}: {exc.errmsg}"
        if exc.errcode in MANUAL_ERRCODES:
            await hand_over(wecom, owner=batch.owner, plan_name=batch.plan.name,
                            text=batch.text, attachments=batch.step.attachments, tasks=tasks,
                            group_names=[batch.group_names.get(t.chat_id, t.chat_id)
                                         for t in tasks],
                            reason=reason, now=now)
            return PushOutcome(calls=1, manual=len(ids))
        log.error("sop.push_failed plan=%s step=%s owner=%s tasks=%d errcode=%s",
                  batch.plan.id, batch.step.id, batch.owner, len(ids), exc.errcode)
        return PushOutcome(calls=1, failed=await settle(ids, TaskStatus.FAILED, now, reason))
    except ValueError as exc:  # content WeCom would refuse (too long, too many attachments)
        return PushOutcome(failed=await settle(ids, TaskStatus.FAILED, now, str(exc)))
    refused = set(created.fail_list)
    accepted = [t.id for t in tasks if t.chat_id not in refused]
    outcome = PushOutcome(calls=1)
    if accepted:
        await SopPush.create(
            msgid=created.msgid, plan_id=batch.plan.id, step_id=batch.step.id,
            owner=batch.owner, chat_count=len(accepted), pushed_at=now,
            deadline=now + timedelta(hours=sop.confirm_hours),
            next_poll_at=now + timedelta(seconds=sop.poll_every_seconds))
        outcome.pushed = await settle(accepted, TaskStatus.PUSHED, now, msgid=created.msgid,
                                      pushed_at=now, owner=batch.owner)
    outcome.failed = await settle([t.id for t in tasks if t.chat_id in refused],
                                  TaskStatus.FAILED, now, FAIL_LIST_ERROR)
    log.info("sop.pushed msgid=%s plan=%s step=%s owner=%s groups=%d refused=%d",
             created.msgid, batch.plan.id, batch.step.id, batch.owner, len(accepted),
             len(refused))
    return outcome
