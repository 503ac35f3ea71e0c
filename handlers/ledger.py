"""The points ledger: the one place that changes a member's points and growth.

Every movement is one database transaction:
1. insert its ledger entry, whose business key is unique: a retry or a double click
   finds the key taken and changes nothing (False), and a concurrent duplicate waits
   for the first one to commit and then does nothing;
2. change the member's cached balance with one conditional UPDATE
   (`points + delta >= 0`). The UPDATE also holds the member's row until the commit,
   so the movements of one member follow one another, on PostgreSQL as on SQLite
   (where tortoise runs one transaction at a time), and no balance goes below 0;
3. for a debit, take the points from the credit rows that expire first
   (`PointsEntry.remaining`), so expiry later takes only what is left;
4. record the balance after the movement on the entry.

A member's balance is therefore always both the sum of their entries' deltas and the
sum of their credit rows' `remaining`. Growth changes recompute the member's level
(handlers/levels.py) once the movement is committed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tortoise.backends.base.client import BaseDBAsyncClient

from handlers.levels import apply_level
from handlers.member_cache import announcing_transaction, member_changed
from models.members import Member, MemberStatus
from models.points import EntryKind, PointsEntry
from models.upsert import find_row, insert_row

if TYPE_CHECKING:
    from bot.settings import Settings
    from bot.wecom import WeComClient

log = logging.getLogger("scrm.ledger")

# Credit rows read per round while a debit takes points first-expiring-first.
_CONSUME_BATCH = 100


class InsufficientPoints(Exception):
    """The debit would take the balance below 0; nothing was changed."""

    def __init__(self, member_id: int, balance: int, wanted: int) -> None:
        super().__init__(f"member {member_id} has {balance} points, {wanted} wanted")
        self.member_id = member_id
        self.balance = balance
        self.wanted = wanted


class UnknownMember(LookupError):
    """No such member, or one that can no longer earn or spend (merged, erased)."""


class UnknownEntry(LookupError):
    """No ledger entry has the key a reversal names."""


class _NothingToMove(Exception):
    """Roll the movement back: once locked, there was nothing left for it to move."""


class _Moved(Exception):
    """Roll back and retry: a merge moved the entry to another member meanwhile."""


@dataclass(frozen=True)
class PointsSummary:
    balance: int
    expiring_soon: int
    next_expiry: datetime | None


@dataclass(frozen=True)
class _Entry:
    member_id: int
    key: str
    kind: EntryKind
    reason: str
    operator: str
    now: datetime


@dataclass(frozen=True)
class _Plan:
    """What a movement does, decided once the member's row is held."""

    delta: int
    growth: int = 0
    expires_at: datetime | None = None  # for a credit
    take_first: int = 0  # for a debit: the entry whose points go first (0: none)


Planner = Callable[[BaseDBAsyncClient, "_Locked"], Awaitable[_Plan]]


@dataclass(frozen=True)
class _Locked:
    points: int
    growth: int


def utc(value: datetime) -> datetime:
    """Datetimes go to raw SQL in UTC: SQLite compares them as text."""
    return value.astimezone(UTC)


def marks(conn: BaseDBAsyncClient, count: int) -> list[str]:
    """Numbered placeholders (`$1` / `?1`), so one parameter can be used twice."""
    sign = "$" if conn.capabilities.dialect == "postgres" else "?"
    return [f"{sign}{i + 1}" for i in range(count)]


def _member_table() -> str:
    return f'"{Member._meta.db_table}"'


_ENTRIES = f'"{PointsEntry._meta.db_table}"'


async def award(member_id: int, points: int, *, key: str, reason: str, now: datetime,
                settings: Settings, growth: int = 0, kind: str = "earn",
                operator: str = "", wecom: WeComClient | None = None) -> bool:
    """Credit points (expiring after points.expire_after_days) and growth once per
    unique `key`; False when `key` was used before (nothing changes). Raises
    UnknownMember for a member who is not active."""
    if points < 0 or growth < 0:
        raise ValueError("award credits: points and growth must be >= 0")
    plan = _Plan(points, growth, utc(now) + timedelta(days=settings.points.expire_after_days))
    entry = _Entry(member_id, key, EntryKind(kind), reason, operator, now)
    moved = await _record(entry, plan) is not None
    if moved and growth:
        await apply_level(member_id, settings, now, wecom=wecom)
    return moved


