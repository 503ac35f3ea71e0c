"""企业标签 (corp tags) APIs: the corp's tag groups and tags, and marking tags on a
customer (wecom-protocol.md §3.6).

All of them need the customer-contact secret (`settings.wecom.contact_secret`). Tags
made through the API fire no change_external_tag callback, so the caller keeps its own
copy in step from the answers. An app may edit or delete only tags it created itself.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.wecom.transport import ApiArea

__all__ = ["CorpTag", "TagInfo", "TagGroupInfo"]


@dataclass(frozen=True)
class TagInfo:
    """One corp tag. `deleted` is set only in answers to a list by id. A larger `order`
    is shown first."""

    id: str
    name: str
    create_time: int
    order: int
    deleted: bool

    @classmethod
    def from_wecom(cls, data: dict[str, Any]) -> TagInfo:
        return cls(
            id=str(data.get("id", "")),
            name=str(data.get("name", "")),
            create_time=int(data.get("create_time") or 0),
            order=int(data.get("order") or 0),
            deleted=bool(data.get("deleted", False)),
        )


@dataclass(frozen=True)
class TagGroupInfo:
    """A tag group with its tags (all, or those asked for or just added)."""

    group_id: str
    group_name: str
    create_time: int
    order: int
    deleted: bool
    tags: tuple[TagInfo, ...]

    @classmethod
    def from_wecom(cls, data: dict[str, Any]) -> TagGroupInfo:
        return cls(
            group_id=str(data.get("group_id", "")),
            group_name=str(data.get("group_name", "")),
            create_time=int(data.get("create_time") or 0),
            order=int(data.get("order") or 0),
            deleted=bool(data.get("deleted", False)),
            tags=tuple(TagInfo.from_wecom(t) for t in data.get("tag") or ()),
        )


class CorpTag(ApiArea):
    """企业标签 APIs. Every method needs the customer-contact secret."""

    async def list(
        self, tag_ids: Sequence[str] = (), group_ids: Sequence[str] = ()
    ) -> builtins.list[TagGroupInfo]:
        """The corp's tag groups with their tags: all of them, or the groups `group_ids`
        names (then `tag_ids` is ignored), or the groups holding `tag_ids` with only
        those tags. Asked by id, deleted groups and tags come back with `deleted` set.

        WeCom doc: /document/path/92117 (获取企业标签库; wecom-protocol.md §3.6),
        `POST externalcontact/get_corp_tag_list`. Secret: customer contact.
        """
        body: dict[str, Any] = {}
        if tag_ids:
            body["tag_id"] = list(tag_ids)
        if group_ids:
            body["group_id"] = list(group_ids)
        data = await self._post("externalcontact/get_corp_tag_list", body)
        return [TagGroupInfo.from_wecom(g) for g in data.get("tag_group") or ()]

    async def add(
        self,
        tags: Sequence[str],
        *,
        group_name: str | None = None,
        group_id: str | None = None,
        order: int | None = None,
    ) -> TagGroupInfo:
        """Add tags (names ≤ 30 chars) to the group `group_id`, or to the group named
        `group_name` (created when no group has that name; `order` is then its order).
        Returns the group with only the new tags.

        WeCom doc: /document/path/92117 (添加企业客户标签; wecom-protocol.md §3.6),
        `POST externalcontact/add_corp_tag`. Secret: customer contact. Raises
        `InvalidTag` (40068) for an unknown group_id; 40071 (a name empty, too long or
        already in the group) and 40126 (3000 tags per corp) as `WeComError`.
        """
        if (group_name is None) == (group_id is None):
            raise ValueError("give exactly one of group_name and group_id")
        if not tags:
            raise ValueError("tags: at least one name")
        body: dict[str, Any] = {"tag": [{"name": name} for name in tags]}
        if group_id is not None:
            body["group_id"] = group_id
        else:
            body["group_name"] = group_name
        if order is not None:
            body["order"] = order
        data = await self._post("externalcontact/add_corp_tag", body)
        return TagGroupInfo.from_wecom(data.get("tag_group") or {})

    async def edit(self, id: str, *, name: str | None = None, order: int | None = None) -> None:
        """Rename or reorder a tag or a group (`id` is either).

        WeCom doc: /document/path/92117 (编辑企业客户标签; wecom-protocol.md §3.6),
        `POST externalcontact/edit_corp_tag`. Secret: customer contact. Raises
        `InvalidTag` (40068) for an unknown id.
        """
        body: dict[str, Any] = {"id": id}
        if name is not None:
            body["name"] = name
        if order is not None:
            body["order"] = order
        await self._post("externalcontact/edit_corp_tag", body)

    async def delete(self, tag_ids: Sequence[str] = (), group_ids: Sequence[str] = ()) -> None:
        """Delete tags and groups. A group goes with its tags, a group left without tags
        goes too, and deleted tags leave every customer.

        WeCom doc: /document/path/92117 (删除企业客户标签; wecom-protocol.md §3.6),
        `POST externalcontact/del_corp_tag`. Secret: customer contact. Raises
        `InvalidTag` (40068) when any id is unknown (nothing is deleted then).
        """
        if not tag_ids and not group_ids:
            raise ValueError("give tag_ids or group_ids")
        await self._post("externalcontact/del_corp_tag",
                         {"tag_id": list(tag_ids), "group_id": list(group_ids)})

    async def mark(
        self,
        userid: str,
        external_userid: str,
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
    ) -> None:
        """Put corp tags on, or take them off, the customer as seen by the member.

        WeCom doc: /document/path/92118 (编辑客户企业标签; wecom-protocol.md §3.6),
        `POST externalcontact/mark_tag`. Secret: customer contact. Raises
        `NoRelationship` (84061) when they are not (or not yet) contacts and
        `InvalidTag` (40068) for a tag that does not exist.
        """
        if not add and not remove:
            raise ValueError("give tags to add or to remove")
        await self._post("externalcontact/mark_tag", {
            "userid": userid, "external_userid": external_userid,
            "add_tag": list(add), "remove_tag": list(remove),
        })
