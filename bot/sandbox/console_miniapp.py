"""Console: the mini-program's WeChat users, and the codes the mini-program gets for them
(what `wx.login` and the getPhoneNumber button hand the front end).

- `POST /sandbox/miniapp/users` {openid?, unionid?, nickname?, phone?, blocked?} →
  {"user": {...}}: creates the user (openid generated `o…` when absent; unionid
  generated when absent, "" for a user without one), or updates the fields given of
  the user `openid` names. `phone`: the number bound to their WeChat (digits), "" for
  none; `blocked`: WeChat refuses their logins (40226). A unionid already held by
  another WeChat user is refused (400 conflict).
- `GET /sandbox/miniapp/users` → {"users": [...]}, oldest first.
- `POST /sandbox/miniapp/login-code` {openid} → {"code", "expires_in": 300}: a code for
  `sns/jscode2session`, valid 5 minutes, single use.
- `POST /sandbox/miniapp/phone-code` {openid, phone?, country_code?="86"} → {"code",
  "expires_in": 300}: a code for `wxa/business/getuserphonenumber` answering `phone`
  (default the user's phone), valid 5 minutes, single use.
- `POST /sandbox/miniapp/tokens/invalidate` → {"invalidated": n}: every mini-program
  access token answers 40014 (`/sandbox/tokens/invalidate` does WeCom's).

Linking a WeChat user to a WeCom customer (One ID): give both the same unionid, e.g.
`POST /sandbox/customers {"name": "李雷", "unionid": "oUnion…"}` and
`POST /sandbox/miniapp/users {"unionid": "oUnion…"}` (or create the WeChat user first
and pass its generated unionid to the customer). externalcontact/get then answers the
customer's unionid, and jscode2session the same one for the user.
"""

from __future__ import annotations

import re
from dataclasses import asdict

from aiohttp import web

from bot.sandbox.console_http import Body, read_body, state_of
from bot.sandbox.errors import ConsoleError
from bot.sandbox.miniapp import CODE_TTL_SECONDS, IssuedCode

PHONE = re.compile(r"\d{5,15}")
COUNTRY_CODE = re.compile(r"\d{1,4}")
TEXT_FIELDS = ("unionid", "nickname")


def _phone(body: Body, name: str, default: str) -> str:
    phone = body.text(name, default)
    if phone and not PHONE.fullmatch(phone):
        raise ConsoleError(f"{name} must be 5 to 15 digits")
    return phone


async def save_user(request: web.Request) -> web.Response:
    body = await read_body(request)
    changes: dict[str, str | bool] = {name: body.text(name) for name in TEXT_FIELDS
                                      if body.has(name)}
    if body.has("phone"):
        changes["phone"] = _phone(body, "phone", "")
    if body.has("blocked"):
        changes["blocked"] = body.flag("blocked", False)
    user = state_of(request).miniapp.save_user(body.text("openid", ""), changes)
    return web.json_response({"user": asdict(user)})


async def list_users(request: web.Request) -> web.Response:
    users = state_of(request).miniapp.users.values()
    return web.json_response({"users": [asdict(user) for user in users]})


async def login_code(request: web.Request) -> web.Response:
    body, state = await read_body(request), state_of(request)
    user = state.miniapp.require_user(body.text("openid"))
    code = state.miniapp.login_codes.issue(IssuedCode(user.openid, state.now()))
    return web.json_response({"code": code, "expires_in": CODE_TTL_SECONDS})


async def phone_code(request: web.Request) -> web.Response:
    body, state = await read_body(request), state_of(request)
    user = state.miniapp.require_user(body.text("openid"))
    phone = _phone(body, "phone", user.phone)
    country_code = body.text("country_code", "86")
    if not phone:
        raise ConsoleError(f"WeChat user {user.openid!r} has no phone: give one")
    if not COUNTRY_CODE.fullmatch(country_code):
        raise ConsoleError("country_code must be 1 to 4 digits")
    code = state.miniapp.phone_codes.issue(
        IssuedCode(user.openid, state.now(), phone=phone, country_code=country_code))
    return web.json_response({"code": code, "expires_in": CODE_TTL_SECONDS})


async def invalidate_tokens(request: web.Request) -> web.Response:
    return web.json_response(
        {"invalidated": state_of(request).miniapp.tokens.invalidate_all()})


def routes() -> list[web.RouteDef]:
    return [
        web.post("/miniapp/users", save_user),
        web.get("/miniapp/users", list_users),
        web.post("/miniapp/login-code", login_code),
        web.post("/miniapp/phone-code", phone_code),
        web.post("/miniapp/tokens/invalidate", invalidate_tokens),
    ]