async def deduct(member_id: int, points: int, *, key: str, reason: str, now: datetime,
                 kind: str = "spend", operator: str = "") -> bool:
    """Debit, first-expiring points first; raises InsufficientPoints (nothing changes)
    if the balance would go below 0; False when `key` was used before."""
    if points <= 0:
        raise ValueError("deduct debits: points must be > 0")
    entry = _Entry(member_id, key, EntryKind(kind), reason, operator, now)
    return await _record(entry, _Plan(-points)) is not None


async def reverse(original_key: str, *, key: str, reason: str, now: datetime,
                  settings: Settings, wecom: WeComClient | None = None) -> bool:
    """Take back the movement recorded under `original_key` (points and growth), once
    per `key`. A credit is taken back from its own unspent points first, then
    first-expiring; points already spent are not taken below a zero balance (the
    entry records what was taken). A debit comes back as a fresh credit. False when
    `key` was used before; UnknownEntry when `original_key` names no entry."""
    for _ in range(3):
        original = await find_row(PointsEntry, {"key": original_key})
        if original is None:
            raise UnknownEntry(f"no ledger entry {original_key}")
        entry = _Entry(original.member_id, key, EntryKind.REVERSE, reason, "", now)
        try:
            moved = await _record(entry, _reversal(original, settings, now),
                                  active_only=False)
        except _Moved:
            continue
        if moved is not None and original.growth_delta:
            await apply_level(original.member_id, settings, now, wecom=wecom)
        return moved is not None
    raise RuntimeError(f"ledger entry {original_key} kept moving between members")


def _reversal(original: PointsEntry, settings: Settings, now: datetime) -> Planner:
    async def plan(conn: BaseDBAsyncClient, member: _Locked) -> _Plan:
        m = marks(conn, 1)
        rows = await conn.execute_query_dict(
            f"SELECT member_id FROM {_ENTRIES} WHERE id = {m[0]}", [original.id])
        if int(rows[0]["member_id"]) != original.member_id:
            raise _Moved
        growth = -original.growth_delta
        if original.delta > 0:
            taken = min(original.delta, member.points)
            if taken < original.delta:
                log.warning("points.reverse_short key=%s member_id=%s wanted=%d taken=%d",
                            original.key, original.member_id, original.delta, taken)
            return _Plan(-taken, growth, take_first=original.id)
        lifetime = timedelta(days=settings.points.expire_after_days)
        return _Plan(-original.delta, growth, expires_at=utc(now) + lifetime)

    return plan


async def expire_entry(entry_id: int, *, now: datetime) -> int:
    """Expire what is left of credit row `entry_id` if it expired by `now`: an
    `expire` entry (key `expire:<entry_id>`) takes it off the balance. Returns the
    points expired (0: nothing left, not due, or expired before)."""
    row = await PointsEntry.get_or_none(id=entry_id)
    if row is None or row.remaining <= 0 or row.expires_at is None or row.expires_at > now:
        return 0

    taken = 0

    async def plan(conn: BaseDBAsyncClient, member: _Locked) -> _Plan:
        nonlocal taken
        m = marks(conn, 1)
        rows = await conn.execute_query_dict(
            f"SELECT member_id, remaining FROM {_ENTRIES} WHERE id = {m[0]}", [entry_id])
        if int(rows[0]["member_id"]) != row.member_id:
            raise _Moved
        taken = int(rows[0]["remaining"])
        if taken <= 0:
            raise _NothingToMove
        return _Plan(-taken, take_first=entry_id)

    entry = _Entry(row.member_id, f"expire:{entry_id}", EntryKind.EXPIRE,
                   f"points earned by entry {entry_id} expired", "", now)
    try:
        moved = await _record(entry, plan, active_only=False)
    except _Moved:
        return await expire_entry(entry_id, now=now)
    return taken if moved is not None else 0


