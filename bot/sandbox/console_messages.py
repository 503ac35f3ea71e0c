"""Console: what the API sent to customers.

- `GET /sandbox/welcome_messages?external_userid=` → {"welcome_messages": [{userid,
  external_userid, welcome_code, text, attachments, at}]}, oldest first; `at` is the
  sandbox time send_welcome_msg was accepted.
"""

from __future__ import annotations

from aiohttp import web

from bot.sandbox.console_http import state_of


async def welcome_messages(request: web.Request) -> web.Response:
    sent = state_of(request).messages.welcome_json(request.query.get("external_userid"))
    return web.json_response({"welcome_messages": sent})


def routes() -> list[web.RouteDef]:
    return [web.get("/welcome_messages", welcome_messages)]
