"""WeCom API: reading a member (通讯录), `GET user/get?userid=`.

Answers the member's userid, name and avatar with the fields WeCom always sends
(status 1 = active, the root department); missing userid → 41009, unknown → 60111.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.sandbox.api import ApiCall, route
from bot.sandbox.errors import MISSING_USERID, USERID_NOT_FOUND, ApiError

ACTIVE = 1
ROOT_DEPARTMENT = 1


def get_user(call: ApiCall) -> dict[str, Any]:
    userid = call.query.get("userid", "")
    if not userid:
        raise ApiError(MISSING_USERID)
    staff = call.state.contacts.staff.get(userid)
    if staff is None:
        raise ApiError(USERID_NOT_FOUND)
    return {"userid": staff.userid, "name": staff.name, "avatar": staff.avatar,
            "thumb_avatar": staff.avatar, "department": [ROOT_DEPARTMENT],
            "main_department": ROOT_DEPARTMENT, "status": ACTIVE}


def routes() -> list[web.RouteDef]:
    return [route("GET", "user/get", get_user)]