async def move_member_points(from_id: int, to_id: int, *, now: datetime,
                             settings: Settings | None = None,
                             wecom: WeComClient | None = None) -> None:
    """Merge: every ledger entry, check-in, imported order, mall order and benefit of
    `from_id` moves to `to_id`, and so do its balance and growth (summed; `from_id`
    keeps 0 of each), in one transaction, recorded once by a `merge` entry (key
    `merge:<from_id>`) on the survivor. A second call for the same `from_id` changes
    nothing. Check-ins on days the survivor checked in too stay with `from_id`. With
    `settings`, the survivor's level is recomputed."""
    if from_id == to_id:
        raise ValueError("a member cannot be merged into itself")
    async with announcing_transaction() as conn:
        merge = await insert_row(PointsEntry, {
            "member_id": to_id, "delta": 0, "growth_delta": 0, "kind": EntryKind.MERGE,
            "key": f"merge:{from_id}", "reason": f"member {from_id} merged into {to_id}",
            "created_at": utc(now)}, unless=["key"])
        if merge is None:
            return
        held = {mid: await _lock(conn, mid) for mid in sorted((from_id, to_id))}
        moved = held[from_id]
        m = marks(conn, 2)
        await conn.execute_query(
            f"UPDATE {_ENTRIES} SET member_id = {m[1]} WHERE member_id = {m[0]}",
            [from_id, to_id])
        await conn.execute_query(
            f"UPDATE check_in SET member_id = {m[1]} WHERE member_id = {m[0]} AND day NOT IN "
            f"(SELECT day FROM check_in WHERE member_id = {m[1]})", [from_id, to_id])
        for table in ("imported_order", "member_benefit"):
            await conn.execute_query(
                f"UPDATE {table} SET member_id = {m[1]} WHERE member_id = {m[0]}",
                [from_id, to_id])
        # An Idempotency-Key both used becomes `merged:<order id>` (still unique).
        await conn.execute_query(
            f"UPDATE mall_order SET member_id = {m[1]}, idempotency_key = CASE WHEN "
            f"idempotency_key IN (SELECT idempotency_key FROM mall_order WHERE member_id = "
            f"{m[1]}) THEN 'merged:' || id ELSE idempotency_key END WHERE member_id = {m[0]}",
            [from_id, to_id])
        m = marks(conn, 3)
        await conn.execute_query(
            f"UPDATE {_member_table()} SET points = 0, growth = 0 WHERE id = {m[0]}", [from_id])
        rows = await conn.execute_query_dict(
            f"UPDATE {_member_table()} SET points = points + {m[0]}, growth = growth + {m[1]} "
            f"WHERE id = {m[2]} RETURNING points", [moved.points, moved.growth, to_id])
        await PointsEntry.filter(id=merge.id).update(balance_after=int(rows[0]["points"]))
        await member_changed(from_id, to_id)  # announced when the outermost commits
    log.info("points.merged from=%s to=%s points=%d growth=%d", from_id, to_id,
             moved.points, moved.growth)
    if settings is not None and moved.growth:
        await apply_level(to_id, settings, now, wecom=wecom)


async def points_summary(member_id: int, now: datetime, soon_days: int) -> PointsSummary:
    """The balance, the points that expire within `soon_days` of `now`, and when the
    next points expire (None: none held). One query."""
    conn = Member._meta.db
    m = marks(conn, 2)
    live = f"FROM {_ENTRIES} WHERE member_id = m.id AND remaining > 0"
    rows = await conn.execute_query_dict(
        f"SELECT m.points, (SELECT MIN(expires_at) {live}) AS next_expiry, "
        f"(SELECT COALESCE(SUM(remaining), 0) {live} AND expires_at <= {m[0]}) AS soon "
        f"FROM {_member_table()} m WHERE m.id = {m[1]}",
        [utc(now) + timedelta(days=soon_days), member_id])
    if not rows:
        raise UnknownMember(f"no member {member_id}")
    field = PointsEntry._meta.fields_map["expires_at"]
    next_expiry = rows[0]["next_expiry"]
    return PointsSummary(
        balance=int(rows[0]["points"]), expiring_soon=int(rows[0]["soon"]),
        next_expiry=None if next_expiry is None else field.to_python_value(next_expiry))


