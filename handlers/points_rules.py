"""The earning rules of settings.toml [points], each an award with its business key:
first add of a guide (`guide_add:<member>`), 安心码 first verification
(`scan:<code>`), the birthday month bonus (`birthday:<member>:<year>`) and the points
an order of N yuan earns. Daily check-in lives in handlers/checkin.py, order import in
handlers/orders.py.

Which rules scale with the level: orders earn `per_yuan × points_multiplier` of the
member's level (spending is what levels reward), check-in, guide add and scans are
flat (they reward showing up, the same for everyone), and the birthday bonus adds the
level's own `birthday_gift_points`. Days and months are those of Asia/Shanghai.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from handlers.ledger import award, marks
from handlers.levels import level_settings
from models.members import Member, MemberStatus

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger("scrm.points")

ZONE = ZoneInfo("Asia/Shanghai")


def local_day(now: datetime) -> date:
    """The day `now` falls on in Asia/Shanghai (check-ins, birthdays)."""
    return now.astimezone(ZONE).date()


def multiplier(level: int, settings: Settings) -> Decimal:
    return Decimal(str(level_settings(level, settings.members.levels).points_multiplier))


def order_points(amount_cents: int, level: int, settings: Settings) -> tuple[int, int]:
    """(points, growth) an order earns: floor(yuan × per_yuan × the level's
    multiplier) and floor(yuan). Decimal, so 0.1 + 0.2 yuan is never 0.29999…"""
    yuan = Decimal(amount_cents) / 100
    points = yuan * Decimal(str(settings.points.per_yuan)) * multiplier(level, settings)
    return (int(points.to_integral_value(rounding=ROUND_FLOOR)), amount_cents // 100)


async def award_scan(member_id: int, code: str, settings: Settings, now: datetime) -> bool:
    """The first verification of 安心码 `code` earns its verifier
    points.scan_first_verification, once per code whoever scans it again."""
    return await award(member_id, settings.points.scan_first_verification,
                       key=f"scan:{code}", reason="安心码首次验证", now=now, settings=settings)


async def award_guide_add(member_id: int, settings: Settings, now: datetime) -> bool:
    """The member's first add of a guide in WeCom earns points.first_guide_add, once."""
    return await award(member_id, settings.points.first_guide_add,
                       key=f"guide_add:{member_id}", reason="首次添加导购", now=now,
                       settings=settings)


def birthday_bonus(level: int, settings: Settings) -> int:
    return (settings.points.birthday_month_bonus
            + level_settings(level, settings.members.levels).birthday_gift_points)


async def award_birthday(member: Member, settings: Settings, now: datetime) -> int:
    """The birthday month bonus, once a year, in the member's birthday month; the
    points awarded now (0: not their month, no birthday, or awarded before)."""
    today = local_day(now)
    if member.birthday is None or member.birthday.month != today.month:
        return 0
    points = birthday_bonus(member.level, settings)
    if points <= 0:
        return 0
    awarded = await award(member.id, points, key=f"birthday:{member.id}:{today.year}",
                          reason=f"{today.year} 生日月礼", now=now, settings=settings)
    return points if awarded else 0


async def award_birthdays(settings: Settings, now: datetime, *, batch: int = 500) -> int:
    """The scheduler's birthday job: every active member whose birthday month this is
    and who has not had this year's bonus gets it. Returns how many were awarded."""
    today = local_day(now)
    conn = Member._meta.db
    m = marks(conn, 5)
    month = ("CAST(EXTRACT(MONTH FROM m.birthday) AS INTEGER)"
             if conn.capabilities.dialect == "postgres"
             else "CAST(strftime('%m', m.birthday) AS INTEGER)") + f" = {m[0]}"
    awarded, after = 0, 0
    while True:
        rows = await conn.execute_query_dict(
            f'SELECT m.id FROM "{Member._meta.db_table}" m WHERE {month} AND m.status = {m[1]} '
            f"AND m.id > {m[2]} AND NOT EXISTS (SELECT 1 FROM points_entry e "
            f"WHERE e.key = CAST({m[3]} AS VARCHAR) || CAST(m.id AS VARCHAR) "
            f"|| CAST({m[4]} AS VARCHAR)) "
            f"ORDER BY m.id LIMIT {batch}",
            [today.month, MemberStatus.ACTIVE.value, after, "birthday:", f":{today.year}"])
        if not rows:
            return awarded
        after = int(rows[-1]["id"])
        for member in await Member.filter(id__in=[int(r["id"]) for r in rows]):
            awarded += await award_birthday(member, settings, now) > 0
