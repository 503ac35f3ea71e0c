"""How stored things look in the admin API's JSON: channels and inbox events.

Datetimes are ISO 8601 with their UTC offset; tags are `{"group", "name", "id"}` as
operators name them (a tag WeCom no longer has is left out: it applies to nobody).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from handlers.tags import TagRef, names_of
from models.channels import Channel
from models.events import InboxEvent


def iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def tag_names(channels: Iterable[Channel]) -> dict[str, TagRef]:
    """The names of every tag the channels use, in one query."""
    return await names_of(sorted({t for channel in channels for t in channel.tag_ids}))


def tag_refs(channel: Channel, names: Mapping[str, TagRef]) -> list[TagRef]:
    return [names[t] for t in channel.tag_ids if t in names]


def channel_json(channel: Channel, names: Mapping[str, TagRef]) -> dict[str, Any]:
    return {
        "id": channel.id,
        "name": channel.name,
        "kind": channel.kind.value,
        "state": channel.state,
        "config_id": channel.config_id,
        "qr_code": channel.qr_code,
        "guides": list(channel.guides),
        "current_guides": list(channel.current_guides),
        "daily_caps": dict(channel.daily_caps),
        "backup_guide": channel.backup_guide,
        "skip_verify": channel.skip_verify,
        "tags": [{"group": names[t].group, "name": names[t].name, "id": t}
                 for t in channel.tag_ids if t in names],
        "welcome": {"text": channel.welcome_text,
                    "attachments": list(channel.welcome_attachments)},
        "remark_template": channel.remark_template,
        "active_from": iso(channel.active_from),
        "active_until": iso(channel.active_until),
        "is_default": channel.is_default,
        "created_at": iso(channel.created_at),
        "updated_at": iso(channel.updated_at),
        "deleted_at": iso(channel.deleted_at),
    }


def event_json(event: InboxEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "event": event.event,
        "change_type": event.change_type,
        "status": event.status.value,
        "attempts": event.attempts,
        "last_error": event.last_error,
        "received_at": iso(event.received_at),
        "processed_at": iso(event.processed_at),
    }
