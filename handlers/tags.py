"""Corp tags: keep the local mirror in step with WeCom and resolve what operators name.

Operators say "group / name"; WeCom wants tag ids. `resolve_tags` maps one to the other
and, when asked, creates what is missing through `add_corp_tag` (updating the mirror
directly, since WeCom sends no callback for API changes).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tortoise.transactions import in_transaction

from handlers.local_cache import LocalCache
from models.tags import Tag, TagGroup, TagRule

if TYPE_CHECKING:
    from bot.events import ExternalTagChange
    from bot.wecom import WeComClient
    from bot.wecom.corp_tag import TagGroupInfo

log = logging.getLogger("scrm.tags")

MAX_NAME_CHARS = 30


@dataclass(frozen=True)
class TagRef:
    group: str
    name: str


class UnknownTags(ValueError):
    def __init__(self, missing: Sequence[TagRef]) -> None:
        names = ", ".join(f"{ref.group}/{ref.name}" for ref in missing)
        super().__init__(f"unknown tags: {names}")
        self.missing = list(missing)


def _when(epoch: int) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch else None


async def _store_group(info: TagGroupInfo) -> None:
    """Upsert a group and its tags as WeCom returned them; drop tags it marks deleted."""
    group, _ = await TagGroup.update_or_create(
        group_id=info.group_id,
        defaults={"name": info.group_name, "order": info.order,
                  "created_at": _when(info.create_time)},
    )
    for tag in info.tags:
        if tag.deleted:
            await Tag.filter(tag_id=tag.id).delete()
            continue
        await Tag.update_or_create(
            tag_id=tag.id,
            defaults={"group_id": group.id, "name": tag.name, "order": tag.order,
                      "created_at": _when(tag.create_time)},
        )


async def sync_corp_tags(wecom: WeComClient) -> int:
    """Replace the mirror with WeCom's full tag list; return the number of tags."""
    asked_at = datetime.now(UTC)
    groups = await wecom.corp_tag.list()
    async with in_transaction():
        for info in groups:
            await _store_group(info)
        group_ids = [g.group_id for g in groups]
        tag_ids = [t.id for g in groups for t in g.tags if not t.deleted]
        # Created after WeCom answered (by create_tag, meanwhile): not gone, just newer.
        await Tag.exclude(tag_id__in=tag_ids).filter(created_at__lt=asked_at).delete()
        await TagGroup.exclude(group_id__in=group_ids).filter(created_at__lt=asked_at).delete()
    log.info("tags.synced groups=%d tags=%d", len(groups), len(tag_ids))
    return len(tag_ids)


async def on_tag_changed(event: ExternalTagChange, wecom: WeComClient) -> None:
    """A console edit of a tag or group: re-read what changed from WeCom."""
    if event.change_type == "shuffle" or not event.id:
        await sync_corp_tags(wecom)
        return
    if event.tag_type == "tag_group":
        found = await wecom.corp_tag.list(group_ids=[event.id])
        live = [g for g in found if g.group_id == event.id and not g.deleted]
        async with in_transaction():
            if live:
                await _store_group(live[0])
                keep = [t.id for t in live[0].tags if not t.deleted]
                await Tag.filter(group__group_id=event.id).exclude(tag_id__in=keep).delete()
            else:
                await TagGroup.filter(group_id=event.id).delete()
    else:
        found = await wecom.corp_tag.list(tag_ids=[event.id])
        live = [g for g in found if any(t.id == event.id and not t.deleted for t in g.tags)]
        async with in_transaction():
            if live:
                await _store_group(live[0])
            else:
                await Tag.filter(tag_id=event.id).delete()
    log.info("tags.changed %s %s id=%s", event.change_type, event.tag_type, event.id)


async def resolve_tags(
    refs: Sequence[TagRef], wecom: WeComClient, *, create_missing: bool = False
) -> list[str]:
    """Tag ids for `refs`, in order; missing ones are created or reported."""
    ids: list[str] = []
    missing: list[TagRef] = []
    for ref in refs:
        tag = await Tag.filter(group__name=ref.group, name=ref.name).order_by("id").first()
        if tag is None:
            missing.append(ref)
        else:
            ids.append(tag.tag_id)
    if missing and not create_missing:
        raise UnknownTags(missing)
    for ref in missing:
        ids.append(await create_tag(ref, wecom))
    return ids


