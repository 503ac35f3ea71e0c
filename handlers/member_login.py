"""Mini-program login: WeChat's answer to a login code (openid, unionid when the
mini-program is bound to an open platform account, session_key) → the member → a
new session.

The member is the one holding the unionid, else the openid; a first login creates it.
When the unionid is held by one member (e.g. created by a WeCom add) and the openid by
another (a login before the mini-program was bound to the open platform), they are one
person and are merged. WeChat's session_key is kept sealed with the session and never
leaves the server.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.settings import Settings
from handlers.member_crypto import seal
from handlers.member_identity import Identity, find_or_create, identities_gained, owner_of
from handlers.member_merge import merge_members
from handlers.member_sessions import open_session
from models.members import IdentityKind, Member

if TYPE_CHECKING:
    from bot.miniapp import WxSession
    from bot.wecom import WeComClient

log = logging.getLogger("scrm.members")

SESSION_KEY_PURPOSE = "session_key"


@dataclass(frozen=True)
class LoginResult:
    token: str
    member: Member
    created: bool


async def login(wx: WxSession, *, settings: Settings, now: datetime, client: str = "",
                wecom: WeComClient | None = None) -> LoginResult:
    identities: list[Identity] = []
    if wx.unionid:
        identities.append((IdentityKind.UNIONID, wx.unionid))
    identities.append((IdentityKind.OPENID, wx.openid))
    member_id, created, gained = await find_or_create(identities)
    if wx.unionid and not created:
        by_openid = await owner_of(IdentityKind.OPENID, wx.openid)
        if by_openid is not None and by_openid != member_id:
            survivor = await merge_members(member_id, by_openid, reason="unionid",
                                           settings=settings, now=now, wecom=wecom)
            member_id = survivor.id
    token = await open_session(
        member_id, now=now, days=settings.members.session_days, client=client,
        session_key_cipher=seal(settings.members, wx.session_key, SESSION_KEY_PURPOSE))
    log.info("member.login member=%s created=%s unionid=%s", member_id, created,
             bool(wx.unionid))
    if gained:
        await identities_gained(member_id, settings, now, wecom=wecom)
    return LoginResult(token, await Member.get(id=member_id), created)
