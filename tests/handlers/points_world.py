"""Helpers for the points tests: members made through the members handler, and the
ledger invariant every points test ends by asserting."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from handlers.member_identity import create_member
from models.members import IdentityKind, Member
from models.points import PointsEntry

T0 = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai

_numbers = itertools.count(1)


async def new_member(*identities: tuple[IdentityKind, str], **fields: Any) -> int:
    """A new active member (with an openid of its own unless `identities` are given)."""
    given = list(identities) or [(IdentityKind.OPENID, f"o-points-{next(_numbers)}")]
    member = await create_member(given, **fields)
    assert member is not None
    return int(member.id)


async def balance(member_id: int) -> int:
    return int((await Member.get(id=member_id)).points)


async def assert_ledger_consistent() -> None:
    """For every member: the cached balance is the sum of their ledger deltas and of
    their credit rows' unspent points, and never negative; the growth is the sum of
    their growth deltas."""
    for member in await Member.all():
        entries = await PointsEntry.filter(member_id=member.id)
        assert member.points >= 0, member.id
        assert member.points == sum(e.delta for e in entries), member.id
        assert member.points == sum(e.remaining for e in entries), member.id
        assert all(e.remaining >= 0 for e in entries), member.id
        assert member.growth == sum(e.growth_delta for e in entries), member.id