async def _record(entry: _Entry, planner: _Plan | Planner, *,
                  active_only: bool = True) -> int | None:
    """One movement in one transaction (see the module docstring); the balance after
    it, or None when its key was taken or nothing was left to move. A `Planner`
    decides the movement once the member's row is held (it depends on the balance)."""
    try:
        async with announcing_transaction() as conn:
            row = await insert_row(PointsEntry, {
                "member_id": entry.member_id, "delta": 0, "kind": entry.kind,
                "key": entry.key, "reason": entry.reason[:255],
                "operator": entry.operator[:64], "created_at": utc(entry.now)},
                unless=["key"])
            if row is None:
                return None
            plan = (planner if isinstance(planner, _Plan)
                    else await planner(conn, await _lock(conn, entry.member_id)))
            points = await _change(conn, entry.member_id, plan, active_only)
            if plan.delta < 0:
                await _consume(conn, entry.member_id, -plan.delta, plan.take_first)
            await PointsEntry.filter(id=row.id).update(
                delta=plan.delta, growth_delta=plan.growth, balance_after=points,
                expires_at=plan.expires_at if plan.delta > 0 else None,
                remaining=max(plan.delta, 0))
    except _NothingToMove:
        return None
    await member_changed(entry.member_id)
    log.info("points.moved member_id=%s kind=%s key=%s delta=%d growth=%d balance=%d",
             entry.member_id, entry.kind.value, entry.key, plan.delta, plan.growth, points)
    return points


async def _lock(conn: BaseDBAsyncClient, member_id: int) -> _Locked:
    """The member's balance and growth, their row held until the commit (PostgreSQL:
    FOR UPDATE; SQLite runs one transaction at a time)."""
    m = marks(conn, 1)
    lock = " FOR UPDATE" if conn.capabilities.dialect == "postgres" else ""
    rows = await conn.execute_query_dict(
        f"SELECT points, growth FROM {_member_table()} WHERE id = {m[0]}{lock}", [member_id])
    if not rows:
        raise UnknownMember(f"no member {member_id}")
    return _Locked(int(rows[0]["points"]), int(rows[0]["growth"]))


async def _change(conn: BaseDBAsyncClient, member_id: int, plan: _Plan,
                  active_only: bool) -> int:
    """Apply the plan to the member's cached balance and growth; the balance after.
    The condition `points + delta >= 0` is what keeps a balance from going negative."""
    m = marks(conn, 4)
    status = f" AND status = {m[3]}" if active_only else ""
    params: list[Any] = [plan.delta, plan.growth, member_id]
    if active_only:
        params.append(MemberStatus.ACTIVE.value)
    rows = await conn.execute_query_dict(
        f"UPDATE {_member_table()} SET points = points + {m[0]}, "
        f"growth = CASE WHEN growth + {m[1]} < 0 THEN 0 ELSE growth + {m[1]} END "
        f"WHERE id = {m[2]} AND points + {m[0]} >= 0{status} RETURNING points", params)
    if rows:
        return int(rows[0]["points"])
    member = await Member.filter(id=member_id).values("points", "status")
    if not member or (active_only and str(member[0]["status"]) != MemberStatus.ACTIVE):
        raise UnknownMember(f"no active member {member_id}")
    raise InsufficientPoints(member_id, int(member[0]["points"]), -plan.delta)


async def _consume(conn: BaseDBAsyncClient, member_id: int, amount: int, first: int) -> None:
    """Take `amount` points off the member's credit rows: row `first` before any other,
    then those that expire first."""
    left = amount
    while left > 0:
        m = marks(conn, 3)
        rows = await conn.execute_query_dict(
            f"SELECT id, remaining FROM {_ENTRIES} WHERE member_id = {m[0]} AND remaining > 0 "
            f"ORDER BY CASE WHEN id = {m[1]} THEN 0 ELSE 1 END, expires_at, id LIMIT {m[2]}",
            [member_id, first, _CONSUME_BATCH])
        if not rows:
            log.error("points.remaining_short member_id=%s missing=%d", member_id, left)
            return
        emptied: list[int] = []
        for row in rows:
            take = min(left, int(row["remaining"]))
            left -= take
            if take == int(row["remaining"]):
                emptied.append(int(row["id"]))
            else:
                m = marks(conn, 2)
                await conn.execute_query(
                    f"UPDATE {_ENTRIES} SET remaining = remaining - {m[0]} WHERE id = {m[1]}",
                    [take, int(row["id"])])
            if left == 0:
                break
        await _empty(conn, emptied)


async def _empty(conn: BaseDBAsyncClient, ids: Sequence[int]) -> None:
    if ids:
        m = marks(conn, len(ids))
        await conn.execute_query(
            f"UPDATE {_ENTRIES} SET remaining = 0 WHERE id IN ({', '.join(m)})", list(ids))
