"""`GET /me` (the member center's front page: profile, level, points, guide, benefits)
and `PATCH /me` (nickname, avatar, birthday, consents; the rules are
handlers.member_profile's)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.json_body import JsonObject
from bot.keys import SETTINGS
from bot.request_clock import app_now
from handlers.member_profile import ProfileChanges, update_profile
from miniapp_api.auth import cached, member_of, remember
from miniapp_api.body import read_object
from miniapp_api.serialize import member_view


@cached
async def me(request: web.Request) -> web.Response:
    view = await member_view(member_of(request), request.config_dict[SETTINGS], app_now(request))
    return remember(request, web.json_response(view))


_READERS: dict[str, Any] = {
    "nickname": JsonObject.text,
    "avatar": JsonObject.text,
    "birthday": JsonObject.day,
    "consents": JsonObject.flags,
}


async def patch_me(request: web.Request) -> web.Response:
    body = await read_object(request)
    changes = body.apply(ProfileChanges(), _READERS)
    now = app_now(request)
    member = await update_profile(member_of(request), changes, now=now)
    return web.json_response(await member_view(member, request.config_dict[SETTINGS], now))


routes = [web.get("/me", me), web.patch("/me", patch_me)]
