"""What a WeCom API call can fail with.

`WeComError` is WeCom answering with a nonzero `errcode`; its subclasses are the codes
the domain acts on (wecom-protocol.md §4.1). `WeComUnavailable` is the call not getting
a WeCom answer at all (connection refused, timeout, HTTP 5xx, a body that is not JSON):
worth retrying later, unlike most errcodes.

Their bases `WeChatError` and `WeChatUnavailable` are what the pieces shared with the
mini-program client (bot/miniapp: the wire, token cache and transport) catch; each API
family raises its own subclasses.

Messages never carry tokens or secrets: everything that goes into one passes `redact`.
"""

from __future__ import annotations

import re

__all__ = [
    "WeChatError",
    "WeChatUnavailable",
    "WeComError",
    "TokenInvalid",
    "RateLimited",
    "SystemBusy",
    "WelcomeCodeInvalid",
    "AlreadyChatted",
    "WelcomeSending",
    "NoRelationship",
    "InvalidExternalUserId",
    "InvalidTag",
    "WeComUnavailable",
    "error_for",
]


class WeChatError(Exception):
    """A WeChat-family API (WeCom's or the mini-program's) answered `errcode != 0` to the
    call of `api` (a path such as "externalcontact/get")."""

    def __init__(self, errcode: int, errmsg: str, api: str) -> None:
        super().__init__(f"{api}: errcode {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.api = api


class WeChatUnavailable(Exception):
    """No usable answer from a WeChat-family API for `api`: connection failure, timeout,
    HTTP 5xx or a body that is not a JSON object. `reason` is already redacted."""

    service = "WeChat"

    def __init__(self, api: str, reason: str) -> None:
        super().__init__(f"{api}: {self.service} unavailable: {reason}")
        self.api = api
        self.reason = reason


class WeComError(WeChatError):
    """WeCom answered `errcode != 0` to the call of `api` (a path such as
    "externalcontact/get")."""


class TokenInvalid(WeComError):
    """40014 (token unknown or garbled) or 42001 (token expired): refresh and retry."""


class RateLimited(WeComError):
    """45009 (frequency limit, blocks the rest of the window) or 45033 (concurrency)."""


class SystemBusy(WeComError):
    """-1: WeCom is busy; retry after a pause."""


class WelcomeCodeInvalid(WeComError):
    """41050: the welcome code expired (it lives 20 s) or was never valid."""


class AlreadyChatted(WeComError):
    """41051: member and customer already chatted, or the welcome was delivered."""


class WelcomeSending(WeComError):
    """41096: another app is sending the welcome right now; delivery is not certain."""


class NoRelationship(WeComError):
    """84061: the member and the customer are not (or not yet) contacts."""


class InvalidExternalUserId(WeComError):
    """40096: malformed external_userid, another subject's, or outside the visible range."""


class InvalidTag(WeComError):
    """40068: a corp tag or tag group id that does not exist (e.g. deleted in the console)."""


_BY_ERRCODE: dict[int, type[WeComError]] = {
    40014: TokenInvalid,
    42001: TokenInvalid,
    45009: RateLimited,
    45033: RateLimited,
    -1: SystemBusy,
    41050: WelcomeCodeInvalid,
    41051: AlreadyChatted,
    41096: WelcomeSending,
    84061: NoRelationship,
    40096: InvalidExternalUserId,
    40068: InvalidTag,
}


def error_for(errcode: int, errmsg: str, api: str) -> WeComError:
    """The exception for a nonzero errcode: the typed subclass, or `WeComError`."""
    return _BY_ERRCODE.get(errcode, WeComError)(errcode, errmsg, api)


class WeComUnavailable(WeChatUnavailable):
    """No usable answer from WeCom for `api`: connection failure, timeout, HTTP 5xx
    or a body that is not a JSON object. `reason` is already redacted."""

    service = "WeCom"


# js_code: a mini-program login code, single use but a credential until used.
_CREDENTIAL_PARAM = re.compile(r"(access_token|corpsecret|secret|js_code)=[^&\s'\"]*",
                               re.IGNORECASE)


def redact(text: str, *sensitive: str) -> str:
    """`text` with credential query parameters and the given values masked."""
    for value in sensitive:
        if value:
            text = text.replace(value, "***")
    return _CREDENTIAL_PARAM.sub(r"\1=***", text)
