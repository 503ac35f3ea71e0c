"""WeCom API: app messages to staff, `POST message/send` (发送应用消息, msgtype text).

Body {touser: "a|b" (or "@all"), msgtype: "text", agentid, text: {content}} →
{invaliduser: "x|y", invalidparty: "", invalidtag: "", msgid}. Members the corp does
not have are answered in `invaliduser` and the rest receive the message (errcode 0
even when nobody could be reached; WeCom answers 81013 then, which the sandbox does
not simulate). Content over 2,048 bytes is cut, as WeCom documents. Every accepted
message is recorded (app_messages.py).

Errors: a token of the customer-contact secret → 48002 (only the app's own secret,
settings.wecom.agent_secret, may send; the sandbox's choice of code); agentid other
than settings.wecom.agent_id → 40056; msgtype other than text → 40008 (only text is
simulated); empty content → 44004; touser empty → 40058 (toparty/totag are not
simulated: the sandbox corp has no departments or member tags).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.sandbox.api import ApiCall, route
from bot.sandbox.api_body import integer, obj, text
from bot.sandbox.app_messages import AppMessage
from bot.sandbox.errors import (
    API_FORBIDDEN,
    EMPTY_CONTENT,
    INVALID_AGENTID,
    INVALID_MESSAGE_TYPE,
    INVALID_PARAMETER,
    ApiError,
)
from bot.sandbox.ids import new_secret
from bot.sandbox.tokens import AGENT_APP

TEXT = "text"
ALL_MEMBERS = "@all"
MAX_TEXT_BYTES = 2048


def send_message(call: ApiCall) -> dict[str, Any]:
    if call.state.tokens.app_of(call.query.get("access_token", "")) != AGENT_APP:
        raise ApiError(API_FORBIDDEN)
    agentid = integer(call.body, "agentid")
    if agentid != call.settings.wecom.agent_id or agentid <= 0:
        raise ApiError(INVALID_AGENTID)
    if text(call.body, "msgtype") != TEXT:
        raise ApiError(INVALID_MESSAGE_TYPE)
    content = text(obj(call.body, TEXT), "content")
    content = content.encode()[:MAX_TEXT_BYTES].decode(errors="ignore")
    if not content:
        raise ApiError(EMPTY_CONTENT)
    staff = call.state.contacts.staff
    touser = text(call.body, "touser")
    users = list(staff) if touser == ALL_MEMBERS else list(
        dict.fromkeys(u for u in touser.split("|") if u))
    if not users:
        raise ApiError(INVALID_PARAMETER)
    message = AppMessage(msgid=new_secret(24), agentid=agentid,
                         touser=[u for u in users if u in staff],
                         invaliduser=[u for u in users if u not in staff],
                         msgtype=TEXT, content=content, at=call.now)
    call.state.app_messages.record(message)
    return {"invaliduser": "|".join(message.invaliduser), "invalidparty": "",
            "invalidtag": "", "msgid": message.msgid}


def routes() -> list[web.RouteDef]:
    return [route("POST", "message/send", send_message)]
