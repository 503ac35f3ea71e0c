"""`change_external_chat` events: keeping customer groups in step with WeCom.

create, change_owner, change_name and change_notice carry no values: the group is
fetched (groupchat/get) and stored whole. add_member and del_member carry a delta with
the member-list versions before and after it (LastMemVer, CurMemVer); the delta is
applied only when we hold exactly LastMemVer. Otherwise a callback was lost, arrived
out of order, or the group is new to us, and the group is fetched again instead of
trusting the delta; so is a join through a group QR code (JoinScene 3), whose `state`
only groupchat/get gives. An event whose CurMemVer we already hold (a re-delivery, a
replay) changes nothing. dismiss marks the group dismissed and keeps its members.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from handlers.group_joins import attribute_joins
from handlers.group_store import apply_member_delta, mark_dismissed, store_snapshots
from models.groups import GroupChat, GroupStatus

if TYPE_CHECKING:
    from bot.events import ExternalChatChange
    from bot.wecom import WeComClient

log = logging.getLogger("scrm.groups")

Clock = Callable[[], datetime]

QR_CODE_JOIN = 3  # JoinScene of a join through a group QR code
# groupchat/get errcodes meaning the group is gone: 40050 no such chat, 90501 not (or
# no longer) a customer group.
GROUP_GONE = frozenset({40050, 90501})


def utcnow() -> datetime:
    return datetime.now(UTC)


def event_time(event: ExternalChatChange) -> datetime:
    return datetime.fromtimestamp(event.create_time, UTC) if event.create_time else utcnow()


async def resync(chat_id: str, wecom: WeComClient, *, reason: str,
                 now: Clock = utcnow) -> bool:
    """Fetch the group and store it whole (members, admins, join-way joins); False when
    WeCom no longer has it (a group we hold is then marked dismissed)."""
    from bot.wecom import WeComError

    fetched_at = now()
    try:
        detail = await wecom.group_chat.get(chat_id)
    except WeComError as exc:
        if exc.errcode not in GROUP_GONE:
            raise
        dismissed = await mark_dismissed([chat_id], fetched_at, fetched_at)
        log.info("group.gone chat_id=%s reason=%s errcode=%s dismissed=%d",
                 chat_id, reason, exc.errcode, dismissed)
        return False
    stored = await store_snapshots([detail], fetched_at)
    await attribute_joins(stored.details, wecom, now())
    log.info("group.synced chat_id=%s reason=%s members=%d version=%s stored=%s",
             chat_id, reason, len(detail.members), detail.member_version,
             bool(stored.details))
    return True


async def on_chat_created(event: ExternalChatChange, wecom: WeComClient, *,
                          now: Clock = utcnow) -> None:
    await resync(event.chat_id, wecom, reason="create", now=now)


async def on_chat_dismissed(event: ExternalChatChange, wecom: WeComClient, *,
                            now: Clock = utcnow) -> None:
    dismissed = await mark_dismissed([event.chat_id], event_time(event), now())
    log.info("group.dismissed chat_id=%s held=%s", event.chat_id, bool(dismissed))


async def on_chat_updated(event: ExternalChatChange, wecom: WeComClient, *,
                          now: Clock = utcnow) -> None:
    detail = event.update_detail or ""
    if detail not in ("add_member", "del_member"):
        # change_owner, change_name, change_notice: the event names what changed only.
        await resync(event.chat_id, wecom, reason=detail or "update", now=now)
        return
    reason = await _delta_refused(event)
    if reason is None:
        joins = detail == "add_member"
        members = event.mem_change_list
        if await apply_member_delta(
            event.chat_id, event.last_mem_ver or "", event.cur_mem_ver or "",
            joined=members if joins else (), left=() if joins else members,
            at=event_time(event), join_scene=event.join_scene if joins else None,
            quit_scene=None if joins else event.quit_scene, now=now(),
        ):
            log.info("group.members chat_id=%s %s=%d version=%s", event.chat_id, detail,
                     len(members), event.cur_mem_ver)
            return
        reason = "changed_meanwhile"
    if reason == "already_applied":
        log.info("group.members_current chat_id=%s version=%s", event.chat_id,
                 event.cur_mem_ver)
        return
    log.info("group.resync chat_id=%s reason=%s event_last=%s event_cur=%s",
             event.chat_id, reason, event.last_mem_ver, event.cur_mem_ver)
    await resync(event.chat_id, wecom, reason=reason, now=now)


async def _delta_refused(event: ExternalChatChange) -> str | None:
    """Why the event's delta cannot be applied to what we hold, or None."""
    held = await GroupChat.filter(chat_id=event.chat_id).only(
        "chat_id", "member_version", "status").first()
    if held is None:
        return "unknown_group"
    if held.status == GroupStatus.DISMISSED:
        return "dismissed_group"  # an event shows it alive: WeCom tells us what it is
    if event.cur_mem_ver and event.cur_mem_ver == held.member_version:
        return "already_applied"
    if not event.last_mem_ver or event.last_mem_ver != held.member_version:
        return "version_mismatch"
    if event.update_detail == "add_member" and event.join_scene == QR_CODE_JOIN:
        return "qr_join"
    return None
