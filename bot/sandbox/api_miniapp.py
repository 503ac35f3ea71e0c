"""WeChat mini-program APIs (api.weixin.qq.com), answered like WeChat: login, the
mini-program's access token and the user's phone number (wecom-protocol.md §5.1, §5.2).

- `GET /sns/jscode2session?appid&secret&js_code&grant_type=authorization_code` →
  {openid, session_key, unionid} (unionid only for users that have one; no errcode on
  success, as WeChat answers). A login code
  (`POST /sandbox/miniapp/login-code`) works once within 5 minutes (40029 otherwise,
  41008 when empty); more than 100 calls naming one user in a minute answer 45011 (the
  code stays usable); a blocked user answers 40226 (the code stays usable too). Each
  login hands out a new session_key.
- `GET /cgi-bin/token?grant_type=client_credential&appid&secret` → {access_token,
  expires_in} (no errcode either): the mini-program's own token (not WeCom's gettoken), valid
  settings.sandbox.token_expires_in seconds; earlier tokens stay valid until they expire.
- `POST /wxa/business/getuserphonenumber?access_token=` {code} → {phone_info:
  {phoneNumber, purePhoneNumber, countryCode, watermark: {timestamp, appid}}}. Only
  mini-program tokens are accepted (41001 missing, 40014 unknown or a WeCom token, 42001
  expired). A phone code (`POST /sandbox/miniapp/phone-code`) works once within 5
  minutes (40029); a body that is not JSON or has no code (e.g. the code sent in the
  query) answers 47001. countryCode is a string, as in WeChat's field table.

appid and secret must be settings.miniapp.appid / secret: 40013 "invalid appid" and
40125 "invalid appsecret" otherwise, the codes WeChat answers both APIs with (community
reports; the docs list only 40001 for a wrong AppSecret on /cgi-bin/token). A
grant_type other than the documented one answers 40002. Faults and latency name these
APIs "sns/jscode2session", "token" and "wxa/business/getuserphonenumber"; other paths
under /sns/ and /wxa/ answer 48001.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from aiohttp import web

from bot.sandbox.api import ApiCall, fallback_route, route
from bot.sandbox.errors import (
    CODE_BLOCKED,
    DATA_FORMAT_ERROR,
    INVALID_APPID,
    INVALID_APPSECRET,
    INVALID_GRANT_TYPE,
    MINUTE_QUOTA,
    MISSING_CODE,
    ApiError,
)
from bot.sandbox.state import SandboxState
from bot.sandbox.tokens import AccessTokens

CHINA = "86"


def miniapp_tokens(state: SandboxState) -> AccessTokens:
    return state.miniapp.tokens


def _check_app(call: ApiCall, grant_type: str) -> None:
    if call.query.get("grant_type", "") != grant_type:
        raise ApiError(INVALID_GRANT_TYPE)
    if call.query.get("appid", "") != call.settings.miniapp.appid:
        raise ApiError(INVALID_APPID, "invalid appid")
    if call.query.get("secret", "") != call.settings.miniapp.secret:
        raise ApiError(INVALID_APPSECRET)


def get_token(call: ApiCall) -> dict[str, Any]:
    _check_app(call, "client_credential")
    expires_in = call.settings.sandbox.token_expires_in
    return {"access_token": call.state.miniapp.tokens.issue(call.now, expires_in),
            "expires_in": expires_in}


def jscode2session(call: ApiCall) -> dict[str, Any]:
    _check_app(call, "authorization_code")
    miniapp, js_code = call.state.miniapp, call.query.get("js_code", "")
    if not js_code:
        raise ApiError(MISSING_CODE)
    issued = miniapp.login_codes.peek(js_code, call.now)
    if not miniapp.count_login(issued.openid, call.now):
        raise ApiError(MINUTE_QUOTA)
    user = miniapp.require_user(issued.openid)
    if user.blocked:
        raise ApiError(CODE_BLOCKED)
    miniapp.login_codes.use(js_code)
    session_key = base64.b64encode(secrets.token_bytes(16)).decode()
    answer = {"openid": user.openid, "session_key": session_key}
    if user.unionid:
        answer["unionid"] = user.unionid
    return answer


def get_phone_number(call: ApiCall) -> dict[str, Any]:
    code = call.body.get("code")
    if not isinstance(code, str) or not code:
        raise ApiError(DATA_FORMAT_ERROR)
    issued = call.state.miniapp.phone_codes.take(code, call.now)
    pure, country = issued.phone, issued.country_code
    return {"phone_info": {
        "phoneNumber": pure if country == CHINA else f"+{country}{pure}",
        "purePhoneNumber": pure,
        "countryCode": country,
        "watermark": {"timestamp": int(issued.issued_at), "appid": call.settings.miniapp.appid},
    }}


def routes() -> list[web.RouteDef]:
    return [
        route("GET", "token", get_token, token=False, envelope=False),
        route("GET", "sns/jscode2session", jscode2session, token=False, prefix="/",
              envelope=False),
        route("POST", "wxa/business/getuserphonenumber", get_phone_number, prefix="/",
              tokens=miniapp_tokens),
        fallback_route("/sns/"),
        fallback_route("/wxa/"),
    ]
