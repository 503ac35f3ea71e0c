"""Attribution of customers who join a group through a group QR code (加入群聊 join way).

groupchat/get gives such a member the way's `state`. Whenever a stored snapshot holds a
customer with a join way's state (group created, resynced, fully synced, or refetched
for a QR join), the join is recorded once (GroupJoin is unique per group, customer and
join time) and the way's tags are marked on the customer through a follow relation,
the group owner's first. A customer who follows none of our staff is recorded untagged;
their join is tried again each time the group is stored, so the tags follow once a
relation exists.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from handlers.group_store import from_epoch
from handlers.onboarding import mark_tags
from models.contacts import FollowRelation, FollowStatus
from models.groups import CUSTOMER_MEMBER, GroupJoin, GroupJoinWay
from models.upsert import find_row, insert_row

if TYPE_CHECKING:
    from bot.wecom import WeComClient
    from bot.wecom.group_chat import GroupChatDetail, GroupMemberInfo

log = logging.getLogger("scrm.groups")


async def attribute_joins(
    details: Sequence[GroupChatDetail], wecom: WeComClient, now: datetime
) -> int:
    """Record (and tag) the join-way joins among the groups' customers; returns how
    many joins were recorded by this call."""
    joins = [(d, m) for d in details for m in d.members
             if m.type == CUSTOMER_MEMBER and m.state]
    if not joins:
        return 0
    states = sorted({m.state for _, m in joins})
    ways = {w.state: w for w in await GroupJoinWay.filter(state__in=states)}
    recorded = 0
    for detail, member in joins:
        way = ways.get(member.state)
        if way is None:
            continue
        join, new = await _record(way, detail.chat_id, member, now)
        recorded += new
        if way.tag_ids and not join.tagged:
            await _tag(join, way, detail.owner, wecom)
    return recorded


async def _record(way: GroupJoinWay, chat_id: str, member: GroupMemberInfo,
                  now: datetime) -> tuple[GroupJoin, bool]:
    keys = {"chat_id": chat_id, "external_userid": member.userid,
            "joined_at": from_epoch(member.join_time) or now}
    join = await insert_row(GroupJoin, {**keys, "config_id": way.config_id, "state": way.state},
                            unless=list(keys))
    if join is not None:
        log.info("group.joined config_id=%s chat_id=%s external_userid=%s state=%s",
                 way.config_id, chat_id, member.userid, way.state)
        return join, True
    held = await find_row(GroupJoin, keys)
    assert held is not None  # the insert found it
    return held, False


async def _tag(join: GroupJoin, way: GroupJoinWay, owner: str, wecom: WeComClient) -> bool:
    relations = sorted(
        await FollowRelation.filter(customer__external_userid=join.external_userid,
                                    status=FollowStatus.ACTIVE).order_by("id"),
        key=lambda r: r.staff_userid != owner)
    for relation in relations:
        marked = await mark_tags(relation.staff_userid, join.external_userid,
                                 list(way.tag_ids), relation, wecom)
        if marked is None:
            continue  # WeCom says they are not contacts (any more): try another relation
        await GroupJoin.filter(id=join.id).update(tagged=True,
                                                  tagged_via=relation.staff_userid)
        log.info("group.join_tagged config_id=%s external_userid=%s via=%s",
                 way.config_id, join.external_userid, relation.staff_userid)
        return True
    log.info("group.join_untagged config_id=%s external_userid=%s: no follow relation",
             way.config_id, join.external_userid)
    return False
