"""`WeComClient`: the async WeCom API client the app, the worker and the tests share.

One instance per process (it lives under the `WECOM` app key); instances on the same
Redis share access tokens and rate-limit counters. Each API area is an attribute bound
to the transport and the secret its APIs need (`external_contact`, `corp_tag`,
`contact_way`, `user`, `group_chat`, `msg_template`; `app_message` uses the app's own
secret); a new area is one more `ApiArea` subclass and one more line in `__init__`.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
from redis.asyncio import Redis

from bot.settings import Settings
from bot.wecom.app_message import AppMessage
from bot.wecom.contact_way import ContactWay
from bot.wecom.corp_tag import CorpTag
from bot.wecom.external_contact import ExternalContact
from bot.wecom.group_chat import GroupChat
from bot.wecom.msg_template import MsgTemplate
from bot.wecom.transport import Clock, Sleep, Transport
from bot.wecom.user import User

__all__ = ["WeComClient"]


class WeComClient:
    """WeCom server APIs over a shared aiohttp session; see the module docstring."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        redis: Redis,
        settings: Settings,
        *,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.transport = Transport.for_wecom(session, redis, settings, clock=clock,
                                             sleep=sleep)
        # Event handlers receive only the client: the rules they apply (e.g. points for
        # a first guide add) come with it.
        self.settings = settings
        secret = settings.wecom.contact_secret
        self.external_contact = ExternalContact(self.transport, secret)
        self.corp_tag = CorpTag(self.transport, secret)
        self.contact_way = ContactWay(self.transport, secret)
        self.user = User(self.transport, secret)
        self.group_chat = GroupChat(self.transport, secret)
        self.msg_template = MsgTemplate(self.transport, secret)
        self.app_message = AppMessage(self.transport, settings.wecom.agent_secret,
                                      settings.wecom.agent_id)
