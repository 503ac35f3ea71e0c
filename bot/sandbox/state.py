"""Everything the sandbox holds, in one object per app: the clock, the corp's contacts,
tags, groups and 「联系我」 contact ways, issued tokens and welcome codes, the messages
sent to customers, the fault plan and the API call log.

State lives in memory in one process; `reset()` starts a fresh corp (and rewinds the
clock offset) without restarting the server.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from aiohttp import web

from bot.sandbox.call_log import CallLog
from bot.sandbox.clock import SandboxClock
from bot.sandbox.contact_ways import ContactWays
from bot.sandbox.contacts import Contacts
from bot.sandbox.faults import FaultPlan
from bot.sandbox.group_chats import GroupChats
from bot.sandbox.messages import SentMessages
from bot.sandbox.tags import CorpTags
from bot.sandbox.tokens import AccessTokens, WelcomeCodes


@dataclass
class SandboxState:
    clock: SandboxClock
    contacts: Contacts = field(default_factory=Contacts)
    tags: CorpTags = field(default_factory=CorpTags)
    chats: GroupChats = field(default_factory=GroupChats)
    contact_ways: ContactWays = field(default_factory=ContactWays)
    tokens: AccessTokens = field(default_factory=AccessTokens)
    welcome_codes: WelcomeCodes = field(default_factory=WelcomeCodes)
    messages: SentMessages = field(default_factory=SentMessages)
    faults: FaultPlan = field(default_factory=FaultPlan)
    calls: CallLog = field(default_factory=CallLog)

    def now(self) -> float:
        return self.clock.now()

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
            "group_chats": len(self.chats.chats),
            "contact_ways": len(self.contact_ways),
            "access_tokens": len(self.tokens),
            "welcome_codes": len(self.welcome_codes),
            "welcome_messages": len(self.messages),
            "api_calls": len(self.calls),
            **self.faults.to_json(),
            "clock": {"now": self.now(), "offset": self.clock.offset},
        }


STATE = web.AppKey("sandbox_state", SandboxState)
