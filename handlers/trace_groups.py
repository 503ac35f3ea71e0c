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

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.exceptions import OperationalError

from bot.group_commit import GroupCommit
from handlers.ledger import utc
from handlers.trace_records import (
    BatchFacts,
    CodeState,
    batch_facts,
    found_codes,
    record_scans,
    verified_first,
)
from models.trace import CodeScan

# A grouped write that PostgreSQL picked as a deadlock victim (another process locked
# the same codes in another order) is tried again this many times.
_DEADLOCK_RETRIES = 3


@dataclass(frozen=True)
class Found:
    """A stored code and what its batch holds."""

    code: CodeState
    facts: BatchFacts


@dataclass(eq=False)
class Lookup:
    serial: str
    gtin: str
    lot: str


_AT = CodeScan._meta.fields_map["at"]


@dataclass(eq=False)
class Record:
    """A scan to record: `verify` counts a verification; `verdict` is the row's verdict
    unless it verifies (then genuine or already_verified, by who came first)."""

    code: CodeState
    verify: bool
    city: str
    verdict: str
    client: str
    now: datetime

    def row(self) -> list[Any]:
        """As `record_scans` takes it."""
        return [self.code.serial, 1 if self.verify else 0,
                _AT.to_db_value(utc(self.now), CodeScan), self.city, self.verdict,
                self.client]


async def _find_all(asks: list[Lookup]) -> dict[Lookup, Found]:
    codes = await found_codes([ask.serial for ask in asks])
    facts = {batch_id: await batch_facts(batch_id)
             for batch_id in {code.batch_id for code in codes.values()}}
    out: dict[Lookup, Found] = {}
    for ask in asks:
        code = codes.get(ask.serial)
        if code is None:
            continue
        batch = facts[code.batch_id].batch
        if batch.gtin == ask.gtin and batch.lot.upper() == ask.lot.upper():
            out[ask] = Found(code, facts[code.batch_id])
    return out


_FIND: GroupCommit[Lookup, Found] = GroupCommit(_find_all)


async def find(serial: str, gtin: str, lot: str) -> Found | None:
    """The code `serial` if its batch is (gtin, lot), with its batch, product and guide."""
    return await _FIND(Lookup(serial, gtin, lot))


async def _record_all(records: list[Record]) -> dict[Record, tuple[CodeState, bool]]:
    out: dict[Record, tuple[CodeState, bool]] = {}
    waiting = records
    while waiting:
        seen: set[str] = set()
        round_: list[Record] = []
        later: list[Record] = []
        for record_ in waiting:
            (later if record_.code.serial in seen else round_).append(record_)
            seen.add(record_.code.serial)
        stored = await _with_retries(round_)
        for record_ in round_:
            code = stored[record_.code.serial]
            out[record_] = (code, verified_first(code, record_.verify))
        waiting = later
    return out


async def _with_retries(round_: list[Record]) -> dict[str, CodeState]:
    for attempt in range(_DEADLOCK_RETRIES + 1):
        try:
            return await record_scans([r.row() for r in round_])
        except OperationalError as exc:
            deadlock = getattr(exc.__cause__, "sqlstate", "") == "40P01"
            if not deadlock or attempt == _DEADLOCK_RETRIES:
                raise
    raise AssertionError("unreachable")


_RECORD: GroupCommit[Record, tuple[CodeState, bool]] = GroupCommit(_record_all)


async def record(record_: Record) -> tuple[CodeState, bool]:
    """PostgreSQL: count and store a scan that earns no points with others in one
    statement; the code after it and whether it was the first verification."""
    done = await _RECORD(record_)
    if done is None:  # pragma: no cover - _record_all answers every record it is given
        raise RuntimeError(f"scan of {record_.code.serial} not recorded")
    return done
