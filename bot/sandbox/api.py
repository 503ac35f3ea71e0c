"""The /cgi-bin/ request pipeline every WeCom API route module goes through.

A route module declares its APIs with `route(method, name, handler)`; the handler is a
plain function of an `ApiCall` returning the answer's fields (without errcode/errmsg) or
raising `ApiError`. The pipeline, in WeCom's order: added latency, planned faults, the
access_token check (41001 missing, 40014 invalid, 42001 expired), the JSON body (47001
when malformed), the handler. Every call, answered or failed, goes to the call log.
Answers are HTTP 200 with `errcode`/`errmsg`, like WeCom; an unknown path or method
answers 48001.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.sandbox.errors import DATA_FORMAT_ERROR, MISSING_TOKEN, UNKNOWN_API, ApiError
from bot.sandbox.state import STATE, SandboxState
from bot.settings import Settings

PREFIX = "/cgi-bin/"


@dataclass(frozen=True)
class ApiCall:
    """What a handler sees of one API request."""

    state: SandboxState
    settings: Settings
    now: float
    query: Mapping[str, str]
    body: dict[str, Any]


ApiHandler = Callable[[ApiCall], dict[str, Any]]
SETTINGS = web.AppKey("sandbox_settings", Settings)


def route(method: str, name: str, handler: ApiHandler, *, token: bool = True) -> web.RouteDef:
    """The route for `/cgi-bin/<name>`; `token=False` for the APIs that issue tokens."""

    async def endpoint(request: web.Request) -> web.Response:
        return await serve(request, handler, token)

    return web.route(method, PREFIX + name, endpoint)


def unknown_api(call: ApiCall) -> dict[str, Any]:
    raise ApiError(UNKNOWN_API)


def fallback_route() -> web.RouteDef:
    """Catches every /cgi-bin/ path or method no route module serves; add it last."""
    return route("*", "{tail:.*}", unknown_api, token=False)


async def serve(request: web.Request, handler: ApiHandler, needs_token: bool) -> web.Response:
    state = request.config_dict[STATE]
    api = request.path.removeprefix(PREFIX)
    delay = state.faults.latency_for(api)
    if delay:
        await asyncio.sleep(delay)
    try:
        answer = await _answer(request, state, api, handler, needs_token)
        payload = {"errcode": 0, "errmsg": "ok", **answer}
    except ApiError as exc:
        payload = exc.payload()
    state.calls.record(api, state.now(), payload["errcode"])
    return web.json_response(payload)


async def _answer(request: web.Request, state: SandboxState, api: str, handler: ApiHandler,
                  needs_token: bool) -> dict[str, Any]:
    injected = state.faults.take(api)
    if injected is not None:
        raise ApiError(injected)
    now = state.now()
    if needs_token:
        token = request.query.get("access_token", "")
        if not token:
            raise ApiError(MISSING_TOKEN)
        state.tokens.check(token, now)
    body = await _json_body(request) if request.method == "POST" else {}
    return handler(ApiCall(state, request.config_dict[SETTINGS], now, request.query, body))


async def _json_body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(DATA_FORMAT_ERROR) from None
    if not isinstance(body, dict):
        raise ApiError(DATA_FORMAT_ERROR)
    return body
