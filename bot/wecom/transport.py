"""The shared transport under every WeCom API area: tokens, retries, rate limits.

`Transport.get/post(path, ..., secret=...)` call `{base}/cgi-bin/{path}` with the
secret's access token and return the answer when errcode is 0. What it does on errors:

- 40014 / 42001: drop the token, fetch a new one and retry once;
- 45009 / 45033 / -1: wait (doubling from `busy_backoff_seconds`) and retry, at most
  `busy_retries` times, then raise the typed error;
- any other errcode: raise its typed error at once; no answer: `WeComUnavailable`.

A call may carry a `budget` (seconds): it never waits past it. A rate-limit window
that opens later, or a busy backoff that would end later, raises `RateLimited` (or the
busy error) at once instead. send_welcome_msg uses this: its code lives 20 s, so a
wait beyond that can only fail later. The limiter counts each API path on its own, so
other APIs' traffic never holds a call up.

Each failed attempt logs one line with the api and errcode. Tokens and secrets never
reach a log line or an exception message.

`ApiArea` is the base of the per-area classes (`ExternalContact`, ...): an area binds
the secret its APIs need and calls `_get`/`_post`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
from redis.asyncio import Redis

from bot.settings import Settings
from bot.wecom.errors import RateLimited, SystemBusy, TokenInvalid, WeComError, WeComUnavailable
from bot.wecom.ratelimit import RateLimiter, WindowTooFar
from bot.wecom.tokens import TokenCache
from bot.wecom.wire import call_json

__all__ = ["Transport", "ApiArea", "Params", "Clock", "Sleep"]

log = logging.getLogger("bot.wecom")

Params = Mapping[str, str | int]
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[object]]


class Transport:
    """Calls WeCom APIs for one corp; shared by all API areas of a `WeComClient`."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        redis: Redis,
        settings: Settings,
        *,
        clock: Clock,
        sleep: Sleep,
    ) -> None:
        wecom = settings.wecom
        self._session = session
        self._base = settings.wecom_api_base.rstrip("/")
        self._timeout = wecom.request_timeout_seconds
        self._busy_retries = wecom.busy_retries
        self._busy_backoff = wecom.busy_backoff_seconds
        self._clock = clock
        self._sleep = sleep
        self.tokens = TokenCache(
            session,
            redis,
            base_url=self._base,
            corp_id=wecom.corp_id,
            request_timeout=self._timeout,
            clock=clock,
        )
        self.limiter = RateLimiter(
            redis,
            wecom.corp_id,
            per_minute=wecom.rate_limit_per_minute,
            per_api=wecom.rate_limits,
            clock=clock,
            sleep=sleep,
        )

    async def get(self, path: str, params: Params | None = None, *, secret: str) -> dict[str, Any]:
        """GET /cgi-bin/{path} with `params` in the query."""
        return await self._call("GET", path, params or {}, None, secret, None)

    async def post(
        self, path: str, json: Any, *, secret: str, params: Params | None = None,
        budget: float | None = None,
    ) -> dict[str, Any]:
        """POST /cgi-bin/{path} with `json` as the body; `budget`: see the module."""
        return await self._call("POST", path, params or {}, json, secret, budget)

    async def _call(
        self, method: str, path: str, params: Params, body: Any, secret: str,
        budget: float | None,
    ) -> dict[str, Any]:
        url = f"{self._base}/cgi-bin/{path}"
        deadline = None if budget is None else self._clock() + budget
        refreshed = False
        busy_failures = 0
        while True:
            token = ""
            try:
                await self.limiter.acquire(path, deadline)
            except WindowTooFar as exc:
                limited = RateLimited(45009, f"local rate limit: {exc}", path)
                _log_failure(limited, "raise")
                raise limited from None
            try:
                token = await self.tokens.get(secret)
                query = {**{k: str(v) for k, v in params.items()}, "access_token": token}
                return await call_json(
                    self._session,
                    method,
                    url,
                    api=path,
                    params=query,
                    body=body,
                    timeout=self._timeout,
                    sensitive=(token, secret),
                )
            except TokenInvalid as exc:
                if refreshed or not token:
                    _log_failure(exc, "raise")
                    raise
                _log_failure(exc, "refresh_token")
                refreshed = True
                await self.tokens.invalidate(secret, token)
            except (RateLimited, SystemBusy) as exc:
                delay = self._busy_backoff * 2**busy_failures
                if busy_failures >= self._busy_retries or (
                        deadline is not None and self._clock() + delay > deadline):
                    _log_failure(exc, "raise", attempts=busy_failures + 1)
                    raise
                busy_failures += 1
                _log_failure(exc, f"retry_in_{delay:g}s", attempts=busy_failures)
                await self._sleep(delay)
            except WeComError as exc:
                _log_failure(exc, "raise")
                raise
            except WeComUnavailable as exc:
                log.warning(
                    "wecom_call_failed api=%s errcode=- action=raise reason=%s",
                    exc.api, exc.reason,
                )
                raise


def _log_failure(exc: WeComError, action: str, *, attempts: int = 1) -> None:
    log.warning(
        "wecom_call_failed api=%s errcode=%d action=%s attempts=%d errmsg=%s",
        exc.api, exc.errcode, action, attempts, exc.errmsg,
    )


class ApiArea:
    """Base of one WeCom API area: binds the transport and the secret its APIs need."""

    def __init__(self, transport: Transport, secret: str) -> None:
        self._transport = transport
        self._secret = secret

    async def _get(self, path: str, params: Params | None = None) -> dict[str, Any]:
        return await self._transport.get(path, params, secret=self._secret)

    async def _post(self, path: str, body: Any, *, budget: float | None = None) -> dict[str, Any]:
        return await self._transport.post(path, body, secret=self._secret, budget=budget)
