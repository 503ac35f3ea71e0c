"""`POST /login {code}` (no session needed) and `POST /logout`.

Login trades the code from `wx.login` for WeChat's session (jscode2session), finds or
creates the member and answers `{"token", "member"}`; the token goes in
`Authorization: Bearer <token>` on every other route until it expires
(`members.session_days`) or the member logs out.

Logins are limited per client address (`members.login_per_minute`, a fixed window of a
minute counted in Redis, so every process shares the count). The address is the one
the server sees (`request.remote`); behind a load balancer, let aiohttp take it from
the forwarding header the balancer sets, or every client shares the balancer's.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.keys import CLOCK, MINIAPP, REDIS, SETTINGS, WECOM
from bot.request_clock import app_now
from handlers.member_login import login
from handlers.member_sessions import revoke
from miniapp_api.auth import public, session_of
from miniapp_api.body import code_of, read_object
from miniapp_api.errors import RETRY_AFTER_SECONDS, TooManyRequests
from miniapp_api.serialize import member_view

log = logging.getLogger("scrm.miniapp")

_WINDOW_SECONDS = 60


async def _count_login(request: web.Request) -> None:
    """Count this login against its client's minute; refuse it past the limit."""
    settings = request.config_dict[SETTINGS]
    window = int(request.config_dict[CLOCK]()) // _WINDOW_SECONDS
    key = f"scrm:miniapp:login:{request.remote or 'unknown'}:{window}"
    async with request.config_dict[REDIS].pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, _WINDOW_SECONDS * 2)
        count, _ = await pipe.execute()
    if int(count) > settings.members.login_per_minute:
        log.warning("miniapp.login_limited count=%s", count)
        raise TooManyRequests(f"at most {settings.members.login_per_minute} logins a minute; "
                              f"retry in {RETRY_AFTER_SECONDS} s")


@public
async def login_route(request: web.Request) -> web.Response:
    await _count_login(request)
    code = code_of(await read_object(request))
    wx = await request.config_dict[MINIAPP].code2session(code)
    settings = request.config_dict[SETTINGS]
    now = app_now(request)
    result = await login(wx, settings=settings, now=now,
                         client=request.headers.get("User-Agent", ""),
                         wecom=request.config_dict[WECOM])
    return web.json_response({"token": result.token,
                              "member": await member_view(result.member, settings, now)})


async def logout_route(request: web.Request) -> web.Response:
    await revoke(session_of(request).token_hash, app_now(request))
    log.info("member.logout member=%s", session_of(request).member_id)  # type: ignore[attr-defined]
    return web.Response(status=204)


routes = [web.post("/login", login_route), web.post("/logout", logout_route)]
