"""A small per-process cache with a time to live, for what the onboarding path reads on
every add (the channel by state, guide names, tag rules) and changes seldom.

Stores are kept per database connection, so a process that opens another database
(the next test, say) starts empty.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from tortoise import connections

_V = TypeVar("_V")


class LocalCache(Generic[_V]):
    """A per-process cache with a time to live, kept per database connection (a process
    that opens another database, e.g. the next test, starts from an empty cache)."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._stores: weakref.WeakKeyDictionary[Any, dict[Any, tuple[float, _V]]] = (
            weakref.WeakKeyDictionary())

    def _store(self) -> dict[Any, tuple[float, _V]]:
        conn = connections.get("default")
        store = self._stores.get(conn)
        if store is None:
            store = self._stores[conn] = {}
        return store

    def get(self, key: Any) -> _V | None:
        hit = self._store().get(key)
        if hit is None or hit[0] <= self._clock():
            return None
        return hit[1]

    def put(self, key: Any, value: _V) -> _V:
        self._store()[key] = (self._clock() + self.ttl, value)
        return value

    def forget(self, key: Any) -> None:
        self._store().pop(key, None)
