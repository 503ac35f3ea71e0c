"""Binding a verified phone number (from WeChat's getuserphonenumber) to a member.

A member has one phone: binding another number replaces it. The number is stored
sealed (AES-GCM) with its keyed lookup hash, and the hash is also the member's `phone`
identity. When another member already holds the number, the two are one person and
are merged (handlers.member_merge); the number then belongs to the survivor, whose
member the caller answers with.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from tortoise.transactions import in_transaction

from bot.settings import Settings
from handlers.member_cache import member_changed
from handlers.member_crypto import normalize_phone, phone_lookup_hash, seal
from handlers.member_identity import identities_gained, owner_of
from handlers.member_merge import merge_members
from models.members import IdentityKind, Member, MemberIdentity

if TYPE_CHECKING:
    from bot.wecom import WeComClient

log = logging.getLogger("scrm.members")

PHONE_PURPOSE = "phone"


async def bind_phone(member_id: int, phone: str, country_code: str | int, *,
                     settings: Settings, now: datetime,
                     wecom: WeComClient | None = None) -> Member:
    """Give the member this (verified) phone number, merging with the member who has it
    already; returns the member that holds it now. Raises ValueError for a number
    that is not one."""
    normal = normalize_phone(phone, country_code)
    lookup = phone_lookup_hash(settings.members, normal)
    holder = await owner_of(IdentityKind.PHONE, lookup)
    if holder is not None and holder != member_id:
        survivor = await merge_members(member_id, holder, reason="phone", settings=settings,
                                       now=now, wecom=wecom)
        member_id = survivor.id
    async with in_transaction():
        member = await Member.filter(id=member_id).select_for_update().get()
        if member.phone_hash == lookup:
            return member
        await MemberIdentity.filter(member_id=member_id, kind=IdentityKind.PHONE).delete()
        await MemberIdentity.create(member_id=member_id, kind=IdentityKind.PHONE, value=lookup)
        member.phone_hash = lookup
        member.phone_cipher = seal(settings.members, normal, PHONE_PURPOSE)
        await member.save(update_fields=["phone_hash", "phone_cipher", "updated_at"])
    await member_changed(member_id)
    log.info("member.phone_bound member=%s after_merge=%s", member_id, holder is not None)
    await identities_gained(member_id, settings, now, wecom=wecom)
    return await Member.get(id=member_id)  # as the claimed orders left it
