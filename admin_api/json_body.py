"""The admin API's JSON request bodies: the shared reader (bot.json_body) with the admin
limit, `MAX_BODY_BYTES`."""

from __future__ import annotations

from aiohttp import web

from bot import json_body
from bot.json_body import JsonObject

__all__ = ["MAX_BODY_BYTES", "JsonObject", "read_object"]

MAX_BODY_BYTES = 256 * 1024


async def read_object(request: web.Request) -> JsonObject:
    return await json_body.read_object(request, MAX_BODY_BYTES)
