"""Operator adjustments: an operator credits or debits a member's points by hand, with
a reason, under their own idempotency key.

The ledger key is `adjust:<key>`, so sending the same adjustment again (a retry, a
double click) answers the entry it made the first time and moves nothing. The same key
with another member or amount is refused: it names a different adjustment.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from handlers.ledger import award, deduct
from models.points import EntryKind, PointsEntry
from models.upsert import find_row

if TYPE_CHECKING:
    from bot.settings import Settings

KEY_PREFIX = "adjust:"
MAX_KEY_CHARS = 128
MAX_REASON_CHARS = 255


class KeyReused(ValueError):
    """The key was used for another adjustment (another member or amount)."""


async def adjust_points(member_id: int, delta: int, *, key: str, reason: str, operator: str,
                        now: datetime, settings: Settings) -> tuple[PointsEntry, bool]:
    """(the entry, whether it is new). Raises the ledger's UnknownMember and
    InsufficientPoints (nothing changes), KeyReused, ValueError for a delta of 0."""
    if delta == 0:
        raise ValueError("an adjustment moves points: delta must not be 0")
    ledger_key = KEY_PREFIX + key
    moved = False
    if await find_row(PointsEntry, {"key": ledger_key}) is None:
        kind = EntryKind.ADJUST.value
        moved = (await award(member_id, delta, key=ledger_key, reason=reason, now=now,
                             settings=settings, kind=kind, operator=operator)
                 if delta > 0 else
                 await deduct(member_id, -delta, key=ledger_key, reason=reason, now=now,
                              kind=kind, operator=operator))
    entry = await PointsEntry.get(key=ledger_key)
    if not moved and (entry.kind != EntryKind.ADJUST or entry.member_id != member_id
                      or entry.delta != delta):
        raise KeyReused(f"key {key!r} was used for another adjustment")
    return entry, moved
