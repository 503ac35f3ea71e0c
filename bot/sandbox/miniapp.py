"""The mini-program's side of WeChat in the sandbox: its users, the one-time codes the
mini-program gets for them, its access tokens and the per-user login quota.

A `WeChatUser` is a WeChat user as the mini-program sees them: an openid, a unionid
("" when the user has none, i.e. the mini-program is not bound to an Open Platform
account for them), a nickname, the phone number bound to their WeChat and whether
WeChat blocks their logins. Unionids are unique among users (one person, one unionid)
and may equal a WeCom customer's unionid: that is how One ID links the two
(wecom-protocol.md §5.3).

Codes (`wx.login` login codes and `getPhoneNumber` phone codes) live 5 minutes by the
sandbox clock and work once; a used or expired code is unknown (40029). Codes are kept
in the order issued, which is also expiry order, so issuing drops expired ones from
the front and memory stays bounded.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.errors import INVALID_CODE, ApiError, Conflict, lookup
from bot.sandbox.tokens import AccessTokens

CODE_TTL_SECONDS = 300
LOGINS_PER_USER_PER_MINUTE = 100
WECHAT_ID_LENGTH = 28


def new_wechat_id() -> str:
    """An openid or unionid shaped like WeChat's: `o` and 27 URL-safe characters."""
    return "o" + secrets.token_urlsafe(WECHAT_ID_LENGTH)[: WECHAT_ID_LENGTH - 1]


@dataclass
class WeChatUser:
    openid: str
    unionid: str = ""
    nickname: str = ""
    phone: str = ""
    blocked: bool = False


@dataclass(frozen=True)
class IssuedCode:
    openid: str
    issued_at: float
    # Phone codes: the number the user chose to share.
    phone: str = ""
    country_code: str = ""

    @property
    def expires_at(self) -> float:
        return self.issued_at + CODE_TTL_SECONDS


class OneTimeCodes:
    """Codes by value, in the order issued; see the module docstring."""

    def __init__(self) -> None:
        self._codes: dict[str, IssuedCode] = {}

    def issue(self, code: IssuedCode) -> str:
        while self._codes:
            oldest_value, oldest = next(iter(self._codes.items()))
            if code.issued_at < oldest.expires_at:
                break
            del self._codes[oldest_value]
        value = secrets.token_hex(16)
        self._codes[value] = code
        return value

    def peek(self, value: str, now: float) -> IssuedCode:
        """The code if it may be used now (it stays usable); else ApiError 40029."""
        found = self._codes.get(value)
        if found is None or now >= found.expires_at:
            raise ApiError(INVALID_CODE)
        return found

    def use(self, value: str) -> None:
        self._codes.pop(value, None)

    def take(self, value: str, now: float) -> IssuedCode:
        """`peek`, then the code is used up."""
        found = self.peek(value, now)
        self.use(value)
        return found

    def __len__(self) -> int:
        return len(self._codes)


@dataclass
class MiniApp:
    users: dict[str, WeChatUser] = field(default_factory=dict)
    login_codes: OneTimeCodes = field(default_factory=OneTimeCodes)
    phone_codes: OneTimeCodes = field(default_factory=OneTimeCodes)
    tokens: AccessTokens = field(default_factory=AccessTokens)
    # openid → (minute number, logins counted in that minute)
    _logins: dict[str, tuple[int, int]] = field(default_factory=dict)

    def require_user(self, openid: str) -> WeChatUser:
        return lookup(self.users, openid, "WeChat user")

    def save_user(self, openid: str, changes: dict[str, Any]) -> WeChatUser:
        """Create the user `openid` ("" → a new openid) or update its `changes`; a new
        user without a `unionid` change gets a generated one."""
        user = self.users.get(openid) or WeChatUser(openid or new_wechat_id(),
                                                    unionid=new_wechat_id())
        unionid = changes.get("unionid", user.unionid)
        holder = next((u for u in self.users.values() if unionid and u.unionid == unionid
                       and u.openid != user.openid), None)
        if holder is not None:
            raise Conflict(f"unionid {unionid!r} belongs to WeChat user {holder.openid!r}")
        for name, value in changes.items():
            setattr(user, name, value)
        self.users[user.openid] = user
        return user

    def count_login(self, openid: str, now: float) -> bool:
        """Count a jscode2session call for the user; False once the user has made more
        than 100 in this minute (45011)."""
        minute = int(now // 60)
        counted_minute, count = self._logins.get(openid, (minute, 0))
        count = count + 1 if counted_minute == minute else 1
        self._logins[openid] = (minute, count)
        return count <= LOGINS_PER_USER_PER_MINUTE

    def counts(self) -> dict[str, int]:
        return {
            "miniapp_users": len(self.users),
            "miniapp_login_codes": len(self.login_codes),
            "miniapp_phone_codes": len(self.phone_codes),
            "miniapp_access_tokens": len(self.tokens),
        }
