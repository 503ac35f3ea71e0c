"""What a mini-program API call can fail with, and how the shared transport tells the
mini-program's answers apart (`MINIAPP`).

`MiniProgramError` is WeChat answering a nonzero `errcode`; its subclasses are the codes
the member center acts on (wecom-protocol.md §5.1, §5.2): `InvalidCode` (40029: a login
or phone code that is unknown, used or expired; also 41008, an empty one),
`RateLimited` (45011: over 100 logins a minute by one user), `UserBlocked` (40226: a
high-risk user WeChat refuses to log in), `Busy` (-1, after the retries) and
`TokenInvalid` (the mini-program's access token refused again right after a refresh).
`MiniProgramUnavailable` is no usable answer at all (connection refused, timeout, HTTP
5xx, a body that is not JSON, an answer missing its fields).

Messages carry the API path, the errcode and WeChat's errmsg only: never a secret,
token, code or session_key.
"""

from __future__ import annotations

from bot.wecom.errors import WeChatError, WeChatUnavailable
from bot.wecom.family import ApiFamily

__all__ = [
    "MiniProgramError",
    "InvalidCode",
    "RateLimited",
    "UserBlocked",
    "Busy",
    "TokenInvalid",
    "MiniProgramUnavailable",
    "error_for",
    "MINIAPP",
    "TOKEN_API",
]

# The mini-program's own access token: GET /cgi-bin/token?grant_type=client_credential.
TOKEN_API = "token"


class MiniProgramError(WeChatError):
    """WeChat answered `errcode != 0` to the mini-program API `api` (a path such as
    "sns/jscode2session")."""


class InvalidCode(MiniProgramError):
    """40029: the code is unknown, already used or expired (codes live 5 minutes and
    work once); 41008: the code is empty."""


class RateLimited(MiniProgramError):
    """45011: the user made more than 100 calls this minute; retry next minute."""


class UserBlocked(MiniProgramError):
    """40226: WeChat judged the user high-risk and refuses their login."""


class Busy(MiniProgramError):
    """-1: WeChat is busy, still after the client's retries."""


class TokenInvalid(MiniProgramError):
    """40001 / 40014 / 42001: the mini-program's access token was refused, again after
    a fresh one was fetched."""


_BY_ERRCODE: dict[int, type[MiniProgramError]] = {
    40029: InvalidCode,
    41008: InvalidCode,
    45011: RateLimited,
    40226: UserBlocked,
    -1: Busy,
    40001: TokenInvalid,
    40014: TokenInvalid,
    42001: TokenInvalid,
}


def error_for(errcode: int, errmsg: str, api: str) -> MiniProgramError:
    """The exception for a nonzero errcode: the typed subclass, or `MiniProgramError`.
    On the token API itself 40001 means a wrong AppSecret, not a refused token."""
    if api == TOKEN_API and errcode == 40001:
        return MiniProgramError(errcode, errmsg, api)
    return _BY_ERRCODE.get(errcode, MiniProgramError)(errcode, errmsg, api)


class MiniProgramUnavailable(WeChatUnavailable):
    """No usable answer from WeChat for the mini-program API `api`; `reason` is
    already redacted."""


MINIAPP = ApiFamily(
    name="miniapp",
    error_for=error_for,
    unavailable=MiniProgramUnavailable,
    # WeChat says 40001 ("invalid credential … not latest") for a superseded token.
    token_errcodes=frozenset({40001, 40014, 42001}),
    # 45011 is per user and per minute: waiting seconds would not help, and the
    # member is waiting on the call.
    busy_errcodes=frozenset({-1}),
)
