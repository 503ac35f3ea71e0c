"""Scans served together: under load, the code lookups of the scans that arrive while
one lookup is in flight are made by the next one, in one statement, and so are the
records of scans that earn no points (PostgreSQL). A round trip costs the server far
more than the row it carries, so each scan pays a fraction of one; with no load a scan
runs at once, as before (bot/group_commit.py).

Each caller's ask is its own key (identity, not value), so two scans of one code in a
group are two scans: the records of a group are written in rounds in which every code
appears once (a statement updates a row once), and the row lock orders them as it
orders single scans, so exactly one scan of a code is its first verification.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from tortoise import connections
from tortoise.exceptions import OperationalError

from bot.group_commit import GroupCommit
from handlers.ledger import utc
from handlers.trace_records import BatchFacts, batch_facts, found_codes, record_scans
from models.trace import CodeScan, TraceCode

K = TypeVar("K")
R = TypeVar("R")
# A grouped write that PostgreSQL picked as a deadlock victim (another process locked
# the same codes in another order) is tried again this many times.
_DEADLOCK_RETRIES = 3


@dataclass(frozen=True)
class Found:
    """A stored code and what its batch holds."""

    code: TraceCode
    facts: BatchFacts


@dataclass(eq=False)
class Lookup:
    serial: str
    gtin: str
    lot: str


@dataclass(eq=False)
class Record:
    """A scan to record: `verify` counts a verification; `verdict` is the row's verdict
    unless it verifies (then genuine or already_verified, by who came first)."""

    code: TraceCode
    verify: bool
    city: str
    verdict: str
    client: str
    now: datetime
    values: list[Any] = field(init=False)

    def __post_init__(self) -> None:
        db = CodeScan._meta.fields_map["at"]
        self.values = [self.code.serial, 1 if self.verify else 0,
                       db.to_db_value(utc(self.now), CodeScan), self.city, self.verdict,
                       self.client]


_groups: weakref.WeakKeyDictionary[Any, dict[str, GroupCommit[Any, Any]]] = (
    weakref.WeakKeyDictionary())


def _group(name: str, run: Callable[[list[K]], Awaitable[dict[K, R]]]) -> GroupCommit[K, R]:
    """This event loop's group `name` (a group's task lives on one loop)."""
    groups = _groups.setdefault(asyncio.get_running_loop(), {})
    if name not in groups:
        groups[name] = GroupCommit(run)
    return groups[name]


async def _find_all(asks: list[Lookup]) -> dict[Lookup, Found]:
    codes = await found_codes([ask.serial for ask in asks])
    out: dict[Lookup, Found] = {}
    for ask in asks:
        code = codes.get(ask.serial)
        if code is None:
            continue
        facts = await batch_facts(code.batch_id)
        if facts.batch.gtin == ask.gtin and facts.batch.lot.upper() == ask.lot.upper():
            out[ask] = Found(code, facts)
    return out


async def find(serial: str, gtin: str, lot: str) -> Found | None:
    """The code `serial` if its batch is (gtin, lot), with its batch, product and guide."""
    return await _group("find", _find_all)(Lookup(serial, gtin, lot))


async def _record_all(records: list[Record]) -> dict[Record, tuple[TraceCode, bool]]:
    out: dict[Record, tuple[TraceCode, bool]] = {}
    waiting = records
    while waiting:
        seen: set[str] = set()
        round_: list[Record] = []
        later: list[Record] = []
        for record in waiting:
            (later if record.code.serial in seen else round_).append(record)
            seen.add(record.code.serial)
        stored = await _with_retries(round_)
        for record in round_:
            code = stored[record.code.serial]
            out[record] = (code, record.verify and code.verifications == 1)
        waiting = later
    return out


async def _with_retries(round_: list[Record]) -> dict[str, TraceCode]:
    for attempt in range(_DEADLOCK_RETRIES + 1):
        try:
            return await record_scans([r.values for r in round_])
        except OperationalError as exc:
            deadlock = getattr(exc.__cause__, "sqlstate", "") == "40P01"
            if not deadlock or attempt == _DEADLOCK_RETRIES:
                raise
    raise AssertionError("unreachable")


async def record(record_: Record) -> tuple[TraceCode, bool] | None:
    """Count and store a scan that earns no points with others in one statement
    (PostgreSQL): the code after it and whether it was the first verification. None
    on another database (the caller records it in a transaction of its own)."""
    if connections.get("default").capabilities.dialect != "postgres":
        return None
    return await _group("record", _record_all)(record_)
