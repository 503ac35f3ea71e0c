"""Member levels (V1–V5): which level a growth value reaches (`members.levels` in
settings.toml), recording each change, and telling the member's guide in WeCom about an
upgrade.

Growth only changes through the points ledger (handlers.ledger); whoever changes it
calls `apply_level` afterwards. A level follows growth both ways: a refund that takes
growth back can take the level down too (recorded, nobody notified).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from bot.settings import LevelSettings, Settings
from handlers.member_cache import member_changed
from models.members import LevelChange, Member

if TYPE_CHECKING:
    from bot.wecom import WeComClient

log = logging.getLogger("scrm.members")


def level_for(growth: int, levels: tuple[LevelSettings, ...]) -> int:
    """The level number (1-based) `growth` reaches: the last whose threshold it meets."""
    number = 1
    for index, level in enumerate(levels, start=1):
        if growth >= level.growth:
            number = index
    return number


def level_settings(number: int, levels: tuple[LevelSettings, ...]) -> LevelSettings:
    """The settings of level `number`, clamped to the configured ones (a level stored
    before settings dropped one still shows)."""
    return levels[max(1, min(number, len(levels))) - 1]


def next_level(number: int, levels: tuple[LevelSettings, ...]) -> LevelSettings | None:
    return levels[number] if number < len(levels) else None


async def apply_level(member_id: int, settings: Settings, now: datetime, *,
                      wecom: WeComClient | None = None, reason: str = "growth") -> None:
    """Recompute the member's level from their growth; record a LevelChange when it
    moves, and on an upgrade tell their guide (with `wecom`, when
    `members.notify_guide_on_upgrade` and the member has a guide)."""
    levels = settings.members.levels
    member = await Member.get_or_none(id=member_id)
    if member is None or not levels:
        return
    new = level_for(member.growth, levels)
    if new == member.level:
        return
    # Conditional on the level read: of two concurrent recomputations one records it.
    changed = await Member.filter(id=member_id, level=member.level).update(level=new)
    if not changed:
        return
    await member_changed(member_id)
    await LevelChange.create(member_id=member_id, from_level=member.level, to_level=new,
                             growth=member.growth, reason=reason[:64], at=now)
    log.info("member.level member=%s from=%s to=%s growth=%s", member_id, member.level, new,
             member.growth)
    if new > member.level and wecom is not None and settings.members.notify_guide_on_upgrade:
        await _notify_guide(member, level_settings(new, levels), wecom)


async def _notify_guide(member: Member, level: LevelSettings, wecom: WeComClient) -> None:
    """Best effort: a guide who cannot be told now misses a courtesy, nothing more."""
    from bot.wecom.errors import WeComError, WeComUnavailable

    if not member.guide_userid or not wecom.app_message.configured:
        return
    who = member.nickname or f"#{member.id}"
    text = f"你的会员 {who}（会员号 {member.id}）升级为 {level.name}。"
    try:
        await wecom.app_message.send_text([member.guide_userid], text)
    except (WeComError, WeComUnavailable) as exc:
        log.warning("member.level_notify_failed member=%s guide=%s error=%s",
                    member.id, member.guide_userid, type(exc).__name__)
        return
    log.info("member.level_notified member=%s guide=%s", member.id, member.guide_userid)
