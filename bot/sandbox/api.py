"""The request pipeline every WeCom (and mini-program) API route module goes through.

A route module declares its APIs with `route(method, name, handler)`; the handler is a
plain function of an `ApiCall` returning the answer's fields (without errcode/errmsg) or
raising `ApiError`. The pipeline, in WeCom's order: added latency, planned faults, the
access_token check (41001 missing, 40014 invalid, 42001 expired), the JSON body (47001
when malformed), the handler. Every call, answered or failed, goes to the call log.
Answers are HTTP 200 with `errcode`/`errmsg`, like WeCom; an unknown path or method
answers 48001.

WeCom's APIs live under /cgi-bin/. The mini-program's (api_miniapp.py) also live under
/sns/ and /wxa/ (`prefix="/"`), and check their tokens against the mini-program's own
token store (`tokens=`); jscode2session and the mini-program's token answer success
without errcode/errmsg, as WeChat does (`envelope=False`). Faults, latency and the call
log name an API by `api_name`: the path after /cgi-bin/ ("externalcontact/get",
"token"), else the path without its leading slash ("sns/jscode2session").
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
from bot.sandbox.tokens import AccessTokens
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
# Where the tokens an API accepts were issued: WeCom's or the mini-program's store.
TokenStore = Callable[[SandboxState], AccessTokens]
SETTINGS = web.AppKey("sandbox_settings", Settings)


def wecom_tokens(state: SandboxState) -> AccessTokens:
    return state.tokens


def route(method: str, name: str, handler: ApiHandler, *, token: bool = True,
          prefix: str = PREFIX, tokens: TokenStore = wecom_tokens,
          envelope: bool = True) -> web.RouteDef:
    """The route for `<prefix><name>` (`/cgi-bin/<name>` by default); `token=False` for
    the APIs that issue tokens or take none, `tokens` for another token store,
    `envelope=False` for answers without errcode/errmsg on success."""
    store = tokens if token else None

    async def endpoint(request: web.Request) -> web.Response:
        return await serve(request, handler, store, envelope)

    return web.route(method, prefix + name, endpoint)


def api_name(path: str) -> str:
    """What faults, latency and the call log call the API at `path` (module docstring)."""
    return path.removeprefix(PREFIX) if path.startswith(PREFIX) else path.lstrip("/")


def unknown_api(call: ApiCall) -> dict[str, Any]:
    raise ApiError(UNKNOWN_API)


def fallback_route(prefix: str = PREFIX) -> web.RouteDef:
    """Catches every path under `prefix` (/cgi-bin/) or method no route module serves;
    add it after them."""
    return route("*", "{tail:.*}", unknown_api, token=False, prefix=prefix)


async def serve(request: web.Request, handler: ApiHandler,
                tokens: TokenStore | None, envelope: bool = True) -> web.Response:
    state = request.config_dict[STATE]
    api = api_name(request.path)
    delay = state.faults.latency_for(api)
    if delay:
        await asyncio.sleep(delay)
    try:
        answer = await _answer(request, state, api, handler, tokens)
        payload = {"errcode": 0, "errmsg": "ok", **answer} if envelope else answer
    except ApiError as exc:
        payload = exc.payload()
    state.calls.record(api, state.now(), payload.get("errcode", 0))
    return web.json_response(payload)


async def _answer(request: web.Request, state: SandboxState, api: str, handler: ApiHandler,
                  tokens: TokenStore | None) -> dict[str, Any]:
    injected = state.faults.take(api)
    if injected is not None:
        raise ApiError(injected)
    now = state.now()
    if tokens is not None:
        token = request.query.get("access_token", "")
        if not token:
            raise ApiError(MISSING_TOKEN)
        tokens(state).check(token, now)
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
