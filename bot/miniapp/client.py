"""`MiniProgramClient`: the async client of the WeChat mini-program's server APIs the
member center needs: login (`code2session`) and the user's phone number.

One instance per process (it lives under the `MINIAPP` app key). It rides on the WeCom
client's plumbing with the mini-program's `ApiFamily` (errors.py): the wire, the Redis
token cache and the transport's retry loop. So the mini-program's access token
(`cgi-bin/token`, per appid) is cached in Redis and shared by every process, refreshed
once when WeChat refuses it (40001 / 40014 / 42001); -1 is retried at most
`BUSY_RETRIES` times after settings.wecom.busy_backoff_seconds (doubling), fewer than
WeCom's background retries since a member waits on these calls; every other errcode
raises its typed error at once. Requests time out after
settings.wecom.request_timeout_seconds. API calls go to settings.miniapp_api_base (the
sandbox when it is enabled).

The session_key and phone numbers never reach a log line, an exception message or a
repr; the appid's secret and the codes are masked like WeCom's secrets.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from redis.asyncio import Redis

from bot.miniapp.errors import MINIAPP, TOKEN_API, MiniProgramUnavailable
from bot.settings import Settings
from bot.wecom.tokens import TokenCache, TokenEndpoint
from bot.wecom.transport import Clock, Sleep, Transport

__all__ = ["MiniProgramClient", "WxSession", "WxPhone", "BUSY_RETRIES"]

BUSY_RETRIES = 2
LOGIN = "sns/jscode2session"
PHONE_NUMBER = "wxa/business/getuserphonenumber"


@dataclass(frozen=True)
class WxSession:
    """Who logged in: `unionid` is None when WeChat sends none (the mini-program is not
    bound to an Open Platform account, so nothing links the user to WeCom by it)."""

    openid: str
    unionid: str | None
    session_key: str = field(repr=False)


@dataclass(frozen=True)
class WxPhone:
    """The phone number bound to the user's WeChat: `phone` without the country code
    (purePhoneNumber), `country_code` e.g. "86"."""

    phone: str = field(repr=False)
    country_code: str


class MiniProgramClient:
    """The mini-program's server APIs over a shared aiohttp session; see the module."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        redis: Redis,
        settings: Settings,
        *,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        appid, timeout = settings.miniapp.appid, settings.wecom.request_timeout_seconds
        endpoint = TokenEndpoint(
            MINIAPP, settings.miniapp_api_base, TOKEN_API, appid,
            lambda secret: {"grant_type": "client_credential", "appid": appid, "secret": secret},
        )
        self.transport = Transport(
            session, family=MINIAPP, base_url=settings.miniapp_api_base,
            tokens=TokenCache(session, redis, endpoint=endpoint, request_timeout=timeout,
                              clock=clock),
            timeout=timeout, busy_retries=BUSY_RETRIES,
            busy_backoff=settings.wecom.busy_backoff_seconds, clock=clock, sleep=sleep,
        )
        self._appid = appid
        self._secret = settings.miniapp.secret

    async def code2session(self, code: str) -> WxSession:
        """Exchange a `wx.login` code for the user's openid, unionid and session_key.

        WeChat doc: developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/
        code2Session.html, `GET sns/jscode2session`. Credentials: appid and AppSecret
        (no access token). Raises `InvalidCode` (40029), `RateLimited` (45011),
        `UserBlocked` (40226), `Busy` (-1).
        """
        data = await self.transport.get(
            LOGIN,
            {"appid": self._appid, "secret": self._secret, "js_code": code,
             "grant_type": "authorization_code"},
            secret=None, sensitive=(self._secret, code),
        )
        openid, session_key = _text(data, "openid"), _text(data, "session_key")
        if not openid or not session_key:
            raise MiniProgramUnavailable(LOGIN, "answer without openid or session_key")
        return WxSession(openid, _text(data, "unionid") or None, session_key)

    async def phone_number(self, code: str) -> WxPhone:
        """Exchange a getPhoneNumber button code for the user's phone number.

        WeChat doc: developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-info/
        phone-number/getPhoneNumber.html, `POST wxa/business/getuserphonenumber` with
        {code} in the body. Credentials: the mini-program's access token. Raises
        `InvalidCode` (40029), `Busy` (-1), `MiniProgramError` for other codes.
        """
        data = await self.transport.post(PHONE_NUMBER, {"code": code}, secret=self._secret)
        info = data.get("phone_info")
        if not isinstance(info, dict) or not _text(info, "purePhoneNumber"):
            raise MiniProgramUnavailable(PHONE_NUMBER, "answer without phone_info")
        # countryCode is a string in WeChat's field table and a number in its example.
        return WxPhone(_text(info, "purePhoneNumber"), str(info.get("countryCode") or ""))


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    return value if isinstance(value, str) else ""
