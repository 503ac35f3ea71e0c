"""Corp tags (企业标签): tag groups holding tags, with ids, names, orders and create times.

The console changes them (an admin in the WeCom console: change_external_tag fires),
and so does the corp-tag API (no callback); `externalcontact/get` reads them to
describe a follow relation's `tags[]`. Tags and groups share the `et…` id space, as in
WeCom. A larger `order` sorts first. Deleted tags and groups are kept aside, so
`get_corp_tag_list` by id can still answer them with `deleted: true`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.errors import lookup
from bot.sandbox.ids import TAG, new_id

TAG_KIND = "tag"
GROUP_KIND = "tag_group"
CORP_TAG_TYPE = 1
MAX_CORP_TAGS = 3000


@dataclass
class Tag:
    tag_id: str
    group_id: str
    name: str
    create_time: int
    order: int = 0


@dataclass
class TagGroup:
    group_id: str
    name: str
    create_time: int
    order: int = 0
    tag_ids: list[str] = field(default_factory=list)


class CorpTags:
    def __init__(self) -> None:
        self.groups: dict[str, TagGroup] = {}
        self.tags: dict[str, Tag] = {}
        self.deleted_groups: dict[str, TagGroup] = {}
        self.deleted_tags: dict[str, Tag] = {}

    def add_group(self, name: str, create_time: int, order: int = 0) -> TagGroup:
        group = TagGroup(new_id(TAG), name, create_time, order)
        self.groups[group.group_id] = group
        return group

    def add_tag(self, group_id: str, name: str, create_time: int, order: int = 0) -> Tag:
        group = self.require_group(group_id)
        tag = Tag(new_id(TAG), group_id, name, create_time, order)
        self.tags[tag.tag_id] = tag
        group.tag_ids.append(tag.tag_id)
        return tag

    def require_tag(self, tag_id: str) -> Tag:
        return lookup(self.tags, tag_id, TAG_KIND)

    def require_group(self, group_id: str) -> TagGroup:
        return lookup(self.groups, group_id, GROUP_KIND)

    def any_tag(self, tag_id: str) -> Tag | None:
        """The tag, live or deleted."""
        return self.tags.get(tag_id) or self.deleted_tags.get(tag_id)

    def any_group(self, group_id: str) -> TagGroup | None:
        return self.groups.get(group_id) or self.deleted_groups.get(group_id)

    def group_named(self, name: str) -> TagGroup | None:
        """The first group with this name (a scan: groups are few, ≤ 3000 tags in all)."""
        return next((g for g in self.groups.values() if g.name == name), None)

    def require(self, kind: str, item_id: str) -> Tag | TagGroup:
        """The tag (`kind` "tag") or the group (`kind` "tag_group") with this id."""
        return self.require_tag(item_id) if kind == TAG_KIND else self.require_group(item_id)

    def delete(self, kind: str, item_id: str) -> list[str]:
        """Delete a tag, or a group with all its tags; returns the deleted tag ids. A group
        left without tags goes too (wecom-protocol.md §3.6)."""
        item = self.require(kind, item_id)
        if isinstance(item, TagGroup):
            removed = list(item.tag_ids)
            self.deleted_groups[item.group_id] = self.groups.pop(item.group_id)
        else:
            removed = [item.tag_id]
            group = self.groups[item.group_id]
            group.tag_ids.remove(item.tag_id)
            if not group.tag_ids:
                self.deleted_groups[group.group_id] = self.groups.pop(group.group_id)
        for tag_id in removed:
            self.deleted_tags[tag_id] = self.tags.pop(tag_id)
        return removed

    def shuffle(self, group_id: str) -> None:
        """Reverse the display order of one group's tags, or of all groups when `group_id`
        is empty (a shuffle event with an empty Id means all groups changed order)."""
        items: list[Tag | TagGroup]
        if group_id:
            items = [self.tags[t] for t in self.require_group(group_id).tag_ids]
        else:
            items = list(self.groups.values())
        displayed = sorted(items, key=lambda item: -item.order)
        for rank, item in enumerate(displayed):
            item.order = rank

    def describe(self, tag_id: str) -> dict[str, Any]:
        """One entry of follow_user[].tags in externalcontact/get."""
        tag = self.tags[tag_id]
        return {
            "group_name": self.groups[tag.group_id].name,
            "tag_name": tag.name,
            "tag_id": tag.tag_id,
            "type": CORP_TAG_TYPE,
        }
