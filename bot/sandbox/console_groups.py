"""Console: customer-group changes, each firing change_external_chat (§2.2).

`POST /sandbox/groups/event` {change_type, ..., wait?}:
- "create" {owner, name?, members?} → a new `wr…` group (owner included) → ChatId.
- "update" {chat_id, update_detail, ...}:
  - add_member {members, join_scene?=0} / del_member {members, quit_scene?=0}: also
    MemChangeCnt, MemChangeList (`<Item>` children), LastMemVer, CurMemVer.
  - change_owner {owner}, change_name {name}, change_notice {notice}.
- "dismiss" {chat_id}: the group is gone.
Answers {"chat": {...}, "delivery": {...}}.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

from aiohttp import web

from bot.sandbox.console_http import Body, fire, read_body, state_of
from bot.sandbox.envelope import CallbackEvent, FieldValue
from bot.sandbox.errors import ConsoleError
from bot.sandbox.group_chats import GroupChat, MemberChange
from bot.sandbox.state import SandboxState

CHAT_EVENT = "change_external_chat"
Fields = list[tuple[str, FieldValue]]


def create(state: SandboxState, body: Body) -> tuple[GroupChat, Fields]:
    owner = state.contacts.require_staff(body.text("owner")).userid
    chat = state.chats.create(owner, body.text("name", ""), body.texts("members"),
                              int(state.now()))
    return chat, []


def update(state: SandboxState, body: Body) -> tuple[GroupChat, Fields]:
    chat = state.chats.require(body.text("chat_id"))
    detail = body.text("update_detail")
    if detail == "add_member":
        change = state.chats.add_members(chat.chat_id, body.texts("members"))
        return chat, [("UpdateDetail", detail), ("JoinScene", body.integer("join_scene", 0)),
                      *member_fields(change)]
    if detail == "del_member":
        change = state.chats.remove_members(chat.chat_id, body.texts("members"))
        return chat, [("UpdateDetail", detail), ("QuitScene", body.integer("quit_scene", 0)),
                      *member_fields(change)]
    if detail == "change_owner":
        chat.owner = state.contacts.require_staff(body.text("owner")).userid
    elif detail == "change_name":
        chat.name = body.text("name")
    elif detail == "change_notice":
        chat.notice = body.text("notice")
    else:
        raise ConsoleError(f"unknown update_detail {detail!r}")
    return chat, [("UpdateDetail", detail)]


def member_fields(change: MemberChange) -> Fields:
    return [
        ("MemChangeCnt", len(change.changed)),
        ("MemChangeList", change.changed),
        ("LastMemVer", change.last_version),
        ("CurMemVer", change.current_version),
    ]


def dismiss(state: SandboxState, body: Body) -> tuple[GroupChat, Fields]:
    return state.chats.dismiss(body.text("chat_id")), []


CHANGES: dict[str, Callable[[SandboxState, Body], tuple[GroupChat, Fields]]] = {
    "create": create,
    "update": update,
    "dismiss": dismiss,
}


async def group_event(request: web.Request) -> web.Response:
    body = await read_body(request)
    change_type = body.text("change_type")
    if change_type not in CHANGES:
        raise ConsoleError(f"change_type must be one of {sorted(CHANGES)}")
    chat, fields = CHANGES[change_type](state_of(request), body)
    event = CallbackEvent(CHAT_EVENT, change_type, (("ChatId", chat.chat_id), *fields))
    return await fire(request, event, body.wait, chat=asdict(chat))


def routes() -> list[web.RouteDef]:
    return [web.post("/groups/event", group_event)]
