"""WeCom API: 「加入群聊」 join ways (group QR codes), wecom-protocol.md §3.9.

- `POST externalcontact/groupchat/add_join_way` {scene, chat_id_list, remark?,
  auto_create_room?=1, room_base_name?, room_base_id?=1, state?, mark_source?=true} →
  {config_id}. `qr_code` (scene 2 only) is
  `{settings.sandbox.base_url}/sandbox/join/{config_id}`: the console page where a
  browser plays a customer scanning it (console_join.py).
- `POST externalcontact/groupchat/get_join_way` {config_id} → {join_way: {config_id,
  scene, remark, auto_create_room, room_base_name, room_base_id, chat_id_list,
  qr_code?, state, mark_source}}. Groups auto-created by joins are appended to
  chat_id_list, and room_base_id has moved on past them.
- `POST externalcontact/groupchat/update_join_way` {config_id, ...the add fields}: the
  body overwrites the whole way (fields left out go back to their defaults).
- `POST externalcontact/groupchat/del_join_way` {config_id}.

Errors: chat_id_list over 5 groups → 41091; config_id missing 41043, unknown 41044;
ways and 「联系我」 contact ways together over 500,000 → 41045. Sandbox choices where
WeCom's code is not documented: scene not 1 or 2, chat_id_list missing or empty, a
group that is unknown or dismissed, state over 30 characters, room_base_name over 40,
auto_create_room not 0 or 1, a negative room_base_id → 40058. A remark over 30
characters is cut, as WeCom documents.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.sandbox.api import ApiCall, route
from bot.sandbox.api_body import flag, integer, items, text, within
from bot.sandbox.api_contact_way import MAX_CONTACT_WAYS, named_config
from bot.sandbox.contact_ways import new_config_id
from bot.sandbox.errors import (
    CONTACT_WAY_LIMIT,
    INVALID_PARAMETER,
    JOIN_WAY_CHAT_LIMIT,
    ApiError,
)
from bot.sandbox.join_ways import MINIPROGRAM, QR_CODE, JoinWay

MAX_CHATS = 5
MAX_STATE_CHARS = 30
MAX_REMARK_CHARS = 30
MAX_ROOM_BASE_NAME_CHARS = 40


def join_url(call: ApiCall, config_id: str) -> str:
    return f"{call.settings.sandbox.base_url}/sandbox/join/{config_id}"


def _fields(call: ApiCall) -> dict[str, Any]:
    """Every JoinWay attribute the body sets (add and update alike), all checked."""
    body = call.body
    scene = integer(body, "scene")
    chat_ids = list(dict.fromkeys(items(body, "chat_id_list")))
    auto_create_room = integer(body, "auto_create_room", 1)
    room_base_id = integer(body, "room_base_id", 1)
    if scene not in (MINIPROGRAM, QR_CODE) or not chat_ids or auto_create_room not in (0, 1) \
            or room_base_id < 0:
        raise ApiError(INVALID_PARAMETER)
    if len(chat_ids) > MAX_CHATS:
        raise ApiError(JOIN_WAY_CHAT_LIMIT)
    if any(call.state.chats.get_active(chat_id) is None for chat_id in chat_ids):
        raise ApiError(INVALID_PARAMETER)
    return {
        "scene": scene, "chat_ids": chat_ids, "auto_create_room": auto_create_room,
        "room_base_id": room_base_id,
        "remark": text(body, "remark")[:MAX_REMARK_CHARS],
        "room_base_name": within(text(body, "room_base_name"), MAX_ROOM_BASE_NAME_CHARS),
        "state": within(text(body, "state"), MAX_STATE_CHARS),
        "mark_source": flag(body, "mark_source", True),
    }


def add_join_way(call: ApiCall) -> dict[str, Any]:
    fields = _fields(call)
    if call.state.way_configs() >= MAX_CONTACT_WAYS:
        raise ApiError(CONTACT_WAY_LIMIT)
    config_id = new_config_id()
    qr_code = join_url(call, config_id) if fields["scene"] == QR_CODE else ""
    call.state.join_ways.add(JoinWay(config_id=config_id, qr_code=qr_code, **fields))
    return {"config_id": config_id}


def _named_way(call: ApiCall) -> JoinWay:
    return named_config(call.body, call.state.join_ways.ways)


def get_join_way(call: ApiCall) -> dict[str, Any]:
    return {"join_way": _named_way(call).to_json()}


def update_join_way(call: ApiCall) -> dict[str, Any]:
    way = _named_way(call)
    fields = _fields(call)
    fields["qr_code"] = join_url(call, way.config_id) if fields["scene"] == QR_CODE else ""
    for name, value in fields.items():
        setattr(way, name, value)
    return {}


def del_join_way(call: ApiCall) -> dict[str, Any]:
    call.state.join_ways.delete(_named_way(call).config_id)
    return {}


def routes() -> list[web.RouteDef]:
    return [
        route("POST", "externalcontact/groupchat/add_join_way", add_join_way),
        route("POST", "externalcontact/groupchat/get_join_way", get_join_way),
        route("POST", "externalcontact/groupchat/update_join_way", update_join_way),
        route("POST", "externalcontact/groupchat/del_join_way", del_join_way),
    ]
