"""WeCom API: access tokens (`GET /cgi-bin/gettoken`, wecom-protocol.md §3.1).

The corpid must be settings.wecom.corp_id (else 40013) and the corpsecret the
customer-contact secret settings.wecom.contact_secret (else 40001).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.sandbox.api import ApiCall, route
from bot.sandbox.errors import INVALID_CORPID, INVALID_SECRET, ApiError


def get_token(call: ApiCall) -> dict[str, Any]:
    if call.query.get("corpid", "") != call.settings.wecom.corp_id:
        raise ApiError(INVALID_CORPID)
    if call.query.get("corpsecret", "") != call.settings.wecom.contact_secret:
        raise ApiError(INVALID_SECRET)
    expires_in = call.settings.sandbox.token_expires_in
    return {"access_token": call.state.tokens.issue(call.now, expires_in),
            "expires_in": expires_in}


def routes() -> list[web.RouteDef]:
    return [route("GET", "gettoken", get_token, token=False)]
