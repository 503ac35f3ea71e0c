"""The member's rights over their data (PIPL): `GET /me/export` (everything held about
them, as JSON) and `DELETE /me` (erase their personal data and end every session).
What each covers: handlers.member_privacy."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.keys import SETTINGS
from bot.request_clock import app_now
from handlers.member_privacy import erase_member, export_member
from miniapp_api.auth import member_id_of, member_of

log = logging.getLogger("scrm.miniapp")


async def export_route(request: web.Request) -> web.Response:
    data = await export_member(member_of(request), request.config_dict[SETTINGS])
    data["exported_at"] = app_now(request).isoformat()
    log.info("member.exported member=%s", member_id_of(request))
    return web.json_response(data, headers={
        "Content-Disposition": f'attachment; filename="member-{member_id_of(request)}.json"',
        "Cache-Control": "no-store"})


async def erase_route(request: web.Request) -> web.Response:
    await erase_member(member_id_of(request), now=app_now(request))
    return web.Response(status=204)


routes = [web.get("/me/export", export_route), web.delete("/me", erase_route)]
