"""`GET /admin/api/members/{id}`: a member as customer service sees them — profile,
identities (the phone masked), level, points and the latest ledger entries.

The phone number is shown masked ("+86138****8000") both as a field and as the value
of the `phone` identity (stored as its lookup hash, which means nothing to a person).
A merged member is shown too, with `merged_into` naming the survivor.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from admin_api.errors import NotFound
from admin_api.serialize import iso
from bot import query
from bot.keys import SETTINGS
from bot.settings import Settings
from handlers.levels import level_settings
from handlers.member_crypto import mask_phone
from handlers.member_privacy import phone_of
from handlers.points_view import entry_json
from models.members import IdentityKind, LevelChange, Member, MemberIdentity
from models.points import PointsEntry

LEDGER_ROWS = 20
LEVEL_CHANGE_ROWS = 10


async def get_member(request: web.Request) -> web.Response:
    member = await Member.get_or_none(id=query.path_id(request))
    if member is None:
        raise NotFound("no such member")
    return web.json_response(await member_detail(member, request.config_dict[SETTINGS]))


async def member_detail(member: Member, settings: Settings) -> dict[str, Any]:
    phone = phone_of(member, settings)
    masked = mask_phone(phone) if phone else None
    identities = await MemberIdentity.filter(member_id=member.id).order_by("id")
    entries = PointsEntry.filter(member_id=member.id)
    ledger = await entries.order_by("-id").limit(LEDGER_ROWS)
    changes = await LevelChange.filter(member_id=member.id).order_by("-id").limit(
        LEVEL_CHANGE_ROWS)
    return {
        "id": member.id,
        "status": member.status.value,
        "merged_into": member.merged_into_id,  # type: ignore[attr-defined]
        "nickname": member.nickname,
        "avatar": member.avatar,
        "birthday": iso(member.birthday),
        "phone": masked,
        "consents": dict(member.consents),
        "guide": member.guide_userid,
        "level": level_settings(member.level, settings.members.levels).name,
        "level_number": member.level,
        "growth": member.growth,
        "points": member.points,
        "created_at": iso(member.created_at),
        "erased_at": iso(member.erased_at),
        "identities": [
            {"kind": i.kind.value,
             "value": masked if i.kind == IdentityKind.PHONE else i.value,
             "created_at": iso(i.created_at)}
            for i in identities],
        "ledger": [entry_json(e, audit=True) for e in ledger],
        "ledger_total": await entries.count(),
        "level_changes": [
            {"from": c.from_level, "to": c.to_level, "growth": c.growth, "reason": c.reason,
             "at": iso(c.at)} for c in changes],
    }


routes = [web.get(r"/members/{id:\d+}", get_member)]
