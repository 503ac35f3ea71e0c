"""Console: customer-group changes, each firing change_external_chat (§2.2), and bulk
groups for sync tests and benchmarks.

`POST /sandbox/groups/event` {change_type, ..., wait?, fire?=true}:
- "create" {owner, name?, members?, admins?} → a new `wr…` group (owner included;
  members are staff or customers by their id, invited directly by the owner) → ChatId.
- "update" {chat_id, update_detail, ...}:
  - add_member {members, join_scene?=0, state?, invitor?} / del_member {members,
    quit_scene?=0}: also MemChangeCnt, MemChangeList, LastMemVer, CurMemVer.
    `join_scene` is the event's JoinScene (0 invited by a member, 3 group QR code);
    the members' groupchat/get `join_scene` is 1 (direct invite) for 0, else the same.
    `invitor` defaults to the owner for invitations, none for QR joins. `state` is the
    join way's state the members came through.
    `mem_change_list`: "items" (default, `<Item>` children, today's format) or "csv"
    (`<MemChangeList><![CDATA[id1,id2]]></MemChangeList>`, the old format).
  - change_owner {owner}, change_name {name}, change_notice {notice}.
- "dismiss" {chat_id}: the group leaves every listing (groupchat/get answers 90501).
`"fire": false` changes the state WITHOUT a callback (a lost callback: the backend
sees a LastMemVer it does not hold next time). Answers {"chat": {...}, "delivery": {...}
or null}.

`POST /sandbox/groups/bulk` {owners, groups_per_owner, customers_per_group?=0,
name_prefix?="群"} → {"chat_ids": [...]}: groups created with no callbacks (WeCom's
existing data, like `/sandbox/seed`), each owner's in turn, named
`{name_prefix}{owner}-{n}`, each with `customers_per_group` new WeChat customers
(with unionids) invited by the owner. Owners must exist (create them with
`/sandbox/staff` or `/sandbox/seed`); unknown ones are refused with 404 naming them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import count
from typing import Any

from aiohttp import web

from bot.sandbox.console_http import Body, fired, read_body, state_of
from bot.sandbox.contacts import Customer
from bot.sandbox.envelope import CallbackEvent, FieldValue
from bot.sandbox.errors import ConsoleError, NotFound
from bot.sandbox.group_chats import (
    EVENT_JOIN_INVITED,
    JOIN_DIRECT_INVITE,
    JOIN_INVITE_LINK,
    GroupChat,
    MemberChange,
    member_join_scene,
    new_member,
)
from bot.sandbox.ids import new_external_userid, new_id
from bot.sandbox.state import SandboxState

CHAT_EVENT = "change_external_chat"
MEM_CHANGE_ENCODINGS = ("items", "csv")
MAX_BULK_GROUPS = 100_000
MAX_BULK_CUSTOMERS = 1_000_000
Fields = list[tuple[str, FieldValue]]


def create(state: SandboxState, body: Body) -> tuple[GroupChat, Fields]:
    owner = state.contacts.require_staff(body.text("owner")).userid
    now = int(state.now())
    members = [new_member(state.contacts, m, now, invitor=owner) for m in body.texts("members")]
    chat = state.chats.create(new_member(state.contacts, owner, now), body.text("name", ""),
                              now, members, body.texts("admins"))
    return chat, []


def update(state: SandboxState, body: Body) -> tuple[GroupChat, Fields]:
    chat = state.chats.require(body.text("chat_id"))
    detail = body.text("update_detail")
    if detail == "add_member":
        scene = body.integer("join_scene", EVENT_JOIN_INVITED)
        change = join(state, chat, body.texts("members"), scene,
                      way_state=body.text("state", ""), invitor=body.text("invitor", ""))
        return chat, [("UpdateDetail", detail), ("JoinScene", scene),
                      *member_fields(change, body)]
    if detail == "del_member":
        change = state.chats.remove_members(chat.chat_id, body.texts("members"))
        return chat, [("UpdateDetail", detail), ("QuitScene", body.integer("quit_scene", 0)),
                      *member_fields(change, body)]
    if detail == "change_owner":
        chat.owner = state.contacts.require_staff(body.text("owner")).userid
    elif detail == "change_name":
        chat.name = body.text("name")
    elif detail == "change_notice":
        chat.notice = body.text("notice")
    else:
        raise ConsoleError(f"unknown update_detail {detail!r}")
    return chat, [("UpdateDetail", detail)]


def join(sandbox: SandboxState, chat: GroupChat, userids: list[str], event_join_scene: int,
         *, way_state: str = "", invitor: str = "") -> MemberChange:
    """`userids` join `chat` now, through a join way with `way_state` if any; an
    invitation names the owner as invitor unless told."""
    scene = member_join_scene(event_join_scene)
    if not invitor and scene in (JOIN_DIRECT_INVITE, JOIN_INVITE_LINK):
        invitor = chat.owner
    now = int(sandbox.now())
    return sandbox.chats.add_members(chat.chat_id, [
        new_member(sandbox.contacts, userid, now, join_scene=scene, state=way_state,
                   invitor=invitor)
        for userid in userids
    ])


def member_fields(change: MemberChange, body: Body) -> Fields:
    encoding = body.text("mem_change_list", MEM_CHANGE_ENCODINGS[0])
    if encoding not in MEM_CHANGE_ENCODINGS:
        raise ConsoleError(f"mem_change_list must be one of {MEM_CHANGE_ENCODINGS}")
    changed: FieldValue = change.changed if encoding == "items" else ",".join(change.changed)
    return [
        ("MemChangeCnt", len(change.changed)),
        ("MemChangeList", changed),
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


def chat_event(change_type: str, chat: GroupChat,
               fields: Iterable[tuple[str, FieldValue]] = ()) -> CallbackEvent:
    return CallbackEvent(CHAT_EVENT, change_type, (("ChatId", chat.chat_id), *fields))


async def maybe_fired(request: web.Request, body: Body, event: CallbackEvent,
                      **extra: Any) -> dict[str, Any]:
    """`fired`, unless the body says `"fire": false`: then the callback is lost and
    "delivery" is null."""
    if not body.flag("fire", True):
        return {**extra, "delivery": None}
    return await fired(request, event, body.wait, **extra)


async def group_event(request: web.Request) -> web.Response:
    body = await read_body(request)
    change_type = body.text("change_type")
    if change_type not in CHANGES:
        raise ConsoleError(f"change_type must be one of {sorted(CHANGES)}")
    chat, fields = CHANGES[change_type](state_of(request), body)
    return web.json_response(await maybe_fired(
        request, body, chat_event(change_type, chat, fields), chat=chat.to_json()))


async def bulk_groups(request: web.Request) -> web.Response:
    body, state = await read_body(request), state_of(request)
    owners = list(dict.fromkeys(body.texts("owners")))
    per_owner = body.integer("groups_per_owner")
    customers = body.integer("customers_per_group", 0)
    groups = len(owners) * per_owner
    if (not owners or per_owner < 0 or customers < 0 or groups > MAX_BULK_GROUPS
            or groups * customers > MAX_BULK_CUSTOMERS):
        raise ConsoleError(f"owners must not be empty, counts >= 0, at most "
                           f"{MAX_BULK_GROUPS} groups and {MAX_BULK_CUSTOMERS} customers")
    unknown = [userid for userid in owners if userid not in state.contacts.staff]
    if unknown:
        raise NotFound(f"staff {unknown[:10]} ({len(unknown)} unknown owners)")
    prefix, now = body.text("name_prefix", "群"), int(state.now())
    serial = count(len(state.contacts.customers) + 1)
    chat_ids = []
    for n in range(1, per_owner + 1):
        for owner in owners:
            members = [new_member(state.contacts, bulk_customer(state, next(serial)), now,
                                  invitor=owner) for _ in range(customers)]
            chat = state.chats.create(new_member(state.contacts, owner, now),
                                      f"{prefix}{owner}-{n}", now, members)
            chat_ids.append(chat.chat_id)
    return web.json_response({"chat_ids": chat_ids})


def bulk_customer(state: SandboxState, serial: int) -> str:
    return state.contacts.add_customer(Customer(
        external_userid=new_external_userid(1), name=f"群客户{serial}", unionid=new_id("o"),
    )).external_userid


def routes() -> list[web.RouteDef]:
    return [web.post("/groups/event", group_event), web.post("/groups/bulk", bulk_groups)]
