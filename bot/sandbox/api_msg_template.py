"""WeCom API: 企业群发 (mass messages) to customer groups, wecom-protocol.md §3.10.

- `POST externalcontact/add_msg_template` {chat_type: "group", sender, chat_id_list,
  text?: {content}, attachments?, allow_select?} → {msgid, fail_list}: a task
  (group_pushes.py) for the groups the sender owns; groups unknown, dismissed or owned
  by someone else go to `fail_list` (a task is recorded even when every group failed).
  Attachments are checked as send_welcome_msg checks them (api_welcome.attachment).
- `POST externalcontact/get_groupmsg_task` {msgid, limit?=500, cursor?} → {task_list:
  [{userid, status (0 not sent, 2 sent), send_time (once sent)}], next_cursor}.
- `POST externalcontact/get_groupmsg_send_result` {msgid, userid, limit?=500, cursor?}
  → {send_list: [{chat_id, userid, status (0 not sent, 1 sent, 3 over the receive
  limit), send_time (once sent)}], next_cursor}; empty for a userid who is not the
  sender.
- `POST externalcontact/remind_groupmsg_send` {msgid}: at most 3 per task in any 24 h
  (sandbox clock), 41094 after; the console shows the count.
- `POST externalcontact/cancel_groupmsg_send` {msgid}: the task can no longer be
  confirmed; 41093 when it was cancelled already.

Nothing is sent until the sender confirms: the console plays the senders
(console_groupmsg.py). WeCom's 41063 ("being dispatched") right after creation comes
from fault injection, e.g. `POST /sandbox/faults {"api":
"externalcontact/get_groupmsg_task", "errcode": 41063, "count": 1}`.

Errors: chat_type "single" (not simulated) or unknown, sender missing, chat_id_list
empty or over 2,000, text over 4,000 bytes → 40058; an unknown sender → 40003;
neither text nor attachments → 44004; over 9 attachments 41064; an attachment msgtype
other than image, link, miniprogram, video or file 41065 (a missing field 40058).
msgid missing 41046, unknown 41047; a limit outside 0..1000 → 40058 (0: the default);
userid missing in get_groupmsg_send_result → 41009; reminding a cancelled task →
41093 (the sandbox's choice).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.sandbox.api import ApiCall, route
from bot.sandbox.api_body import items, obj, text, within_bytes
from bot.sandbox.api_welcome import MAX_ATTACHMENTS, MAX_TEXT_BYTES, attachment
from bot.sandbox.errors import (
    EMPTY_CONTENT,
    INVALID_MSGID,
    INVALID_PARAMETER,
    INVALID_USERID,
    MISSING_MSGID,
    MISSING_USERID,
    MSG_CANCELLED,
    REMIND_LIMIT,
    TOO_MANY_ATTACHMENTS,
    ApiError,
)
from bot.sandbox.group_pushes import GroupPush
from bot.sandbox.paging import page

GROUP_CHAT_TYPE = "group"
MAX_CHAT_IDS = 2000
PAGE_DEFAULT_LIMIT = 500
PAGE_MAX_LIMIT = 1000


def _content(body: dict[str, Any]) -> tuple[str | None, list[dict[str, Any]]]:
    content = None
    if "text" in body:
        content = within_bytes(text(obj(body, "text"), "content"), MAX_TEXT_BYTES) or None
    raw_attachments = items(body, "attachments", dict)
    if len(raw_attachments) > MAX_ATTACHMENTS:
        raise ApiError(TOO_MANY_ATTACHMENTS)
    attachments = [attachment(raw) for raw in raw_attachments]
    if not content and not attachments:
        raise ApiError(EMPTY_CONTENT)
    return content, attachments


def add_msg_template(call: ApiCall) -> dict[str, Any]:
    body = call.body
    sender = text(body, "sender")
    chat_ids = list(dict.fromkeys(items(body, "chat_id_list")))
    if (text(body, "chat_type", "single") != GROUP_CHAT_TYPE or not sender
            or not 1 <= len(chat_ids) <= MAX_CHAT_IDS):
        raise ApiError(INVALID_PARAMETER)
    if sender not in call.state.contacts.staff:
        raise ApiError(INVALID_USERID)
    content, attachments = _content(body)
    chats = call.state.chats
    owned = {chat_id for chat_id in chat_ids
             if (chat := chats.get_active(chat_id)) is not None and chat.owner == sender}
    fail_list = [chat_id for chat_id in chat_ids if chat_id not in owned]
    task = call.state.group_pushes.create(sender, [c for c in chat_ids if c in owned],
                                          fail_list, content, attachments, call.now)
    return {"msgid": task.msgid, "fail_list": fail_list}


def _task(call: ApiCall) -> GroupPush:
    msgid = text(call.body, "msgid")
    if not msgid:
        raise ApiError(MISSING_MSGID)
    task = call.state.group_pushes.tasks.get(msgid)
    if task is None:
        raise ApiError(INVALID_MSGID)
    return task


def _paged(call: ApiCall, rows: list[dict[str, Any]], name: str) -> dict[str, Any]:
    limit = call.body.get("limit") or PAGE_DEFAULT_LIMIT
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= PAGE_MAX_LIMIT:
        raise ApiError(INVALID_PARAMETER)
    chunk, next_cursor = page(rows, text(call.body, "cursor"), limit)
    return {name: chunk, "next_cursor": next_cursor}


def _sent_at(send_time: int) -> dict[str, int]:
    return {"send_time": send_time} if send_time else {}


def get_groupmsg_task(call: ApiCall) -> dict[str, Any]:
    task = _task(call)
    rows = [{"userid": task.sender, "status": task.status, **_sent_at(task.send_time)}]
    return _paged(call, rows, "task_list")


def get_groupmsg_send_result(call: ApiCall) -> dict[str, Any]:
    task = _task(call)
    userid = text(call.body, "userid")
    if not userid:
        raise ApiError(MISSING_USERID)
    rows = [{"chat_id": c.chat_id, "userid": task.sender, "status": c.status,
             **_sent_at(c.send_time)} for c in task.chats] if userid == task.sender else []
    return _paged(call, rows, "send_list")


def remind_groupmsg_send(call: ApiCall) -> dict[str, Any]:
    task = _task(call)
    if task.cancelled:
        raise ApiError(MSG_CANCELLED)
    if not call.state.group_pushes.remind(task, call.now):
        raise ApiError(REMIND_LIMIT)
    return {}


def cancel_groupmsg_send(call: ApiCall) -> dict[str, Any]:
    task = _task(call)
    if task.cancelled:
        raise ApiError(MSG_CANCELLED)
    task.cancelled = True
    return {}


def routes() -> list[web.RouteDef]:
    return [
        route("POST", "externalcontact/add_msg_template", add_msg_template),
        route("POST", "externalcontact/get_groupmsg_task", get_groupmsg_task),
        route("POST", "externalcontact/get_groupmsg_send_result", get_groupmsg_send_result),
        route("POST", "externalcontact/remind_groupmsg_send", remind_groupmsg_send),
        route("POST", "externalcontact/cancel_groupmsg_send", cancel_groupmsg_send),
    ]
