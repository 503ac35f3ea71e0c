"""Console: making the API misbehave, moving time, and reading the API call log.

- `POST /sandbox/faults` {api, errcode, count?=1} → the next `count` calls of `api`
  ("externalcontact/get", or "*" for any) fail with `errcode` and its errmsg; count 0
  clears that api's faults. Answers the plan {"faults": [...], "latency": {...}}.
- `POST /sandbox/latency` {api, seconds} → every call of `api` ("*" any) waits that long
  (real seconds) before answering; 0 clears. Answers the plan.
- `POST /sandbox/tokens/invalidate` → every issued WeCom access token answers 40014 →
  {"invalidated": n} (`/sandbox/miniapp/tokens/invalidate` does the mini-program's).
- `POST /sandbox/clock/advance` {seconds} → the sandbox clock moves forward (tokens and
  welcome codes expire without sleeping) → {"now", "offset"}.
- `GET /sandbox/calls?api=...` → {"calls": [{api, at, errcode}], "counts": {api: n},
  "total": n}.
"""

from __future__ import annotations

from aiohttp import web

from bot.sandbox.console_http import read_body, state_of
from bot.sandbox.errors import ConsoleError


async def add_fault(request: web.Request) -> web.Response:
    body, faults = await read_body(request), state_of(request).faults
    errcode, count = body.integer("errcode"), body.integer("count", 1)
    if errcode == 0 or count < 0:
        raise ConsoleError("errcode must not be 0 and count must be >= 0")
    faults.add(body.text("api"), errcode, count)
    return web.json_response(faults.to_json())


async def set_latency(request: web.Request) -> web.Response:
    body, faults = await read_body(request), state_of(request).faults
    seconds = body.number("seconds")
    if seconds < 0:
        raise ConsoleError("seconds must be >= 0")
    faults.set_latency(body.text("api"), seconds)
    return web.json_response(faults.to_json())


async def invalidate_tokens(request: web.Request) -> web.Response:
    return web.json_response({"invalidated": state_of(request).tokens.invalidate_all()})


async def advance_clock(request: web.Request) -> web.Response:
    body, clock = await read_body(request), state_of(request).clock
    seconds = body.number("seconds")
    if seconds < 0:
        raise ConsoleError("seconds must be >= 0: the sandbox clock does not go backwards")
    clock.advance(seconds)
    return web.json_response({"now": clock.now(), "offset": clock.offset})


async def list_calls(request: web.Request) -> web.Response:
    return web.json_response(state_of(request).calls.to_json(request.query.get("api")))


def routes() -> list[web.RouteDef]:
    return [
        web.post("/faults", add_fault),
        web.post("/latency", set_latency),
        web.post("/tokens/invalidate", invalidate_tokens),
        web.post("/clock/advance", advance_clock),
        web.get("/calls", list_calls),
    ]
