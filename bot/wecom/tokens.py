"""Access tokens per (account, secret), cached in Redis and shared by every process.

A `TokenEndpoint` says where one family's tokens come from: WeCom's `gettoken` per
(corp_id, secret) (`wecom_token_endpoint`), or the mini-program's `token` per (appid,
secret) (bot/miniapp). Everything below holds for both.

WeCom intercepts frequent gettoken calls, so one token serves all processes until it is
`TOKEN_REFRESH_MARGIN_SECONDS` from expiry or WeCom rejects it. Only one process at a
time refreshes (a Redis lock); the others wait until it has stored the new token (or
released the lock) and read that. `invalidate(secret, token)` drops the cache only
while it still holds that token, so a burst of 40014/42001 answers causes one refresh,
not one per call.

Each process also keeps the token it last read or fetched in memory, with the same
expiry, so a call costs no Redis round trip for its token. `invalidate` drops the
memory copy too. When another process refreshed a token early (after a 40014), this
process learns it from one rejected call: the transport then invalidates (a no-op in
Redis, which already moved on) and reads the new token from Redis, without a gettoken.

The cached entry carries its own expiry by the injected clock (the Redis TTL only
cleans up), so tests can move time without waiting.

Redis keys carry a short hash of the secret, never the secret. The lock is
bot/redis_lock.py's (redis-py's, released without Lua).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from redis.asyncio import Redis
from redis.exceptions import LockError

from bot.redis_lock import CompareDeleteLock, as_bytes, delete_if
from bot.wecom.family import WECOM, ApiFamily
from bot.wecom.wire import call_json

__all__ = ["TOKEN_REFRESH_MARGIN_SECONDS", "TokenCache", "TokenEndpoint",
           "wecom_token_endpoint"]

# A cached token is treated as expired this long before WeCom's expires_in runs out.
TOKEN_REFRESH_MARGIN_SECONDS = 300
# How often a process waiting for another's refresh looks for the new token.
LOCK_POLL_SECONDS = 0.05


@dataclass(frozen=True)
class TokenEndpoint:
    """`GET {base_url}/cgi-bin/{api}?{query(secret)}` answers a token of `account`."""

    family: ApiFamily
    base_url: str
    api: str
    account: str
    query: Callable[[str], dict[str, str]]

    @property
    def url(self) -> str:
        return f"{self.base_url.rstrip('/')}/cgi-bin/{self.api}"


def wecom_token_endpoint(base_url: str, corp_id: str) -> TokenEndpoint:
    """WeCom's `gettoken?corpid=&corpsecret=` (wecom-protocol.md §3.1)."""
    return TokenEndpoint(WECOM, base_url, "gettoken", corp_id,
                         lambda secret: {"corpid": corp_id, "corpsecret": secret})


class TokenCache:
    """The current access token for a secret of one account; see the module docstring."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        redis: Redis,
        *,
        endpoint: TokenEndpoint,
        request_timeout: float,
        clock: Callable[[], float],
    ) -> None:
        self._session = session
        self._redis = redis
        self._endpoint = endpoint
        self._timeout = request_timeout
        self._clock = clock
        # secret → (token, expires_at): this process's copy of the Redis entry.
        self._memory: dict[str, tuple[str, float]] = {}

    def key(self, secret: str) -> str:
        account = self._endpoint.account
        digest = hashlib.sha256(f"{account}\0{secret}".encode()).hexdigest()[:16]
        return f"{self._endpoint.family.name}:token:{account}:{digest}"

    async def get(self, secret: str) -> str:
        """The cached token, or a fresh one fetched by whichever process holds the lock.

        Waiting processes poll the cache rather than queue for the lock, so a crowd of
        first calls is served as soon as the one refresh lands.
        """
        held = self._memory.get(secret)
        if held is not None and held[1] > self._clock():
            return held[0]
        token = await self._read(secret)
        if token:
            return token
        lock = self._redis.lock(
            self.key(secret) + ":lock",
            timeout=self._timeout + 5,
            lock_class=CompareDeleteLock,
            thread_local=False,
        )
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + 2 * self._timeout + 5
        while not await lock.acquire(blocking=False):
            if loop.time() > give_up_at:
                raise self._endpoint.family.unavailable(
                    self._endpoint.api, "another process's token refresh did not finish")
            await asyncio.sleep(LOCK_POLL_SECONDS)
            token = await self._read(secret)
            if token:
                return token
        try:
            return await self._read(secret) or await self._fetch(secret)
        finally:
            # LockError: the lock timed out while we fetched; nothing of ours to release.
            with contextlib.suppress(LockError):
                await lock.release()

    async def invalidate(self, secret: str, token: str) -> bool:
        """Forget `token` unless the cache already moved on; True if it was dropped
        from Redis."""
        if self._memory.get(secret, ("", 0.0))[0] == token:
            del self._memory[secret]
        return await delete_if(
            self._redis, self.key(secret), lambda raw: _token_of(raw) == token
        )

    async def _read(self, secret: str) -> str | None:
        raw = await self._redis.get(self.key(secret))
        entry = _parse(as_bytes(raw))
        if entry is None or entry["expires_at"] <= self._clock():
            return None
        return self._remember(secret, str(entry["token"]), float(entry["expires_at"]))

    def _remember(self, secret: str, token: str, expires_at: float) -> str:
        self._memory[secret] = (token, expires_at)
        return token

    async def _fetch(self, secret: str) -> str:
        endpoint = self._endpoint
        data = await call_json(
            self._session,
            "GET",
            endpoint.url,
            family=endpoint.family,
            api=endpoint.api,
            params=endpoint.query(secret),
            timeout=self._timeout,
            sensitive=(secret,),
        )
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise endpoint.family.unavailable(endpoint.api, "answer without access_token")
        expires_in = int(data.get("expires_in") or 7200)
        lifetime = (
            expires_in - TOKEN_REFRESH_MARGIN_SECONDS
            if expires_in > 2 * TOKEN_REFRESH_MARGIN_SECONDS
            else expires_in / 2
        )
        expires_at = self._clock() + lifetime
        entry = {"token": token, "expires_at": expires_at}
        await self._redis.set(self.key(secret), json.dumps(entry), ex=max(1, int(lifetime)))
        return self._remember(secret, token, expires_at)


def _parse(raw: bytes | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        entry = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(entry, dict) or "token" not in entry or "expires_at" not in entry:
        return None
    return entry


def _token_of(raw: bytes | None) -> str | None:
    entry = _parse(raw)
    return None if entry is None else str(entry["token"])
