"""Everything the sandbox holds, in one object per app: the clock, the corp's contacts,
tags, groups, 「联系我」 contact ways and 「加入群聊」 join ways, issued tokens and
welcome codes, the messages sent to customers, group push tasks, the app messages sent
to staff, the mini-program's WeChat users, codes and tokens, the fault plan and the API
call log.

State lives in memory in one process; `reset()` starts a fresh corp (and rewinds the
clock offset) without restarting the server.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from aiohttp import web

from bot.sandbox.app_messages import AppMessages
from bot.sandbox.call_log import CallLog
from bot.sandbox.clock import SandboxClock
from bot.sandbox.contact_ways import ContactWays
from bot.sandbox.contacts import Contacts
from bot.sandbox.faults import FaultPlan
from bot.sandbox.group_chats import GroupChats
from bot.sandbox.group_pushes import GroupPushes
from bot.sandbox.join_ways import JoinWays
from bot.sandbox.messages import SentMessages
from bot.sandbox.miniapp import MiniApp
from bot.sandbox.tags import CorpTags
from bot.sandbox.tokens import AccessTokens, WelcomeCodes


@dataclass
class SandboxState:
    clock: SandboxClock
    contacts: Contacts = field(default_factory=Contacts)
    tags: CorpTags = field(default_factory=CorpTags)
    chats: GroupChats = field(default_factory=GroupChats)
    contact_ways: ContactWays = field(default_factory=ContactWays)
    join_ways: JoinWays = field(default_factory=JoinWays)
    tokens: AccessTokens = field(default_factory=AccessTokens)
    welcome_codes: WelcomeCodes = field(default_factory=WelcomeCodes)
    messages: SentMessages = field(default_factory=SentMessages)
    group_pushes: GroupPushes = field(default_factory=GroupPushes)
    app_messages: AppMessages = field(default_factory=AppMessages)
    miniapp: MiniApp = field(default_factory=MiniApp)
    faults: FaultPlan = field(default_factory=FaultPlan)
    calls: CallLog = field(default_factory=CallLog)

    def now(self) -> float:
        return self.clock.now()

    def way_configs(self) -> int:
        """Contact ways and join ways: they share one 500,000 quota."""
        return len(self.contact_ways) + len(self.join_ways)

    def reset(self) -> None:
        for spec in fields(self):
            if spec.default_factory is not MISSING:
                setattr(self, spec.name, spec.default_factory())
        self.clock.reset()

    def summary(self) -> dict[str, Any]:
        return {
            "staff": len(self.contacts.staff),
            "customers": len(self.contacts.customers),
            "relations": self.contacts.status_counts(),
            "tag_groups": len(self.tags.groups),
            "tags": len(self.tags.tags),
            "group_chats": self.chats.active_count(),
            "dismissed_group_chats": len(self.chats.chats) - self.chats.active_count(),
            "contact_ways": len(self.contact_ways),
            "join_ways": len(self.join_ways),
            "access_tokens": len(self.tokens),
            "welcome_codes": len(self.welcome_codes),
            "welcome_messages": len(self.messages),
            "group_pushes": len(self.group_pushes),
            "app_messages": len(self.app_messages),
            **self.miniapp.counts(),
            "api_calls": len(self.calls),
            **self.faults.to_json(),
            "clock": {"now": self.now(), "offset": self.clock.offset},
        }


STATE = web.AppKey("sandbox_state", SandboxState)
