"""Console: what the self-built app told staff (message/send).

- `GET /sandbox/app-messages?userid=` → {"app_messages": [{msgid, agentid, touser,
  invaliduser, msgtype, content, at}]}, oldest first; only those that reached
  `userid` when given; `at` is the sandbox time message/send was accepted.
"""

from __future__ import annotations

from aiohttp import web

from bot.sandbox.console_http import state_of


async def app_messages(request: web.Request) -> web.Response:
    sent = state_of(request).app_messages.to_json(request.query.get("userid"))
    return web.json_response({"app_messages": sent})


def routes() -> list[web.RouteDef]:
    return [web.get("/app-messages", app_messages)]
