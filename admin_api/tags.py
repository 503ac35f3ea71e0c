"""Corp tag routes: the local mirror as groups with tags, creating a tag, a full resync.

Tags are created through `handlers.tags.create_tag`, which calls WeCom and updates the
mirror; the mirror is what channels resolve "group / name" against.
"""

from __future__ import annotations

import logging

from aiohttp import web

from admin_api.errors import Conflict, NotFound
from admin_api.json_body import read_object
from bot.keys import WECOM
from bot.pagination import Page
from handlers.tags import (
    MAX_NAME_CHARS,
    TagRef,
    create_tag,
    delete_tag,
    rename_tag,
    sync_corp_tags,
    tag_listing,
)
from models.tags import Tag

log = logging.getLogger("scrm.admin")

FIELDS = ("group", "name")


async def list_tags(request: web.Request) -> web.Response:
    """The groups, in WeCom's order, each with its tags."""
    return Page.of(request).cut(await tag_listing())


async def create_tag_route(request: web.Request) -> web.Response:
    body = await read_object(request)
    body.only(FIELDS)
    body.require(*FIELDS)
    ref = TagRef(*(body.text(field, max_chars=MAX_NAME_CHARS) for field in FIELDS))
    if await Tag.filter(group__name=ref.group, name=ref.name).exists():
        raise Conflict(f"tag {ref.group}/{ref.name} exists")
    tag_id = await create_tag(ref, request.config_dict[WECOM])
    return web.json_response({"id": tag_id, "group": ref.group, "name": ref.name}, status=201)


async def sync_tags(request: web.Request) -> web.Response:
    count = await sync_corp_tags(request.config_dict[WECOM])
    return web.json_response({"tags": count})


async def _tag_of(request: web.Request) -> str:
    tag_id = request.match_info["tag_id"]
    if not await Tag.filter(tag_id=tag_id).exists():
        raise NotFound(f"no tag {tag_id}")
    return tag_id


async def rename_tag_route(request: web.Request) -> web.Response:
    tag_id = await _tag_of(request)
    body = await read_object(request)
    body.only(("name",))
    body.require("name")
    tag = await rename_tag(tag_id, body.text("name", max_chars=MAX_NAME_CHARS),
                           request.config_dict[WECOM])
    return web.json_response({"id": tag.tag_id, "name": tag.name})


async def delete_tag_route(request: web.Request) -> web.Response:
    await delete_tag(await _tag_of(request), request.config_dict[WECOM])
    return web.Response(status=204)


routes = [
    web.get("/tags", list_tags),
    web.post("/tags", create_tag_route),
    web.post("/tags/sync", sync_tags),
    web.patch("/tags/{tag_id}", rename_tag_route),
    web.delete("/tags/{tag_id}", delete_tag_route),
]
