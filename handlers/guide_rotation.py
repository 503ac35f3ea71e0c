"""Guide pools: who a channel's contact way routes new customers to right now.

A channel can name several guides, with optional daily caps and a backup guide. On a
schedule the contact way's users are set to the guides still under today's cap (WeCom
spreads adds among them); when every guide is capped, the backup takes over (or, with
no backup, the whole pool stays on rather than nobody).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING

from tortoise.functions import Count

from models.channels import Attribution, Channel

if TYPE_CHECKING:
    from bot.wecom import WeComClient

log = logging.getLogger("scrm.rotation")


async def adds_today(channel: Channel, now: datetime) -> dict[str, int]:
    since = datetime.combine(now.astimezone(UTC).date(), time.min, UTC)
    rows = await Attribution.filter(channel_id=channel.id, added_at__gte=since).annotate(
        n=Count("id")
    ).group_by("staff_userid").values("staff_userid", "n")
    return {row["staff_userid"]: int(row["n"]) for row in rows}


def routed_guides(channel: Channel, counts: dict[str, int]) -> list[str]:
    open_guides = [g for g in channel.guides
                   if g not in channel.daily_caps or counts.get(g, 0) < channel.daily_caps[g]]
    if open_guides:
        return open_guides
    return [channel.backup_guide] if channel.backup_guide else list(channel.guides)


async def rotate_guides(wecom: WeComClient, now: datetime | None = None) -> int:
    """Update every live channel whose routed guides changed; return how many."""
    now = now or datetime.now(UTC)
    changed = 0
    channels = await Channel.filter(deleted_at=None, is_default=False).exclude(config_id=None)
    for channel in channels:
        if len(channel.guides) < 2 and not channel.daily_caps:
            continue
        routed = routed_guides(channel, await adds_today(channel, now))
        if routed == channel.current_guides:
            continue
        assert channel.config_id is not None
        await wecom.contact_way.update(channel.config_id, users=routed)
        channel.current_guides = routed
        await channel.save(update_fields=["current_guides", "updated_at"])
        changed += 1
        log.info("rotation.updated channel=%s guides=%s", channel.id, ",".join(routed))
    return changed
