"""Channels (渠道活码): each a WeCom contact way with its own `state`.

Creating, editing and deleting a channel calls `add_contact_way`, `update_contact_way`
and `del_contact_way`; everything is validated first, so bad input never reaches WeCom.
Adds with an unknown or empty state are credited to the default "organic" channel.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from handlers.guide_rotation import adds_today, routed_guides
from handlers.input_error import DomainInputError
from handlers.local_cache import LocalCache
from handlers.tags import TagRef, resolve_tags
from models.channels import Channel, ChannelKind

if TYPE_CHECKING:
    from bot.wecom import WeComClient

MAX_STATE_CHARS = 30
MAX_ATTACHMENTS = 9
MAX_TEXT_BYTES = 4000
MAX_CONTACT_WAY_USERS = 100
ORGANIC_STATE = "organic"
_STATE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"

# Every add looks its channel up by state (200 a second at peak): each process keeps what
# it found this long. Changes made through this process are seen at once (create, edit
# and delete forget the state); other processes see them within this time.
CHANNEL_CACHE_SECONDS = 10.0

_channels: LocalCache[Channel] = LocalCache(CHANNEL_CACHE_SECONDS)


# What each welcome attachment type must carry (send_welcome_msg, wecom-protocol §3.7).
_ATTACHMENT_FIELDS: dict[str, tuple[tuple[str, int | None], ...]] = {
    "image": (),
    "link": (("title", 128), ("url", None)),
    "miniprogram": (("title", 64), ("appid", None), ("page", None)),
    "video": (("media_id", None),),
    "file": (("media_id", None),),
}


class ChannelInputError(DomainInputError):
    """Bad channel input, naming the field; nothing was sent to WeCom."""


@dataclass
class ChannelSpec:
    name: str
    kind: ChannelKind
    guides: list[str]
    tags: list[TagRef] = field(default_factory=list)
    welcome_text: str = ""
    welcome_attachments: list[dict[str, Any]] = field(default_factory=list)
    skip_verify: bool = True
    remark_template: str = ""
    daily_caps: dict[str, int] = field(default_factory=dict)
    backup_guide: str = ""
    state: str = ""
    active_from: datetime | None = None
    active_until: datetime | None = None
    create_missing_tags: bool = False


def validate_welcome(text: str, attachments: Sequence[Mapping[str, Any]]) -> None:
    if len(text.encode("utf-8")) > MAX_TEXT_BYTES:
        raise ChannelInputError("welcome.text", f"over {MAX_TEXT_BYTES} bytes")
    if len(attachments) > MAX_ATTACHMENTS:
        raise ChannelInputError("welcome.attachments", f"at most {MAX_ATTACHMENTS}")
    for index, attachment in enumerate(attachments):
        where = f"welcome.attachments[{index}]"
        kind = attachment.get("msgtype") if isinstance(attachment, Mapping) else None
        if kind not in _ATTACHMENT_FIELDS:
            raise ChannelInputError(f"{where}.msgtype",
                                    f"one of {', '.join(_ATTACHMENT_FIELDS)}")
        body = attachment.get(kind)
        if not isinstance(body, Mapping):
            raise ChannelInputError(f"{where}.{kind}", "must be an object")
        if kind == "image" and not (body.get("media_id") or body.get("pic_url")):
            raise ChannelInputError(f"{where}.image", "needs media_id or pic_url")
        for name, limit in _ATTACHMENT_FIELDS[kind]:
            value = body.get(name)
            if not isinstance(value, str) or not value:
                raise ChannelInputError(f"{where}.{kind}.{name}", "is required")
            if limit is not None and len(value.encode("utf-8")) > limit:
                raise ChannelInputError(f"{where}.{kind}.{name}", f"over {limit} bytes")


async def _validate(spec: ChannelSpec, wecom: WeComClient) -> list[str]:
    """Check everything; return the resolved tag ids."""
    if not spec.name.strip() or len(spec.name) > 64:
        raise ChannelInputError("name", "1-64 characters")
    if spec.kind == ChannelKind.ORGANIC:
        raise ChannelInputError("kind", "organic is the built-in default channel")
    if len(spec.state) > MAX_STATE_CHARS:
        raise ChannelInputError("state", f"at most {MAX_STATE_CHARS} characters")
    if spec.state == ORGANIC_STATE:
        raise ChannelInputError("state", f"{ORGANIC_STATE!r} is reserved")
    if not spec.guides:
        raise ChannelInputError("guides", "at least one guide")
    if len(set(spec.guides)) > MAX_CONTACT_WAY_USERS:
        raise ChannelInputError("guides", f"at most {MAX_CONTACT_WAY_USERS}")
    for userid, cap in spec.daily_caps.items():
        if userid not in spec.guides or not isinstance(cap, int) or cap < 1:
            raise ChannelInputError("daily_caps", f"{userid}: a guide of the channel, cap >= 1")
    if len(spec.remark_template) > 64:
        raise ChannelInputError("remark_template", "at most 64 characters")
    if spec.active_from and spec.active_until and spec.active_until <= spec.active_from:
        raise ChannelInputError("active_until", "must be after active_from")
    validate_welcome(spec.welcome_text, spec.welcome_attachments)
    known = set(await wecom.external_contact.get_follow_user_list())
    unknown = [g for g in spec.guides if g not in known]
    if unknown:
        raise ChannelInputError("guides", f"not guides with customer contact: {', '.join(unknown)}")
    if spec.backup_guide and spec.backup_guide not in known:
        raise ChannelInputError("backup_guide", f"{spec.backup_guide} has no customer contact")
    try:
        return await resolve_tags(spec.tags, wecom, create_missing=spec.create_missing_tags)
    except ValueError as exc:
        raise ChannelInputError("tags", str(exc)) from None


def new_state(prefix: str = "ch") -> str:
    """A fresh state (a channel's by default): short, unguessable, never the organic one."""
    return prefix + "".join(secrets.choice(_STATE_ALPHABET) for _ in range(12))


async def create_channel(spec: ChannelSpec, wecom: WeComClient) -> Channel:
    tag_ids = await _validate(spec, wecom)
    state = spec.state or new_state()
    if await Channel.filter(state=state).exists():
        raise ChannelInputError("state", f"{state!r} is taken")
    guides = list(dict.fromkeys(spec.guides))
    # Always a multi-member way: a channel's guides can change from one to a pool.
    created = await wecom.contact_way.add(
        state=state, users=guides, skip_verify=spec.skip_verify, remark=spec.name[:30],
        multi=True,
    )
    try:
        channel = await _store_new(spec, state, created.config_id, created.qr_code, guides,
                                   tag_ids)
        _channels.forget(state)  # adds with this state were organic until now
        return channel
    except Exception:
        # Not stored: remove the contact way too, or it would live on in WeCom unowned.
        await wecom.contact_way.delete(created.config_id)
        raise


async def _store_new(spec: ChannelSpec, state: str, config_id: str, qr_code: str,
                     guides: list[str], tag_ids: list[str]) -> Channel:
    return await Channel.create(
        name=spec.name, kind=spec.kind, state=state, config_id=config_id,
        qr_code=qr_code, guides=guides, current_guides=guides,
        daily_caps=spec.daily_caps, backup_guide=spec.backup_guide,
        skip_verify=spec.skip_verify, tag_ids=tag_ids, welcome_text=spec.welcome_text,
        welcome_attachments=spec.welcome_attachments, remark_template=spec.remark_template,
        active_from=spec.active_from, active_until=spec.active_until,
    )


def spec_of(channel: Channel, tags: list[TagRef]) -> ChannelSpec:
    """The editable fields of a stored channel, to apply a partial change to."""
    return ChannelSpec(
        name=channel.name, kind=channel.kind, guides=list(channel.guides), tags=tags,
        welcome_text=channel.welcome_text,
        welcome_attachments=list(channel.welcome_attachments),
        skip_verify=channel.skip_verify, remark_template=channel.remark_template,
        daily_caps=dict(channel.daily_caps), backup_guide=channel.backup_guide,
        state=channel.state, active_from=channel.active_from,
        active_until=channel.active_until,
    )


async def update_channel(channel: Channel, spec: ChannelSpec, wecom: WeComClient) -> Channel:
    if channel.is_default:
        raise ChannelInputError("id", "the organic channel has no contact way to edit")
    if spec.state != channel.state:
        raise ChannelInputError("state", "a channel's state never changes (printed QRs use it)")
    tag_ids = await _validate(spec, wecom)
    before = (list(channel.current_guides), channel.skip_verify, channel.name)
    channel.update_from_dict({
        "guides": list(dict.fromkeys(spec.guides)), "daily_caps": spec.daily_caps,
        "backup_guide": spec.backup_guide,
    })
    routed = routed_guides(channel, await adds_today(channel, datetime.now(UTC)))
    if channel.config_id and (routed, spec.skip_verify, spec.name) != before:
        await wecom.contact_way.update(channel.config_id, users=routed,
                                       skip_verify=spec.skip_verify, remark=spec.name[:30])
    channel.update_from_dict({
        "name": spec.name, "kind": spec.kind, "current_guides": routed,
        "skip_verify": spec.skip_verify, "tag_ids": tag_ids, "welcome_text": spec.welcome_text,
        "welcome_attachments": spec.welcome_attachments,
        "remark_template": spec.remark_template, "active_from": spec.active_from,
        "active_until": spec.active_until,
    })
    await channel.save()
    _channels.forget(channel.state)
    return channel


async def delete_channel(channel: Channel, wecom: WeComClient) -> None:
    """Delete the contact way; keep the channel row (soft) for its history."""
    if channel.is_default:
        raise ChannelInputError("id", "the organic channel cannot be deleted")
    if channel.config_id:
        await wecom.contact_way.delete(channel.config_id)
    channel.deleted_at = datetime.now(UTC)
    channel.config_id = None
    await channel.save()
    _channels.forget(channel.state)


async def default_channel() -> Channel:
    channel, _ = await Channel.get_or_create(
        state=ORGANIC_STATE,
        defaults={"name": "自然流量", "kind": ChannelKind.ORGANIC, "is_default": True},
    )
    return channel


async def channel_for_state(state: str) -> Channel:
    """The channel an add with `state` came through, else the organic one (cached for
    CHANNEL_CACHE_SECONDS; read-only for the caller)."""
    cached = _channels.get(state)
    if cached is not None:
        return cached
    channel = None
    if state and state != ORGANIC_STATE:
        channel = await Channel.get_or_none(state=state, deleted_at=None)
    return _channels.put(state, channel or await default_channel())


def is_active(channel: Channel, at: datetime) -> bool:
    """Inside the channel's active window: its tags and welcome apply. Outside it an add
    is still credited to the channel, but gets nothing of its onboarding."""
    if channel.active_from and at < channel.active_from:
        return False
    return not (channel.active_until and at >= channel.active_until)
