"""Full customer-group sync: every group our staff own, fetched and stored whole.

The owners are the staff with customer contact (get_follow_user_list); groupchat/list
pages their groups 100 owners and 1,000 groups at a time; groupchat/get fetches each
group, several at once, and the groups are stored in batches (a few statements per
batch: see handlers.group_store). Groups we hold that the complete listing did not name
are marked dismissed. Snapshots are stamped with the sync's start, so a group an event
changed meanwhile keeps the event's fresher state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from tortoise.expressions import Q

from handlers.group_joins import attribute_joins
from handlers.group_store import mark_dismissed, store_snapshots
from handlers.groups import GROUP_GONE, Clock, utcnow
from models.groups import GroupChat, GroupStatus

if TYPE_CHECKING:
    from bot.wecom import WeComClient
    from bot.wecom.group_chat import GroupChatDetail

log = logging.getLogger("scrm.sync")

FETCH_CONCURRENCY = 16
STORE_BATCH = 100
DISMISS_CHUNK = 1000

Progress = Callable[[int, int], None]  # (groups listed, groups done)


@dataclass(frozen=True)
class GroupSyncResult:
    groups: int  # stored
    members: int
    dismissed: int
    failed: int  # listed but not fetched (logged); kept as they were
    joins: int  # join-way joins recorded

    def summary(self) -> str:
        return (f"synced {self.groups} groups ({self.members} members), "
                f"{self.dismissed} dismissed, {self.failed} failed, {self.joins} joins")


async def list_chats(wecom: WeComClient) -> dict[str, int]:
    """chat_id → groupchat/list `status` of every group the staff own."""
    from bot.wecom.group_chat import LIST_MAX_LIMIT, LIST_MAX_OWNERS

    owners = sorted(await wecom.external_contact.get_follow_user_list())
    chats: dict[str, int] = {}
    for start in range(0, len(owners), LIST_MAX_OWNERS):
        batch, cursor = owners[start:start + LIST_MAX_OWNERS], ""
        while True:
            page = await wecom.group_chat.list(owners=batch, cursor=cursor,
                                               limit=LIST_MAX_LIMIT)
            chats.update(page.chats)
            cursor = page.next_cursor
            if not cursor:
                break
    return chats


class _Fetched:
    """What the fetchers hand the storer: a group, or the id of one not fetched."""

    def __init__(self) -> None:
        # Bounded: fetchers wait for the storer rather than hold thousands of groups.
        self.queue: asyncio.Queue[GroupChatDetail | tuple[str, bool]] = asyncio.Queue(
            2 * STORE_BATCH)

    async def fetch(self, ids: Iterator[str], wecom: WeComClient) -> None:
        from bot.wecom import WeComError, WeComUnavailable

        for chat_id in ids:  # shared by every fetcher: each id is taken once
            try:
                await self.queue.put(await wecom.group_chat.get(chat_id))
            except WeComError as exc:
                gone = exc.errcode in GROUP_GONE
                if not gone:
                    log.warning("groups.sync_fetch_failed chat_id=%s errcode=%s",
                                chat_id, exc.errcode)
                await self.queue.put((chat_id, gone))
            except WeComUnavailable:
                log.warning("groups.sync_fetch_failed chat_id=%s unavailable", chat_id)
                await self.queue.put((chat_id, False))

    async def next_batch(self) -> list[GroupChatDetail | tuple[str, bool]]:
        batch = [await self.queue.get()]
        while len(batch) < STORE_BATCH and not self.queue.empty():
            batch.append(self.queue.get_nowait())
        return batch


async def sync_groups(
    wecom: WeComClient, on_progress: Progress = lambda total, done: None, *,
    now: Clock = utcnow, concurrency: int = FETCH_CONCURRENCY,
) -> GroupSyncResult:
    started = now()
    chats = await list_chats(wecom)
    total = len(chats)
    on_progress(total, 0)
    fetched = _Fetched()
    ids = iter(list(chats))
    stored = members = failed = joins = 0
    gone: list[str] = []

    async def store_all() -> None:
        nonlocal stored, members, failed, joins
        done = 0
        while done < total:
            batch = await fetched.next_batch()
            details = [item for item in batch if not isinstance(item, tuple)]
            gone.extend(item[0] for item in batch if isinstance(item, tuple) and item[1])
            failed += sum(1 for item in batch if isinstance(item, tuple) and not item[1])
            written = await store_snapshots(details, started, chats)
            joins += await attribute_joins(written.details, wecom, now())
            stored += len(written.details)
            members += written.members
            done += len(batch)
            on_progress(total, done)

    try:
        async with asyncio.TaskGroup() as tasks:
            for _ in range(max(1, min(concurrency, total))):
                tasks.create_task(fetched.fetch(ids, wecom))
            tasks.create_task(store_all())
    except ExceptionGroup as failure:
        raise failure.exceptions[0] from None
    dismissed = await mark_dismissed(gone, now(), now())
    dismissed += await _dismiss_unlisted(set(chats), started, now())
    result = GroupSyncResult(stored, members, dismissed, failed, joins)
    log.info("groups.sync_done listed=%d stored=%d members=%d dismissed=%d failed=%d "
             "joins=%d", total, stored, members, dismissed, failed, joins)
    return result


async def _dismiss_unlisted(listed: set[str], started: datetime, at: datetime) -> int:
    """Mark dismissed the active groups the listing did not name and nothing stored
    since the sync started (an event may have brought a new one meanwhile)."""
    held = await GroupChat.filter(
        Q(synced_at__lt=started) | Q(synced_at__isnull=True), status=GroupStatus.ACTIVE,
    ).values_list("chat_id", flat=True)
    unlisted = sorted({str(chat_id) for chat_id in held} - listed)
    dismissed = 0
    for start in range(0, len(unlisted), DISMISS_CHUNK):
        dismissed += await mark_dismissed(unlisted[start:start + DISMISS_CHUNK], at, at)
    if unlisted:
        log.info("groups.sync_dismissed count=%d", dismissed)
    return dismissed
