"""Group QR code routes (加入群聊 join ways): create, list, read, change and delete.

A body names 1 to 5 groups we hold (`chat_ids`), optionally a `state` (generated when
absent, unique, never changed afterwards), a remark, whether WeCom creates new groups
when these fill (`auto_create_room`, with `room_base_name` and `room_base_id`), and
the corp tags (`tag_ids`) customers who join through it get. The rules are
`handlers.group_join_ways`'; WeCom's refusals come back as 502 with its errcode.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web
from tortoise.functions import Count

from admin_api.errors import Conflict
from admin_api.groups import path_row
from admin_api.json_body import JsonObject, read_object
from admin_api.serialize import iso
from bot.keys import WECOM
from bot.pagination import Page
from handlers import group_join_ways
from handlers.group_join_ways import JoinWaySpec, StateTaken, spec_of
from handlers.tags import names_of
from models.groups import GroupJoin, GroupJoinWay

log = logging.getLogger("scrm.admin")


def _room_base_id(body: JsonObject, name: str) -> int | None:
    return None if body.data.get(name) is None else body.integer(name, minimum=0)


# Each body field sets the `JoinWaySpec` attribute of the same name.
_READERS: dict[str, Callable[[JsonObject, str], Any]] = {
    "name": JsonObject.text,
    "chat_ids": JsonObject.texts,
    "state": JsonObject.text,
    "remark": JsonObject.text,
    "auto_create_room": JsonObject.flag,
    "room_base_name": JsonObject.text,
    "room_base_id": _room_base_id,
    "tag_ids": JsonObject.texts,
}


async def _joins(config_ids: list[str]) -> dict[str, dict[str, int]]:
    """config_id → {"total", "tagged"} joins, in one query."""
    counts = {c: {"total": 0, "tagged": 0} for c in config_ids}
    rows = await GroupJoin.filter(config_id__in=config_ids).annotate(n=Count("id")).group_by(
        "config_id", "tagged").values("config_id", "tagged", "n")
    for row in rows:
        entry = counts[row["config_id"]]
        entry["total"] += row["n"]
        if row["tagged"]:
            entry["tagged"] += row["n"]
    return counts


async def _as_json(ways: list[GroupJoinWay]) -> list[dict[str, Any]]:
    names = await names_of(sorted({t for way in ways for t in way.tag_ids}))
    joins = await _joins([way.config_id for way in ways])
    return [{
        "config_id": way.config_id, "name": way.name, "state": way.state,
        "qr_code": way.qr_code, "chat_ids": list(way.chat_ids), "remark": way.remark,
        "auto_create_room": way.auto_create_room, "room_base_name": way.room_base_name,
        "room_base_id": way.room_base_id,
        "tags": [{"id": t, "group": names[t].group, "name": names[t].name}
                 for t in way.tag_ids if t in names],
        "joins": joins[way.config_id],
        "created_at": iso(way.created_at), "updated_at": iso(way.updated_at),
    } for way in ways]


async def _answer(way: GroupJoinWay, status: int = 200) -> web.Response:
    return web.json_response((await _as_json([way]))[0], status=status)


async def find_way(request: web.Request) -> GroupJoinWay:
    return await path_row(request, GroupJoinWay, "config_id", "group join way")


async def list_ways(request: web.Request) -> web.Response:
    page = Page.of(request)
    found, total = await page.rows(GroupJoinWay.all().order_by("created_at", "config_id"))
    return page.answer(await _as_json(found), total)


async def create_way(request: web.Request) -> web.Response:
    body = await read_object(request)
    body.require("name", "chat_ids")
    spec = body.apply(JoinWaySpec(name="", chat_ids=[]), _READERS)
    try:
        way = await group_join_ways.create_join_way(spec, request.config_dict[WECOM])
    except StateTaken as exc:
        raise Conflict(str(exc), field="state") from None
    log.info("admin.join_way.created config_id=%s state=%s", way.config_id, way.state)
    return await _answer(way, status=201)


async def get_way(request: web.Request) -> web.Response:
    return await _answer(await find_way(request))


async def patch_way(request: web.Request) -> web.Response:
    way = await find_way(request)
    body = await read_object(request)
    spec = body.apply(spec_of(way), _READERS)
    await group_join_ways.update_join_way(way, spec, request.config_dict[WECOM])
    log.info("admin.join_way.updated config_id=%s fields=%s", way.config_id,
             ",".join(sorted(body.data)))
    return await _answer(way)


async def delete_way(request: web.Request) -> web.Response:
    way = await find_way(request)
    await group_join_ways.delete_join_way(way, request.config_dict[WECOM])
    log.info("admin.join_way.deleted config_id=%s", way.config_id)
    return web.Response(status=204)


routes = [
    web.get("/groups/join-ways", list_ways),
    web.post("/groups/join-ways", create_way),
    web.get("/groups/join-ways/{config_id}", get_way),
    web.patch("/groups/join-ways/{config_id}", patch_way),
    web.delete("/groups/join-ways/{config_id}", delete_way),
]
