"""Following a group push after add_msg_template: did the owner confirm it, what did each
group get, and reminding owners who have not confirmed.

WeCom sends nothing until the owner confirms in the client (wecom-protocol.md §3.10).
Each unfinished push is polled every `sop.poll_every_seconds`:
- get_groupmsg_task: has the owner confirmed (status 2)? Then
  get_groupmsg_send_result: per group 1 → `sent`; 2 (not a friend) and 3 (the group's
  receive limit) → `failed`, saying which; 0 → still `pushed`, asked again next time.
- not confirmed: remind the owner (remind_groupmsg_send) once `remind_after_minutes`
  have passed, then at most every `remind_every_minutes`, never more than 3 times in
  24 h (WeCom's cap) and never after the deadline. A reminder WeCom refuses with 41094
  is recorded like one sent, so we wait before asking again.
- past the deadline (`sop.confirm_hours` after the push): what is still `pushed` becomes
  `not_sent`; an unconfirmed push is cancelled in WeCom so a late confirmation cannot
  send what we recorded as not sent; the push is finished.
41063 ("being dispatched", right after the push) and other errors: poll again later.
A poll is claimed by moving `next_poll_at` forward in one conditional UPDATE, so with
many workers each push is polled (and reminded) once per interval.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.wecom.msg_template import (
    RESULT_LIMIT,
    RESULT_NOT_FRIEND,
    RESULT_SENT,
    SENDER_SENT,
    GroupSendResult,
)
from models.sop import SopPush, SopTask, TaskStatus

if TYPE_CHECKING:
    from bot.settings import SopSettings
    from bot.wecom import WeComClient

__all__ = ["PollResult", "poll_pushes", "REMINDERS_PER_DAY"]

log = logging.getLogger("scrm.sop")

REMINDERS_PER_DAY = 3
BEING_DISPATCHED = 41063
REMINDED_TOO_OFTEN = 41094
ALREADY_CANCELLED = 41093
POLL_BATCH = 1000
CONCURRENT_POLLS = 8
RESULT_ERRORS = {
    RESULT_NOT_FRIEND: "WeCom did not deliver to this group: send result 2 (not a friend "
                       "of the sender)",
    RESULT_LIMIT: "WeCom did not deliver to this group: send result 3 (the group's receive "
                  "limit for mass messages was reached)",
}
NOT_CONFIRMED = "the owner did not confirm the push in WeCom before the deadline"
NOT_DELIVERED = "WeCom reported no delivery to this group by the deadline (send result 0)"


@dataclass
class PollResult:
    polled: int = 0
    sent: int = 0
    failed: int = 0
    not_sent: int = 0
    reminded: int = 0
    finished: int = 0
    later: int = 0  # 41063 or another error: asked again next time


async def poll_pushes(wecom: WeComClient, sop: SopSettings, now: datetime) -> PollResult:
    """Poll every unfinished push due for it (next_poll_at ≤ now); see the module."""
    result = PollResult()
    due = await SopPush.filter(finished_at=None, next_poll_at__lte=now).order_by(
        "next_poll_at").limit(POLL_BATCH)
    gate = asyncio.Semaphore(CONCURRENT_POLLS)

    async def one(push: SopPush) -> None:
        async with gate:
            claimed = await SopPush.filter(
                msgid=push.msgid, finished_at=None, next_poll_at__lte=now,
            ).update(next_poll_at=now + timedelta(seconds=sop.poll_every_seconds))
            if claimed:
                result.polled += 1
                await _poll(wecom, push, sop, now, result)

    await asyncio.gather(*(one(push) for push in due))
    return result


async def _poll(wecom: WeComClient, push: SopPush, sop: SopSettings, now: datetime,
                result: PollResult) -> None:
    from bot.wecom import WeComError, WeComUnavailable

    try:
        # Once the owner confirmed, only the groups' results are left to read.
        confirmed = push.owner_sent_at is not None or any(
            s.userid == push.owner and s.status == SENDER_SENT
            for s in await wecom.msg_template.get_task(push.msgid))
        if confirmed:
            if push.owner_sent_at is None:
                push.owner_sent_at = now
                await push.save(update_fields=["owner_sent_at"])
            await _record_results(
                await wecom.msg_template.get_send_result(push.msgid, push.owner), push, now,
                result)
    except (WeComError, WeComUnavailable) as exc:
        code = exc.errcode if isinstance(exc, WeComError) else "-"
        log.info("sop.poll_later msgid=%s errcode=%s", push.msgid, code)
        result.later += 1
        if now < push.deadline or code == BEING_DISPATCHED:
            return
        confirmed = push.owner_sent_at is not None
    if now >= push.deadline:
        await _finish(wecom, push, confirmed, now, result)
    elif not confirmed and _may_remind(push, sop, now):
        await _remind(wecom, push, now, result)
    elif not await SopTask.filter(msgid=push.msgid, status=TaskStatus.PUSHED).exists():
        await _mark_finished(push, now, result)


async def _record_results(results: list[GroupSendResult], push: SopPush, now: datetime,
                          result: PollResult) -> None:
    by_status: dict[int, list[str]] = {}
    for r in results:
        by_status.setdefault(r.status, []).append(r.chat_id)
    pushed = SopTask.filter(msgid=push.msgid, status=TaskStatus.PUSHED)
    if by_status.get(RESULT_SENT):
        result.sent += await pushed.filter(chat_id__in=by_status[RESULT_SENT]).update(
            status=TaskStatus.SENT, finished_at=now, error="")
    for status, error in RESULT_ERRORS.items():
        if by_status.get(status):
            result.failed += await pushed.filter(chat_id__in=by_status[status]).update(
                status=TaskStatus.FAILED, finished_at=now, error=error)


def _may_remind(push: SopPush, sop: SopSettings, now: datetime) -> bool:
    if now < push.pushed_at + timedelta(minutes=sop.remind_after_minutes):
        return False
    times = [datetime.fromisoformat(t) for t in push.reminders]
    if times and now < max(times) + timedelta(minutes=sop.remind_every_minutes):
        return False
    return sum(1 for t in times if t > now - timedelta(hours=24)) < REMINDERS_PER_DAY


async def _remind(wecom: WeComClient, push: SopPush, now: datetime, result: PollResult) -> None:
    from bot.wecom import WeComError, WeComUnavailable

    try:
        await wecom.msg_template.remind(push.msgid)
        result.reminded += 1
        log.info("sop.reminded msgid=%s owner=%s", push.msgid, push.owner)
    except WeComError as exc:
        if exc.errcode != REMINDED_TOO_OFTEN:
            log.warning("sop.remind_failed msgid=%s errcode=%s", push.msgid, exc.errcode)
            return
        log.info("sop.remind_refused msgid=%s errcode=%s", push.msgid, exc.errcode)
    except WeComUnavailable:
        return
    push.reminders = [*push.reminders, now.isoformat()]
    await push.save(update_fields=["reminders"])


async def _finish(wecom: WeComClient, push: SopPush, confirmed: bool, now: datetime,
                  result: PollResult) -> None:
    from bot.wecom import WeComError, WeComUnavailable

    if not confirmed:
        try:
            await wecom.msg_template.cancel(push.msgid)
        except WeComError as exc:
            if exc.errcode != ALREADY_CANCELLED:
                log.warning("sop.cancel_failed msgid=%s errcode=%s", push.msgid, exc.errcode)
        except WeComUnavailable as exc:
            log.warning("sop.cancel_failed msgid=%s reason=%s", push.msgid, exc.reason)
    result.not_sent += await SopTask.filter(msgid=push.msgid, status=TaskStatus.PUSHED).update(
        status=TaskStatus.NOT_SENT, finished_at=now,
        error=NOT_DELIVERED if confirmed else NOT_CONFIRMED)
    await _mark_finished(push, now, result)


async def _mark_finished(push: SopPush, now: datetime, result: PollResult) -> None:
    if await SopPush.filter(msgid=push.msgid, finished_at=None).update(finished_at=now):
        result.finished += 1
        log.info("sop.push_finished msgid=%s owner=%s", push.msgid, push.owner)
