"""Writing customer groups: whole snapshots from groupchat/get, and the member deltas of
change_external_chat events.

Events and syncs race (several workers, re-deliveries, a full sync running while events
arrive), and member versions are opaque hashes that cannot be ordered. So every write
says how fresh it is in `synced_at`: a snapshot carries the moment before it was
fetched and is dropped when the stored group is fresher; a delta applies only while
the stored `member_version` is the event's LastMemVer (compare and set), and stamps
`synced_at` with its own time. A snapshot fetched before a delta was applied thus never
undoes it, and a delta never lands on a list it was not computed from.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tortoise.transactions import in_transaction

from models.groups import CUSTOMER_MEMBER, STAFF_MEMBER, GroupChat, GroupMember, GroupStatus
from models.upsert import upsert_many

if TYPE_CHECKING:
    from bot.wecom.group_chat import GroupChatDetail, GroupMemberInfo

log = logging.getLogger("scrm.groups")

# External contact ids: `wm…` for WeChat users, `wo…` for WeCom users (of another corp).
CUSTOMER_PREFIXES = ("wm", "wo")


def from_epoch(value: int) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value else None


def member_type(userid: str) -> int:
    """Staff or customer, for an id an event names (events carry no member type)."""
    return CUSTOMER_MEMBER if userid.startswith(CUSTOMER_PREFIXES) else STAFF_MEMBER


def _group_row(detail: GroupChatDetail, fetched_at: datetime,
               owner_status: int | None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "chat_id": detail.chat_id, "name": detail.name, "owner": detail.owner,
        "notice": detail.notice, "created_at": from_epoch(detail.create_time) or fetched_at,
        "status": GroupStatus.ACTIVE, "admins": list(detail.admins),
        "member_version": detail.member_version,
        "member_count": len({m.userid for m in detail.members}),
        "synced_at": fetched_at, "dismissed_at": None,
    }
    if owner_status is not None:
        row["owner_status"] = owner_status
    return row


def _member_row(chat_id: str, member: GroupMemberInfo) -> dict[str, Any]:
    return {
        "chat_id": chat_id, "userid": member.userid, "type": member.type,
        "join_time": from_epoch(member.join_time), "join_scene": member.join_scene,
        "state": member.state[:30], "unionid": member.unionid[:64],
        "invitor": member.invitor[:64], "group_nickname": member.group_nickname[:64],
        "name": member.name[:64], "left_at": None, "quit_scene": None,
    }


@dataclass(frozen=True)
class Stored:
    """The snapshots a store wrote (those not superseded by fresher data)."""

    details: list[GroupChatDetail]

    @property
    def members(self) -> int:
        return sum(len(d.members) for d in self.details)


async def store_snapshots(
    details: Sequence[GroupChatDetail], fetched_at: datetime,
    owner_status: Mapping[str, int] | None = None,
) -> Stored:
    """Store groups as groupchat/get returned them (fetched no earlier than
    `fetched_at`), members and admins included; members no longer listed are marked
    left. One transaction; a group stored fresher than `fetched_at` is left alone."""
    unique = list({d.chat_id: d for d in details if d.chat_id}.values())
    if not unique:
        return Stored([])
    rows = [_group_row(d, fetched_at, None if owner_status is None
                       else owner_status.get(d.chat_id, 0)) for d in unique]
    async with in_transaction():
        written = {r["chat_id"] for r in await upsert_many(
            GroupChat, ["chat_id"], rows, unless_newer="synced_at", returning=["chat_id"])}
        stored = [d for d in unique if d.chat_id in written]
        # A group new to us has no member rows yet: members are written only after
        # their group's row.
        await _mark_left(stored, fetched_at)
        await upsert_many(GroupMember, ["chat_id", "userid"], [
            _member_row(d.chat_id, m)
            for d in stored for m in {m.userid: m for m in d.members}.values()])
    superseded = len(unique) - len(stored)
    if superseded:
        log.info("groups.snapshot_superseded count=%d", superseded)
    return Stored(stored)


async def _mark_left(details: Sequence[GroupChatDetail], at: datetime) -> None:
    """Members we hold as present whom the snapshots no longer list have left: one
    query for the batch, one update for all of them."""
    if not details:
        return
    listed = {(d.chat_id, m.userid) for d in details for m in d.members}
    present = await GroupMember.filter(
        chat_id__in=[d.chat_id for d in details], left_at=None,
    ).values_list("id", "chat_id", "userid")
    gone = [row_id for row_id, chat_id, userid in present if (chat_id, userid) not in listed]
    if gone:
        await GroupMember.filter(id__in=gone).update(left_at=at)


async def apply_member_delta(
    chat_id: str, last_version: str, current_version: str, *, joined: Sequence[str] = (),
    left: Sequence[str] = (), at: datetime, join_scene: int | None = None,
    quit_scene: int | None = None, now: datetime,
) -> bool:
    """Apply an event's joins or leaves, if the group still holds `last_version`;
    False (nothing written) when it does not."""
    async with in_transaction():
        moved = await GroupChat.filter(
            chat_id=chat_id, member_version=last_version, status=GroupStatus.ACTIVE,
        ).update(member_version=current_version, synced_at=now)
        if not moved:
            return False
        if joined:
            # A join this way is never through a group QR code (those are refetched for
            # their `state`): a `state` or invitor of an earlier stay does not carry over.
            await upsert_many(GroupMember, ["chat_id", "userid"], [
                {"chat_id": chat_id, "userid": userid, "type": member_type(userid),
                 "join_time": at, "join_scene": join_scene, "state": "", "invitor": "",
                 "left_at": None, "quit_scene": None}
                for userid in dict.fromkeys(joined)])
        if left:
            await GroupMember.filter(chat_id=chat_id, userid__in=list(left),
                                     left_at=None).update(left_at=at, quit_scene=quit_scene)
        count = await GroupMember.filter(chat_id=chat_id, left_at=None).count()
        await GroupChat.filter(chat_id=chat_id).update(member_count=count)
    return True


async def mark_dismissed(chat_ids: Sequence[str], at: datetime, now: datetime) -> int:
    """Mark groups dismissed (members are kept); returns how many were active."""
    if not chat_ids:
        return 0
    return await GroupChat.filter(chat_id__in=list(chat_ids), status=GroupStatus.ACTIVE).update(
        status=GroupStatus.DISMISSED, dismissed_at=at, synced_at=now)
