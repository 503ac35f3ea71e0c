"""Console: a customer joining a customer group through a 「加入群聊」 join way (group QR
code), firing change_external_chat as WeCom does.

The `qr_code` URL that add_join_way answers points here, so a browser (or a test) can
play the customer:

- `GET /sandbox/join/{config_id}` → a small HTML page (UTF-8, no external assets): the
  way's state and remark, its groups with their member counts, and a form (customer
  name, optional external_userid) posting to the join below.
- `POST /sandbox/groups/join`, JSON or that form: {config_id, external_userid? | name?
  (and any `POST /sandbox/customers` field, e.g. unionid), capacity?=200, wait?,
  fire?=true, mem_change_list?}. The customer (the one `external_userid` names, else
  a new WeChat customer, for which `name` is required) joins the first group of the
  way with fewer than `capacity` members. When every group is full and the way has
  auto_create_room, a new group named room_base_name + room_base_id (room_base_id then
  moves on; the first group's name when no base name is set), owned by the first
  group's owner, is created, appended to the way's chat_id_list and fires `create`.
  The join fires update/add_member with JoinScene 3; the member's join_scene is 3 and
  its `state` the way's state. A customer already in one of the way's groups, or a
  full way without auto_create_room, is refused (400 conflict). JSON answers
  {"chat": {...}, "delivery": {...}, "create_delivery": {...} or null}; the form
  answers an HTML page saying the same. `"fire": false` loses both callbacks.
"""

from __future__ import annotations

from html import escape
from typing import Any

from aiohttp import web

from bot.sandbox.console_groups import chat_event, join, maybe_fired, member_fields
from bot.sandbox.console_http import state_of
from bot.sandbox.console_qr import facts, form_or_json, page, scanning_customer
from bot.sandbox.errors import Conflict, ConsoleError
from bot.sandbox.group_chats import JOIN_QR_CODE, GroupChat, new_member
from bot.sandbox.join_ways import JoinWay
from bot.sandbox.state import SandboxState

DEFAULT_CAPACITY = 200


async def show_join_way(request: web.Request) -> web.Response:
    state = state_of(request)
    way = state.join_ways.require(request.match_info["config_id"])
    groups = "; ".join(f"{chat.name} ({chat.chat_id}): {len(chat.members)}"
                       for chat in way_chats(state, way))
    form = ('<form method="post" action="/sandbox/groups/join">'
            f'<input type="hidden" name="config_id" value="{escape(way.config_id)}">'
            '<label>客户名称 <input name="name" required></label>'
            "<label>external_userid（可选，已有客户）<input name=\"external_userid\"></label>"
            "<button>扫码入群</button></form>")
    return page(f"加入群聊 {way.remark or way.config_id}", "<h1>「加入群聊」</h1>" + facts([
        ("config_id", way.config_id), ("state", way.state), ("remark", way.remark),
        ("groups", groups), ("auto_create_room", str(way.auto_create_room)),
    ]) + form)


def way_chats(state: SandboxState, way: JoinWay) -> list[GroupChat]:
    """The way's groups that still exist, in its order."""
    return [chat for chat in map(state.chats.get_active, way.chat_ids) if chat is not None]


async def join_group(request: web.Request) -> web.StreamResponse:
    body, from_form = await form_or_json(request)
    state = state_of(request)
    way = state.join_ways.require(body.text("config_id"))
    capacity = body.integer("capacity", DEFAULT_CAPACITY)
    if capacity < 1:
        raise ConsoleError("capacity must be >= 1")
    chats = way_chats(state, way)
    chat = next((c for c in chats if len(c.members) < capacity), None)
    if chat is None and not way.auto_create_room:
        raise Conflict(f"every group of join way {way.config_id!r} is full")
    customer = scanning_customer(state, body)
    inside = [c.chat_id for c in chats if customer in c.members]
    if inside:
        raise Conflict(f"{customer!r} is already in {inside[0]!r}")
    create_delivery = None
    if chat is None:
        chat = auto_created_room(state, way)
        created = await maybe_fired(request, body, chat_event("create", chat))
        create_delivery = created["delivery"]
    change = join(state, chat, [customer], JOIN_QR_CODE, way_state=way.state)
    event = chat_event("update", chat, [("UpdateDetail", "add_member"),
                                        ("JoinScene", JOIN_QR_CODE),
                                        *member_fields(change, body)])
    answer = await maybe_fired(request, body, event, chat=chat.to_json(),
                               create_delivery=create_delivery)
    return joined_page(way, customer, answer) if from_form else web.json_response(answer)


def auto_created_room(state: SandboxState, way: JoinWay) -> GroupChat:
    """The group WeCom opens when every group of the way is full."""
    first = state.chats.chats[way.chat_ids[0]]
    now = int(state.now())
    chat = state.chats.create(new_member(state.contacts, first.owner, now),
                              way.next_room_name(first.name), now)
    way.chat_ids.append(chat.chat_id)
    return chat


def joined_page(way: JoinWay, customer: str, answer: dict[str, Any]) -> web.Response:
    chat, delivery = answer["chat"], answer["delivery"]
    back = escape(f"/sandbox/join/{way.config_id}")
    return page("已入群", "<h1>已入群</h1>" + facts([
        ("external_userid", customer), ("group", f"{chat['name']} ({chat['chat_id']})"),
        ("state", way.state),
        ("callback", delivery["outcome"] if delivery else "（未发送）"),
    ]) + f'<p><a href="{back}">再扫一次</a></p>')


def routes() -> list[web.RouteDef]:
    return [
        web.get("/join/{config_id}", show_join_way),
        web.post("/groups/join", join_group),
    ]