async def create_tag(ref: TagRef, wecom: WeComClient) -> str:
    """Create one tag (and its group when new) in WeCom and in the mirror."""
    for field, value in (("group", ref.group), ("name", ref.name)):
        if not value or len(value) > MAX_NAME_CHARS:
            raise ValueError(f"tag {field} must be 1-{MAX_NAME_CHARS} characters")
    group = await TagGroup.filter(name=ref.group).order_by("id").first()
    if group is None:
        info = await wecom.corp_tag.add([ref.name], group_name=ref.group)
    else:
        info = await wecom.corp_tag.add([ref.name], group_id=group.group_id)
    await _store_group(info)
    created = next(t for t in info.tags if t.name == ref.name)
    log.info("tags.created group=%s name=%s id=%s", ref.group, ref.name, created.id)
    return created.id


async def tag_listing() -> list[dict[str, Any]]:
    """The mirror as operators read it: groups with their tags, WeCom's order."""
    groups = await TagGroup.all().order_by("-order", "id").prefetch_related("tags")
    return [
        {
            "group_id": g.group_id,
            "group": g.name,
            "tags": [{"id": t.tag_id, "name": t.name}
                     for t in sorted(g.tags, key=lambda t: (-t.order, t.id))],
        }
        for g in groups
    ]


async def names_of(tag_ids: Sequence[str]) -> dict[str, TagRef]:
    tags = await Tag.filter(tag_id__in=list(tag_ids)).prefetch_related("group")
    return {t.tag_id: TagRef(t.group.name, t.name) for t in tags}


@dataclass(frozen=True)
class RuleSpec:
    name: str
    tags: list[TagRef]
    channel_kind: str = ""
    state_prefix: str = ""
    add_way: int | None = None
    customer_type: int | None = None


async def create_rule(spec: RuleSpec, wecom: WeComClient, *, create_missing: bool) -> TagRule:
    """A tag rule; its tags are resolved (or created) now, like a channel's."""
    tag_ids = await resolve_tags(spec.tags, wecom, create_missing=create_missing)
    rule = await TagRule.create(
        name=spec.name, channel_kind=spec.channel_kind, state_prefix=spec.state_prefix,
        add_way=spec.add_way, customer_type=spec.customer_type, tag_ids=tag_ids,
    )
    _rules.forget(ALL_RULES)
    return rule


async def delete_rule(rule_id: int) -> bool:
    deleted = await TagRule.filter(id=rule_id).delete()
    _rules.forget(ALL_RULES)
    return bool(deleted)


# Every add checks the rules: each process keeps them this long. Rules created or deleted
# through this process apply at once; through another, within this time.
RULES_CACHE_SECONDS = 10.0
ALL_RULES = "all"
_rules: LocalCache[list[TagRule]] = LocalCache(RULES_CACHE_SECONDS)


async def tag_rules() -> list[TagRule]:
    rules = _rules.get(ALL_RULES)
    if rules is None:
        rules = _rules.put(ALL_RULES, list(await TagRule.all().order_by("id")))
    return rules


async def rename_tag(tag_id: str, name: str, wecom: WeComClient) -> Tag:
    """Rename a tag in WeCom and in the mirror (WeCom sends no callback for it)."""
    if not name or len(name) > MAX_NAME_CHARS:
        raise ValueError(f"tag name must be 1-{MAX_NAME_CHARS} characters")
    tag = await Tag.get(tag_id=tag_id)
    await wecom.corp_tag.edit(tag_id, name=name)
    tag.name = name
    await tag.save(update_fields=["name"])
    log.info("tags.renamed id=%s name=%s", tag_id, name)
    return tag


async def delete_tag(tag_id: str, wecom: WeComClient) -> None:
    """Delete a tag in WeCom and in the mirror; a group left empty goes too, as in WeCom."""
    tag = await Tag.get(tag_id=tag_id).prefetch_related("group")
    await wecom.corp_tag.delete(tag_ids=[tag_id])
    async with in_transaction():
        await tag.delete()
        if not await Tag.filter(group=tag.group).exists():
            await tag.group.delete()
    log.info("tags.deleted id=%s", tag_id)
