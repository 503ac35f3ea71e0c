"""The shared transport under every WeCom API area: tokens, retries, rate limits.

`Transport.get/post(path, ..., secret=...)` call `{base}/cgi-bin/{path}` with the
secret's access token and return the answer when errcode is 0. What it does on errors:

- 40014 / 42001: drop the token, fetch a new one and retry once;
- 45009 / 45033 / -1: wait (doubling from `busy_backoff_seconds`) and retry, at most
  `busy_retries` times, then raise the typed error;
- any other errcode: raise its typed error at once; no answer: `WeComUnavailable`.

That is WeCom's `Transport.for_wecom`. The mini-program client (bot/miniapp) builds one
for its own `ApiFamily` (other token and busy errcodes, no path prefix, no rate limiter,
calls without a token); the loop is the same.

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

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
from redis.asyncio import Redis

from bot.settings import Settings
from bot.wecom.errors import WeChatError, WeChatUnavailable
from bot.wecom.family import WECOM, ApiFamily
from bot.wecom.ratelimit import RateLimiter, WindowTooFar
from bot.wecom.tokens import TokenCache, wecom_token_endpoint
from bot.wecom.wire import call_json

__all__ = ["Transport", "ApiArea", "Params", "Clock", "Sleep"]

Params = Mapping[str, str | int]
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[object]]


class Transport:
    """Calls the APIs of one family for one account (a corp, a mini-program); for WeCom
    shared by all API areas of a `WeComClient`."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        family: ApiFamily,
        base_url: str,
        tokens: TokenCache,
        timeout: float,
        busy_retries: int,
        busy_backoff: float,
        clock: Clock,
        sleep: Sleep,
        path_prefix: str = "",
        limiter: RateLimiter | None = None,
    ) -> None:
        self._session = session
        self._family = family
        self._base = f"{base_url.rstrip('/')}/{path_prefix}"
        self.tokens = tokens
        self.limiter = limiter
        self._timeout = timeout
        self._busy_retries = busy_retries
        self._busy_backoff = busy_backoff
        self._clock = clock
        self._sleep = sleep

    @classmethod
    def for_wecom(
        cls, session: aiohttp.ClientSession, redis: Redis, settings: Settings, *,
        clock: Clock, sleep: Sleep,
    ) -> Transport:
        """WeCom's `/cgi-bin/` APIs of settings.wecom.corp_id, with its rate limits."""
        wecom = settings.wecom
        tokens = TokenCache(
            session,
            redis,
            endpoint=wecom_token_endpoint(settings.wecom_api_base, wecom.corp_id),
            request_timeout=wecom.request_timeout_seconds,
            clock=clock,
        )
        limiter = RateLimiter(
            redis,
            wecom.corp_id,
            per_minute=wecom.rate_limit_per_minute,
            per_api=wecom.rate_limits,
            clock=clock,
            sleep=sleep,
        )
        return cls(
            session, family=WECOM, base_url=settings.wecom_api_base, path_prefix="cgi-bin/",
            tokens=tokens, limiter=limiter, timeout=wecom.request_timeout_seconds,
            busy_retries=wecom.busy_retries, busy_backoff=wecom.busy_backoff_seconds,
            clock=clock, sleep=sleep,
        )

    async def get(
        self, path: str, params: Params | None = None, *, secret: str | None,
        sensitive: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """GET {prefix}{path} with `params` in the query; `secret` None: no access_token
        (the API takes its credentials in `params`; list them in `sensitive`)."""
        return await self._call("GET", path, params or {}, None, secret, None, sensitive)

    async def post(
        self, path: str, json: Any, *, secret: str, params: Params | None = None,
        budget: float | None = None,
    ) -> dict[str, Any]:
        """POST {prefix}{path} with `json` as the body; `budget`: see the module."""
        return await self._call("POST", path, params or {}, json, secret, budget, ())

    async def _call(
        self, method: str, path: str, params: Params, body: Any, secret: str | None,
        budget: float | None, sensitive: tuple[str, ...],
    ) -> dict[str, Any]:
        url = self._base + path
        family = self._family
        deadline = None if budget is None else self._clock() + budget
        refreshed = False
        busy_failures = 0
        while True:
            token = ""
            if self.limiter is not None:
                try:
                    await self.limiter.acquire(path, deadline)
                except WindowTooFar as exc:
                    limited = family.error_for(45009, f"local rate limit: {exc}", path)
                    _log_failure(family, limited, "raise")
                    raise limited from None
            try:
                query = {k: str(v) for k, v in params.items()}
                if secret is not None:
                    token = await self.tokens.get(secret)
                    query["access_token"] = token
                return await call_json(
                    self._session,
                    method,
                    url,
                    family=family,
                    api=path,
                    params=query,
                    body=body,
                    timeout=self._timeout,
                    sensitive=(token, secret or "", *sensitive),
                )
            except WeChatError as exc:
                if exc.errcode in family.token_errcodes and secret is not None:
                    if refreshed or not token:
                        _log_failure(family, exc, "raise")
                        raise
                    _log_failure(family, exc, "refresh_token")
                    refreshed = True
                    await self.tokens.invalidate(secret, token)
                    continue
                if exc.errcode not in family.busy_errcodes:
                    _log_failure(family, exc, "raise")
                    raise
                delay = self._busy_backoff * 2**busy_failures
                if busy_failures >= self._busy_retries or (
                        deadline is not None and self._clock() + delay > deadline):
                    _log_failure(family, exc, "raise", attempts=busy_failures + 1)
                    raise
                busy_failures += 1
                _log_failure(family, exc, f"retry_in_{delay:g}s", attempts=busy_failures)
                await self._sleep(delay)
            except WeChatUnavailable as exc:
                family.log.warning(
                    "%s_call_failed api=%s errcode=- action=raise reason=%s",
                    family.name, exc.api, exc.reason,
                )
                raise


def _log_failure(family: ApiFamily, exc: WeChatError, action: str, *, attempts: int = 1) -> None:
    family.log.warning(
        "%s_call_failed api=%s errcode=%d action=%s attempts=%d errmsg=%s",
        family.name, exc.api, exc.errcode, action, attempts, exc.errmsg,
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
