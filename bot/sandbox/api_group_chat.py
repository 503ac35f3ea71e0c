"""WeCom API: customer groups (客户群), wecom-protocol.md §3.8.

- `POST externalcontact/groupchat/list` {status_filter?=0, owner_filter?: {userid_list},
  cursor?, limit} → {group_chat_list: [{chat_id, status}], next_cursor}: the groups
  (dismissed ones left out) in creation order, only those of the owners named when
  `owner_filter` is given (unknown owners simply own nothing). `status_filter` 0 all,
  else only groups with that status (1 owner left, 2 inheriting, 3 inherited: the
  sandbox's groups are all 0, normal).
- `POST externalcontact/groupchat/get` {chat_id, need_name?=0} → {group_chat: {chat_id,
  name, owner, create_time, notice, member_list[{userid, type, join_time, join_scene,
  state?, unionid?, invitor?: {userid}, group_nickname, name?}], admin_list[{userid}],
  member_version}}: `state` only for members who came through a join way, `unionid`
  only for customers whose unionid the corp knows, `invitor` only when a member
  invited, `name` only with need_name=1.

Errors: `limit` missing or outside 1..1000, more than 100 owners, a status_filter
outside 0..3 or a cursor the sandbox did not issue → 40058; no owner_filter while
more than 1,000 staff are in range → 81017; an empty chat_id → 40058 (the sandbox's
choice); an unknown or dismissed group → 90501.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.sandbox.api import ApiCall, route
from bot.sandbox.api_body import integer, items, obj, text
from bot.sandbox.errors import INVALID_PARAMETER, NOT_CUSTOMER_GROUP, TOO_MANY_ITEMS, ApiError
from bot.sandbox.group_chats import CUSTOMER_MEMBER, GroupChat, GroupMember
from bot.sandbox.paging import page

LIST_MAX_LIMIT = 1000
LIST_MAX_OWNERS = 100
UNFILTERED_MAX_STAFF = 1000
STATUSES = (0, 1, 2, 3)


def member_json(member: GroupMember, need_name: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"userid": member.userid, "type": member.type,
                           "join_time": member.join_time, "join_scene": member.join_scene}
    if member.state:
        out["state"] = member.state
    if member.type == CUSTOMER_MEMBER and member.unionid:
        out["unionid"] = member.unionid
    if member.invitor:
        out["invitor"] = {"userid": member.invitor}
    out["group_nickname"] = member.group_nickname
    if need_name:
        out["name"] = member.name
    return out


def group_chat_json(chat: GroupChat, need_name: bool) -> dict[str, Any]:
    return {
        "chat_id": chat.chat_id, "name": chat.name, "owner": chat.owner,
        "create_time": chat.create_time, "notice": chat.notice,
        "member_list": [member_json(m, need_name) for m in chat.members.values()],
        "admin_list": [{"userid": a} for a in chat.admins],
        "member_version": chat.member_version,
    }


def list_limit(body: dict[str, Any], max_limit: int) -> int:
    """A required `limit` of 1..max_limit (40058 otherwise)."""
    limit = integer(body, "limit")
    if not 1 <= limit <= max_limit:
        raise ApiError(INVALID_PARAMETER)
    return limit


def list_group_chats(call: ApiCall) -> dict[str, Any]:
    limit = list_limit(call.body, LIST_MAX_LIMIT)
    status = integer(call.body, "status_filter")
    if status not in STATUSES:
        raise ApiError(INVALID_PARAMETER)
    owner_filter = obj(call.body, "owner_filter")
    owners = set(items(owner_filter, "userid_list"))
    if len(owners) > LIST_MAX_OWNERS:
        raise ApiError(INVALID_PARAMETER)
    if not owners and len(call.state.contacts.staff) > UNFILTERED_MAX_STAFF:
        raise ApiError(TOO_MANY_ITEMS)
    chats = [chat for chat in call.state.chats.active()
             if (not owners or chat.owner in owners) and (not status or chat.status == status)]
    chunk, next_cursor = page(chats, text(call.body, "cursor"), limit)
    return {"group_chat_list": [{"chat_id": c.chat_id, "status": c.status} for c in chunk],
            "next_cursor": next_cursor}


def get_group_chat(call: ApiCall) -> dict[str, Any]:
    chat_id = text(call.body, "chat_id")
    if not chat_id:
        raise ApiError(INVALID_PARAMETER)
    chat = call.state.chats.get_active(chat_id)
    if chat is None:
        raise ApiError(NOT_CUSTOMER_GROUP)
    return {"group_chat": group_chat_json(chat, integer(call.body, "need_name") == 1)}


def routes() -> list[web.RouteDef]:
    return [
        route("POST", "externalcontact/groupchat/list", list_group_chats),
        route("POST", "externalcontact/groupchat/get", get_group_chat),
    ]
