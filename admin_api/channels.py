"""Channel routes: create, list, read, change and delete channels (渠道活码).

Each route reads and checks its input, calls `handlers.channels`, and answers the
channel as `serialize.channel_json` shapes it. A deleted channel stays readable by id
(its history counts) but can no longer be changed, deleted again, or printed.
"""

from __future__ import annotations

import logging

from aiohttp import web

from admin_api.channel_input import apply_changes, new_spec
from admin_api.errors import NotFound
from admin_api.json_body import read_object
from admin_api.serialize import channel_json, tag_names, tag_refs
from bot import query
from bot.keys import WECOM
from bot.pagination import Page
from handlers import channels
from models.channels import Channel

log = logging.getLogger("scrm.admin")


async def find_channel(request: web.Request, *, live: bool = True) -> Channel:
    """The channel named by the path's id; with `live`, 404 for a deleted one too."""
    channel_id = query.path_id(request)
    channel = await Channel.get_or_none(id=channel_id)
    if channel is None:
        raise NotFound(f"no channel with id {channel_id}")
    if live and channel.deleted_at is not None:
        raise NotFound(f"channel {channel_id} was deleted")
    return channel


async def _answer(channel: Channel, status: int = 200) -> web.Response:
    return web.json_response(channel_json(channel, await tag_names([channel])), status=status)


async def list_channels(request: web.Request) -> web.Response:
    page = Page.of(request)
    rows = Channel.all()
    if not query.flag(request, "include_deleted"):
        rows = rows.filter(deleted_at=None)
    found, total = await page.rows(rows.order_by("id"))
    names = await tag_names(found)
    return page.answer([channel_json(channel, names) for channel in found], total)


async def create_channel(request: web.Request) -> web.Response:
    spec = new_spec(await read_object(request))
    channel = await channels.create_channel(spec, request.config_dict[WECOM])
    log.info("admin.channel.created id=%s state=%s config_id=%s",
             channel.id, channel.state, channel.config_id)
    return await _answer(channel, status=201)


async def get_channel(request: web.Request) -> web.Response:
    return await _answer(await find_channel(request, live=False))


async def patch_channel(request: web.Request) -> web.Response:
    channel = await find_channel(request)
    body = await read_object(request)
    spec = channels.spec_of(channel, tag_refs(channel, await tag_names([channel])))
    apply_changes(spec, body)
    await channels.update_channel(channel, spec, request.config_dict[WECOM])
    log.info("admin.channel.updated id=%s fields=%s", channel.id, ",".join(sorted(body.data)))
    return await _answer(channel)


async def delete_channel(request: web.Request) -> web.Response:
    channel = await find_channel(request)
    await channels.delete_channel(channel, request.config_dict[WECOM])
    log.info("admin.channel.deleted id=%s", channel.id)
    return web.Response(status=204)


routes = [
    web.get("/channels", list_channels),
    web.post("/channels", create_channel),
    web.get(r"/channels/{id:\d+}", get_channel),
    web.patch(r"/channels/{id:\d+}", patch_channel),
    web.delete(r"/channels/{id:\d+}", delete_channel),
]
