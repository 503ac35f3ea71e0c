"""Merging two members found to be one person (the same phone, or a unionid that turns
up on an openid-only member): everything moves to the survivor, once.

Who survives: the older member (created first, the smaller id on a tie). It is the one
most likely to carry the WeCom link, the guide and the longer history, and the rule
needs nothing but the two rows, so it is the same whichever side triggers the merge.

In one transaction: identities and sessions are re-pointed to the survivor (a member
signed in as the merged one stays signed in, now as the survivor: it is the same
person, and the merge usually happens in that person's own request); the survivor
keeps its own profile and fills the blanks from the merged one (nickname, avatar,
birthday, guide, phone, consents it never answered); points, growth and the ledger
history move through the ledger (`move_member_points`), which moves them, never copies;
the merged member becomes `merged` with `merged_into`, and a MemberMerge row records
what moved. The survivor's level is then recomputed from its new growth.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from bot.settings import Settings
from handlers.ledger import move_member_points
from handlers.levels import apply_level
from handlers.member_cache import announcing_transaction, member_changed
from models.members import (
    IdentityKind,
    Member,
    MemberIdentity,
    MemberMerge,
    MemberSession,
    MemberStatus,
)

if TYPE_CHECKING:
    from bot.wecom import WeComClient

log = logging.getLogger("scrm.members")

# Profile fields the survivor takes from the merged member when its own is blank.
_FILLED = ("nickname", "avatar", "birthday", "guide_userid")


class MergeRefused(Exception):
    """One of the two is not an active member (merged or erased meanwhile)."""


def survivor_of(a: Member, b: Member) -> tuple[Member, Member]:
    """(survivor, merged): the older member survives."""
    return (a, b) if (a.created_at, a.id) <= (b.created_at, b.id) else (b, a)


async def merge_members(first_id: int, second_id: int, *, reason: str, settings: Settings,
                        now: datetime, wecom: WeComClient | None = None) -> Member:
    """Merge the two members into the older one; returns the survivor."""
    async with announcing_transaction():
        rows = await Member.filter(id__in=[first_id, second_id]).select_for_update()
        if len(rows) != 2 or any(m.status != MemberStatus.ACTIVE for m in rows):
            raise MergeRefused(f"members {first_id} and {second_id} are not both active")
        survivor, merged = survivor_of(*rows)
        moved: dict[str, object] = {"points": merged.points, "growth": merged.growth}
        changed = _fill_blanks(survivor, merged)
        if merged.phone_hash and survivor.phone_hash:
            # One phone per member: the survivor's own number stays its number.
            await MemberIdentity.filter(member_id=merged.id, kind=IdentityKind.PHONE).delete()
        elif merged.phone_hash:
            survivor.phone_hash, survivor.phone_cipher = merged.phone_hash, merged.phone_cipher
            changed += ["phone_hash", "phone_cipher"]
        await Member.filter(id=merged.id).update(
            status=MemberStatus.MERGED, merged_into_id=survivor.id, phone_hash=None,
            phone_cipher=None, updated_at=now)
        moved["identities"] = await MemberIdentity.filter(member_id=merged.id).update(
            member_id=survivor.id)
        moved["sessions"] = await MemberSession.filter(member_id=merged.id).update(
            member_id=survivor.id)
        moved["profile"] = changed
        if changed:
            await survivor.save(update_fields=[*changed, "updated_at"])
        await move_member_points(merged.id, survivor.id, now=now)
        await MemberMerge.create(survivor_id=survivor.id, merged_id=merged.id,
                                 reason=reason[:32], moved=moved, at=now)
        await member_changed(survivor.id, merged.id)  # announced at commit
    log.info("member.merged survivor=%s merged=%s reason=%s identities=%s sessions=%s "
             "points=%s growth=%s", survivor.id, merged.id, reason, moved["identities"],
             moved["sessions"], moved["points"], moved["growth"])
    await apply_level(survivor.id, settings, now, wecom=wecom, reason=f"merge:{merged.id}")
    return await Member.get(id=survivor.id)


def _fill_blanks(survivor: Member, merged: Member) -> list[str]:
    """Take the merged member's profile where the survivor's is blank; returns the
    fields that changed."""
    changed = []
    for name in _FILLED:
        if not getattr(survivor, name) and getattr(merged, name):
            setattr(survivor, name, getattr(merged, name))
            changed.append(name)
    consents = {**merged.consents, **survivor.consents}
    if consents != survivor.consents:
        survivor.consents = consents
        changed.append("consents")
    return changed
