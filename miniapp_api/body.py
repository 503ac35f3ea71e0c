"""The mini-program API's JSON request bodies: the shared reader (bot.json_body) with
this edge's limit. Its bodies are a code, a few profile fields or a redemption with
its address, so the limit is small."""

from __future__ import annotations

from aiohttp import web

from bot import json_body
from bot.json_body import JsonObject

MAX_BODY_BYTES = 16 * 1024


async def read_object(request: web.Request) -> JsonObject:
    return await json_body.read_object(request, MAX_BODY_BYTES)


async def read_object_or_empty(request: web.Request) -> JsonObject:
    """The body of a route whose fields are all optional: no body reads as `{}`."""
    if not request.can_read_body:
        return JsonObject({})
    return await read_object(request)


def code_of(body: JsonObject) -> str:
    """The `code` of a login or phone body: WeChat's one-time code."""
    body.only(("code",))
    body.require("code")
    return body.text("code", max_chars=256)
