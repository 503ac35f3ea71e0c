"""How a member looks to the mini-program (`GET /me`, and the `member` of login, PATCH
and phone binding answers).

`level` is the level's name ("V2") and `level_number` its rank (1..5); `next_level` is
`{"name", "growth"}` (the growth it takes), or null at the top. `points` is the balance,
`points_expiring_soon` what of it expires within `points.expiring_soon_days`,
`points_next_expiry` when the next points expire. `guide` is the WeCom userid of the
member's guide, or null. The phone number itself is never sent: `phone_bound` says
whether there is one.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bot.settings import Settings
from handlers.ledger import PointsSummary, points_summary
from handlers.levels import level_settings, next_level
from models.members import Member


def iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def member_json(member: Member, settings: Settings, points: PointsSummary) -> dict[str, Any]:
    levels = settings.members.levels
    level = level_settings(member.level, levels)
    following = next_level(member.level, levels)
    return {
        "id": member.id,
        "nickname": member.nickname,
        "avatar": member.avatar,
        "birthday": iso(member.birthday),
        "consents": dict(member.consents),
        "level": level.name,
        "level_number": member.level,
        "growth": member.growth,
        "next_level": ({"name": following.name, "growth": following.growth}
                       if following is not None else None),
        "points": points.balance,
        "points_expiring_soon": points.expiring_soon,
        "points_next_expiry": iso(points.next_expiry),
        "guide": member.guide_userid,
        "benefits": list(level.benefits),
        "points_multiplier": level.points_multiplier,
        "phone_bound": member.phone_hash is not None,
    }


async def member_view(member: Member, settings: Settings, now: datetime) -> dict[str, Any]:
    """`member_json` with the member's points as the ledger has them now."""
    summary = await points_summary(member.id, now, settings.points.expiring_soon_days)
    return member_json(member, settings, summary)
