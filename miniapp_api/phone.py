"""`POST /me/phone {code}`: bind the phone number the member shared through the
mini-program's getPhoneNumber button. WeChat turns the code into the number
(getuserphonenumber); when another member has the number already, the two are merged
and the answer is the surviving member (whom this session now belongs to)."""

from __future__ import annotations

from aiohttp import web

from bot.http_errors import InputError
from bot.keys import MINIAPP, SETTINGS, WECOM
from bot.request_clock import app_now
from handlers.member_phone import bind_phone
from miniapp_api.auth import member_id_of
from miniapp_api.body import code_of, read_object
from miniapp_api.serialize import member_view


async def bind_phone_route(request: web.Request) -> web.Response:
    code = code_of(await read_object(request))
    phone = await request.config_dict[MINIAPP].phone_number(code)
    settings = request.config_dict[SETTINGS]
    now = app_now(request)
    try:
        member = await bind_phone(member_id_of(request), phone.phone, phone.country_code,
                                  settings=settings, now=now, wecom=request.config_dict[WECOM])
    except ValueError:
        raise InputError("code", "WeChat gave no usable phone number for this code") from None
    return web.json_response(await member_view(member, settings, now))


routes = [web.post("/me/phone", bind_phone_route)]
