"""One ID: every identity of a person (mini-program openid, unionid, WeCom
external_userid, phone, ids on other sales channels) points to one member.

The join key between the mini-program and WeCom is the unionid (wecom-protocol.md
§5.3): whichever comes first, a login or a WeCom add, creates the member with it, and
the other finds that member and adds its own identity. An identity belongs to one
active member at a time (unique (kind, value)): a merge moves identities, an erasure
deletes them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from bot.settings import Settings
from handlers.member_cache import member_changed
from handlers.orders import claim_unmatched_orders
from handlers.points_rules import award_guide_add
from models.members import IdentityKind, Member, MemberIdentity
from models.upsert import find_row, insert_rows

if TYPE_CHECKING:
    from bot.wecom import WeComClient

log = logging.getLogger("scrm.members")

Identity = tuple[IdentityKind, str]


async def owner_of(kind: IdentityKind, value: str) -> int | None:
    """The id of the member holding this identity, if any."""
    row = await find_row(MemberIdentity, {"kind": kind, "value": value})
    return row.member_id if row is not None else None  # type: ignore[attr-defined]


async def add_identities(member_id: int, identities: Sequence[Identity]) -> int:
    """Give the member the identities nobody holds yet; returns how many were new. One
    held by another member stays theirs (two members found to be one are merged,
    not quietly re-pointed)."""
    return await insert_rows(
        MemberIdentity, [{"member_id": member_id, "kind": kind, "value": value}
                         for kind, value in identities], unless=("kind", "value"))


async def create_member(identities: Sequence[Identity], **fields: Any) -> Member | None:
    """A new member holding `identities`; None when a concurrent request gave one of
    them to a member first (the caller looks it up again)."""
    try:
        async with in_transaction():
            member = await Member.create(**fields)
            for kind, value in identities:
                await MemberIdentity.create(member_id=member.id, kind=kind, value=value)
    except IntegrityError:
        return None
    log.info("member.created member=%s via=%s", member.id, identities[0][0].value)
    return member


class Found(NamedTuple):
    member_id: int
    created: bool
    # The member holds an identity it did not hold before (a new member: all of them).
    gained: bool


async def find_or_create(identities: Sequence[Identity], **fields: Any) -> Found:
    """The member holding the first of `identities` someone holds, given the rest;
    else a new member with all of them (`fields` set on it)."""
    for _ in range(2):  # a concurrent creation wins at most once
        for kind, value in identities:
            member_id = await owner_of(kind, value)
            if member_id is not None:
                added = await add_identities(member_id, identities)
                return Found(member_id, created=False, gained=added > 0)
        member = await create_member(identities, **fields)
        if member is not None:
            return Found(member.id, created=True, gained=True)
    raise IntegrityError("identities taken by another member meanwhile")


async def identities_gained(member_id: int, settings: Settings, now: datetime, *,
                            wecom: WeComClient | None = None) -> None:
    """The member holds a new identity: orders imported earlier under it (unmatched
    then) are credited to them now."""
    claimed = await claim_unmatched_orders(member_id, settings, now, wecom=wecom)
    if claimed:
        log.info("member.orders_claimed member=%s orders=%d", member_id, claimed)


async def link_wecom_contact(unionid: str, external_userid: str, guide_userid: str, *,
                             settings: Settings, now: datetime) -> int:
    """A WeCom customer with a unionid added a guide: link them to their member
    (created now when they have not logged in to the mini-program yet), give the member
    this guide when they have none, and award the first guide add once. Safe to repeat
    (a retried event finds everything done). Returns the member's id."""
    member_id, created, gained = await find_or_create(
        [(IdentityKind.UNIONID, unionid), (IdentityKind.EXTERNAL_USERID, external_userid)],
        guide_userid=guide_userid)
    if not created and await Member.filter(id=member_id, guide_userid=None).update(
            guide_userid=guide_userid):
        await member_changed(member_id)
    log.info("member.wecom_linked member=%s external_userid=%s staff=%s created=%s",
             member_id, external_userid, guide_userid, created)
    if settings.points.first_guide_add > 0:
        await award_guide_add(member_id, settings, now)
    if gained:
        await identities_gained(member_id, settings, now)
    return member_id
