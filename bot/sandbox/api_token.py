"""WeCom API: access tokens (`GET /cgi-bin/gettoken`, wecom-protocol.md §3.1).

The corpid must be settings.wecom.corp_id (else 40013) and the corpsecret either the
customer-contact secret settings.wecom.contact_secret or the self-built app's
settings.wecom.agent_secret (else 40001). The token remembers which: only the app's
may send app messages (api_message.py); both may call the customer-contact APIs (the
sandbox's app is listed in 「客户联系-可调用接口的应用」).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.sandbox.api import ApiCall, route
from bot.sandbox.errors import INVALID_CORPID, INVALID_SECRET, ApiError
from bot.sandbox.tokens import AGENT_APP, CONTACT_APP


def get_token(call: ApiCall) -> dict[str, Any]:
    if call.query.get("corpid", "") != call.settings.wecom.corp_id:
        raise ApiError(INVALID_CORPID)
    secret, wecom = call.query.get("corpsecret", ""), call.settings.wecom
    if wecom.agent_secret and secret == wecom.agent_secret:
        app = AGENT_APP
    elif secret == wecom.contact_secret:
        app = CONTACT_APP
    else:
        raise ApiError(INVALID_SECRET)
    expires_in = call.settings.sandbox.token_expires_in
    return {"access_token": call.state.tokens.issue(call.now, expires_in, app),
            "expires_in": expires_in}


def routes() -> list[web.RouteDef]:
    return [route("GET", "gettoken", get_token, token=False)]
