"""WeCom API: corp tags (企业标签) and putting them on customers, wecom-protocol.md §3.6.

- `POST externalcontact/get_corp_tag_list` {tag_id?, group_id?}: every group with its
  tags; with `group_id` those groups (`tag_id` is then ignored); with `tag_id` the
  groups holding those tags, each with only the tags asked for. Asked by id, groups and
  tags carry `deleted`, and deleted ones are still answered (deleted: true); unknown
  ids are left out. A larger `order` comes first.
- `POST externalcontact/add_corp_tag` {group_id | group_name, order?, tag: [{name,
  order?}]}: into the group `group_id` (40068 when unknown), or into the group named
  `group_name`, created when no group has that name. Repeated names in one request make
  one tag; a name the group already has → 40071. Answers the group with only the new
  tags.
- `POST externalcontact/edit_corp_tag` {id, name?, order?}: a tag or a group.
- `POST externalcontact/del_corp_tag` {tag_id?, group_id?}: a group goes with its tags;
  a group left without tags goes too; deleted tags leave every customer.
- `POST externalcontact/mark_tag` {userid, external_userid, add_tag?, remove_tag?}: the
  relation must be visible to the API (84061 otherwise, e.g. half-added or deleted by
  the member).

Unknown tag or group → 40068; a name empty or over 30 characters → 40071; more than
3000 tags in the corp → 40126; nothing to add, delete or mark → 40058. API changes fire
no callbacks (§2.0); the console's tags/event, an admin in the WeCom console, does, on
the same tags.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiohttp import web

from bot.sandbox.api import ApiCall, route
from bot.sandbox.api_body import integer, items, text, within
from bot.sandbox.api_external_contact import visible_relation
from bot.sandbox.errors import (
    INVALID_PARAMETER,
    INVALID_TAG,
    INVALID_TAG_NAME,
    TAG_LIMIT,
    ApiError,
)
from bot.sandbox.tags import GROUP_KIND, MAX_CORP_TAGS, TAG_KIND, CorpTags, Tag, TagGroup

MAX_NAME_CHARS = 30


def tag_json(tags: CorpTags, tag: Tag, by_id: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"id": tag.tag_id, "name": tag.name,
                           "create_time": tag.create_time, "order": tag.order}
    if by_id:
        out["deleted"] = tag.tag_id in tags.deleted_tags
    return out


def group_json(tags: CorpTags, group: TagGroup, members: Iterable[Tag],
               by_id: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"group_id": group.group_id, "group_name": group.name,
                           "create_time": group.create_time, "order": group.order}
    if by_id:
        out["deleted"] = group.group_id in tags.deleted_groups
    out["tag"] = [tag_json(tags, t, by_id) for t in sorted(members, key=lambda t: -t.order)]
    return out


def _by_order(groups: Iterable[TagGroup]) -> list[TagGroup]:
    return sorted(groups, key=lambda g: -g.order)


def get_corp_tag_list(call: ApiCall) -> dict[str, Any]:
    tags = call.state.tags
    group_ids, tag_ids = items(call.body, "group_id"), items(call.body, "tag_id")
    if group_ids:
        found = [g for g in map(tags.any_group, dict.fromkeys(group_ids)) if g is not None]
        listing = [group_json(tags, g, _members(tags, g), True) for g in _by_order(found)]
    elif tag_ids:
        asked: dict[str, list[Tag]] = {}
        for tag in filter(None, map(tags.any_tag, dict.fromkeys(tag_ids))):
            asked.setdefault(tag.group_id, []).append(tag)
        groups = [tags.any_group(group_id) for group_id in asked]
        listing = [group_json(tags, g, asked[g.group_id], True)
                   for g in _by_order(g for g in groups if g is not None)]
    else:
        listing = [group_json(tags, g, _members(tags, g), False)
                   for g in _by_order(tags.groups.values())]
    return {"tag_group": listing}


def _members(tags: CorpTags, group: TagGroup) -> list[Tag]:
    """A group's tags: the live ones, or for a deleted group the ones deleted with it."""
    return [t for t in map(tags.any_tag, group.tag_ids) if t is not None]


def _name(value: str) -> str:
    if not value:
        raise ApiError(INVALID_TAG_NAME)
    return within(value, MAX_NAME_CHARS, INVALID_TAG_NAME)


def add_corp_tag(call: ApiCall) -> dict[str, Any]:
    tags, body, now = call.state.tags, call.body, int(call.now)
    wanted: dict[str, int] = {}
    for spec in items(body, "tag", dict):
        wanted.setdefault(_name(text(spec, "name")), integer(spec, "order"))
    if not wanted:
        raise ApiError(INVALID_PARAMETER)
    group_id = text(body, "group_id")
    if group_id:
        group = tags.groups.get(group_id)
        if group is None:
            raise ApiError(INVALID_TAG)
    else:
        group = tags.group_named(_name(text(body, "group_name")))
    if group is not None and any(tags.tags[t].name in wanted for t in group.tag_ids):
        raise ApiError(INVALID_TAG_NAME)
    if len(tags.tags) + len(wanted) > MAX_CORP_TAGS:
        raise ApiError(TAG_LIMIT)
    if group is None:
        group = tags.add_group(text(body, "group_name"), now, integer(body, "order"))
    added = [tags.add_tag(group.group_id, name, now, order) for name, order in wanted.items()]
    return {"tag_group": {"group_id": group.group_id, "group_name": group.name,
                          "create_time": group.create_time, "order": group.order,
                          "tag": [tag_json(tags, t, False) for t in added]}}


def edit_corp_tag(call: ApiCall) -> dict[str, Any]:
    tags, body = call.state.tags, call.body
    item_id = text(body, "id")
    item: Tag | TagGroup | None = tags.tags.get(item_id) or tags.groups.get(item_id)
    if item is None:
        raise ApiError(INVALID_TAG)
    if "name" in body:
        item.name = _name(text(body, "name"))
    item.order = integer(body, "order", item.order)
    return {}


def del_corp_tag(call: ApiCall) -> dict[str, Any]:
    tags = call.state.tags
    group_ids = list(dict.fromkeys(items(call.body, "group_id")))
    tag_ids = list(dict.fromkeys(items(call.body, "tag_id")))
    if not group_ids and not tag_ids:
        raise ApiError(INVALID_PARAMETER)
    if any(g not in tags.groups for g in group_ids) or any(t not in tags.tags for t in tag_ids):
        raise ApiError(INVALID_TAG)
    removed: list[str] = []
    for group_id in group_ids:
        removed += tags.delete(GROUP_KIND, group_id)
    for tag_id in tag_ids:
        if tag_id in tags.tags:  # else it went with its group above
            removed += tags.delete(TAG_KIND, tag_id)
    call.state.contacts.remove_tags(removed)
    return {}


def mark_tag(call: ApiCall) -> dict[str, Any]:
    add, remove = items(call.body, "add_tag"), items(call.body, "remove_tag")
    if not add and not remove:
        raise ApiError(INVALID_PARAMETER)
    relation = visible_relation(call)
    if any(t not in call.state.tags.tags for t in add + remove):
        raise ApiError(INVALID_TAG)
    call.state.contacts.retag(relation, add, remove)
    return {}


def routes() -> list[web.RouteDef]:
    return [
        route("POST", "externalcontact/get_corp_tag_list", get_corp_tag_list),
        route("POST", "externalcontact/add_corp_tag", add_corp_tag),
        route("POST", "externalcontact/edit_corp_tag", edit_corp_tag),
        route("POST", "externalcontact/del_corp_tag", del_corp_tag),
        route("POST", "externalcontact/mark_tag", mark_tag),
    ]
