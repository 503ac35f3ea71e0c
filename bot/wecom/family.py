"""What tells one family of WeChat server APIs from another, for the pieces they share.

WeCom's API (qyapi.weixin.qq.com) and the mini-program's (api.weixin.qq.com) speak the
same envelope: `errcode`/`errmsg`, an `access_token` in the query, tokens that expire
and busy answers worth retrying. The wire (`call_json`), the Redis token cache and the
transport serve both; an `ApiFamily` tells them which exceptions to raise, which
errcodes mean "refresh the token" and which mean "back off and retry", and the name
its log lines and Redis keys carry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.wecom.errors import WeChatError, WeChatUnavailable, WeComUnavailable, error_for

__all__ = ["ApiFamily", "WECOM"]


@dataclass(frozen=True)
class ApiFamily:
    # "wecom", "miniapp": log events are `<name>_call_failed` on logger `bot.<name>`,
    # cached tokens live under `<name>:token:`.
    name: str
    # The exception for a nonzero errcode (errcode, errmsg, api).
    error_for: Callable[[int, str, str], WeChatError]
    # The exception for no usable answer (api, reason).
    unavailable: Callable[[str, str], WeChatUnavailable]
    # Answers that reject the access token: drop it, fetch a new one, retry once.
    token_errcodes: frozenset[int]
    # Answers that say "later": wait (doubling) and retry, up to the transport's limit.
    busy_errcodes: frozenset[int]

    @property
    def log(self) -> logging.Logger:
        return logging.getLogger(f"bot.{self.name}")


WECOM = ApiFamily(
    name="wecom",
    error_for=error_for,
    unavailable=WeComUnavailable,
    token_errcodes=frozenset({40014, 42001}),
    busy_errcodes=frozenset({45009, 45033, -1}),
)
