"""Short-lived codes the sandbox issues and checks by its clock: access tokens and
welcome codes.

Access tokens (gettoken): each call issues a new token valid for
settings.sandbox.token_expires_in seconds; earlier ones stay valid until they expire.
An expired token answers 42001; one never issued, garbled or invalidated by the console
answers 40014. Each token remembers which app's secret it was issued for (the
customer-contact secret or the self-built app's), as WeCom's tokens are per app.

Welcome codes: issued with add_external_contact / add_half_external_contact events,
valid 20 s after the event and usable once (41050 when unknown or expired, 41051 once
used), wecom-protocol.md §3.7.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.sandbox.errors import (
    INVALID_TOKEN,
    INVALID_WELCOME_CODE,
    MISSING_WELCOME_CODE,
    TOKEN_EXPIRED,
    WELCOME_ALREADY_SENT,
    ApiError,
)
from bot.sandbox.ids import new_secret

WELCOME_CODE_TTL_SECONDS = 20
CONTACT_APP, AGENT_APP = "contact", "agent"


class AccessTokens:
    def __init__(self) -> None:
        self._expires_at: dict[str, float] = {}
        self._app: dict[str, str] = {}

    def issue(self, now: float, expires_in: int, app: str = CONTACT_APP) -> str:
        token = new_secret()
        self._expires_at[token] = now + expires_in
        self._app[token] = app
        return token

    def app_of(self, token: str) -> str | None:
        """CONTACT_APP or AGENT_APP: whose secret the token was issued for."""
        return self._app.get(token)

    def check(self, token: str, now: float) -> None:
        expires_at = self._expires_at.get(token)
        if expires_at is None:
            raise ApiError(INVALID_TOKEN)
        if now >= expires_at:
            raise ApiError(TOKEN_EXPIRED)

    def invalidate_all(self) -> int:
        count = len(self._expires_at)
        self._expires_at.clear()
        self._app.clear()
        return count

    def __len__(self) -> int:
        return len(self._expires_at)


@dataclass
class WelcomeCode:
    code: str
    userid: str
    external_userid: str
    expires_at: float
    used: bool = False


class WelcomeCodes:
    """Codes by value, in the order issued. That is also expiry order (the sandbox clock
    does not go back), so issuing drops expired codes from the front: kept or not, they
    answer 41050, and memory stays bounded under a steady stream of adds."""

    def __init__(self) -> None:
        self._codes: dict[str, WelcomeCode] = {}

    def issue(self, userid: str, external_userid: str, now: float) -> str:
        self._drop_expired(now)
        code = WelcomeCode(new_secret(24), userid, external_userid,
                           now + WELCOME_CODE_TTL_SECONDS)
        self._codes[code.code] = code
        return code.code

    def check(self, code: str, now: float) -> WelcomeCode:
        """The code, if send_welcome_msg may use it now; raises the errcode WeCom answers.
        It stays usable until the caller marks it `used`."""
        if not code:
            raise ApiError(MISSING_WELCOME_CODE)
        found = self._codes.get(code)
        if found is None or now >= found.expires_at:
            raise ApiError(INVALID_WELCOME_CODE)
        if found.used:
            raise ApiError(WELCOME_ALREADY_SENT)
        return found

    def _drop_expired(self, now: float) -> None:
        while self._codes:
            oldest = next(iter(self._codes.values()))
            if now < oldest.expires_at:
                return
            del self._codes[oldest.code]

    def __len__(self) -> int:
        return len(self._codes)
