"""Typed keys for what the aiohttp app shares (CONVENTIONS: one module declares them)."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
from aiohttp import web
from redis.asyncio import Redis

from bot.crypto import CallbackCrypto
from bot.inbox import InboxWriter
from bot.miniapp import MiniProgramClient
from bot.queue import Lanes
from bot.settings import Settings
from bot.wecom import WeComClient
from handlers.member_cache import MemberCache

SETTINGS = web.AppKey("settings", Settings)
CLOCK: web.AppKey[Callable[[], float]] = web.AppKey("clock")
REDIS = web.AppKey("redis", Redis)
HTTP = web.AppKey("http", aiohttp.ClientSession)
WECOM = web.AppKey("wecom", WeComClient)
MINIAPP = web.AppKey("miniapp", MiniProgramClient)
LANES = web.AppKey("lanes", Lanes)
INBOX = web.AppKey("inbox", InboxWriter)
CALLBACK_CRYPTO = web.AppKey("callback_crypto", CallbackCrypto)
MEMBER_CACHE = web.AppKey("member_cache", MemberCache)
