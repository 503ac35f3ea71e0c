"""Customer group routes: list and read groups, their local labels, a full sync.

`GET /groups` filters by owner, label, name (contains) and status, and pages like every
list; `GET /groups/{chat_id}` adds members, admins and labels. Labels are replaced per
group (`PUT …/labels`) or added and removed on many groups at once
(`POST /groups/labels`); the rules are `handlers.group_labels`'.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any, TypeVar

from aiohttp import web
from tortoise.expressions import Subquery
from tortoise.models import Model

from admin_api.errors import NotFound
from admin_api.json_body import read_object
from admin_api.serialize import iso
from bot import query
from bot.keys import WECOM
from bot.pagination import Page
from handlers.group_labels import change_labels, labels_of, replace_labels
from handlers.group_sync import sync_groups
from models.groups import CUSTOMER_MEMBER, GroupChat, GroupLabel, GroupMember, GroupStatus

log = logging.getLogger("scrm.admin")

M = TypeVar("M", bound=Model)

STATUSES = ("any", *(s.value for s in GroupStatus))


def group_json(group: GroupChat, labels: list[str]) -> dict[str, Any]:
    return {
        "chat_id": group.chat_id, "name": group.name, "owner": group.owner,
        "owner_status": group.owner_status, "status": group.status.value,
        "member_count": group.member_count, "labels": labels,
        "created_at": iso(group.created_at), "synced_at": iso(group.synced_at),
        "dismissed_at": iso(group.dismissed_at),
    }


def member_json(member: GroupMember) -> dict[str, Any]:
    return {
        "userid": member.userid,
        "type": "customer" if member.type == CUSTOMER_MEMBER else "staff",
        "name": member.name, "group_nickname": member.group_nickname,
        "join_time": iso(member.join_time), "join_scene": member.join_scene,
        "state": member.state, "unionid": member.unionid, "invitor": member.invitor,
        "left_at": iso(member.left_at), "quit_scene": member.quit_scene,
    }


async def path_row(request: web.Request, model: type[M], key: str, what: str) -> M:
    """The row whose `key` the path names; 404 when there is none."""
    value = request.match_info[key]
    row = await model.filter(**{key: value}).first()
    if row is None:
        raise NotFound(f"no {what} {value}")
    return row


async def find_group(request: web.Request) -> GroupChat:
    return await path_row(request, GroupChat, "chat_id", "group")


async def list_groups(request: web.Request) -> web.Response:
    page = Page.of(request)
    rows = GroupChat.all()
    status = query.choice(request, "status", STATUSES)
    if status != "any":
        rows = rows.filter(status=status)
    if owner := request.query.get("owner"):
        rows = rows.filter(owner=owner)
    if name := request.query.get("name_contains"):
        rows = rows.filter(name__icontains=name)
    if label := request.query.get("label"):
        labelled = GroupLabel.filter(label=label.strip()).values("chat_id")
        rows = rows.filter(chat_id__in=Subquery(labelled))
    found, total = await page.rows(rows.order_by("-created_at", "chat_id"))
    labels = await labels_of([g.chat_id for g in found])
    return page.answer([group_json(g, labels[g.chat_id]) for g in found], total)


async def get_group(request: web.Request) -> web.Response:
    group = await find_group(request)
    members = await GroupMember.filter(chat_id=group.chat_id).order_by("join_time", "id")
    labels = await labels_of([group.chat_id])
    return web.json_response({
        **group_json(group, labels[group.chat_id]), "notice": group.notice,
        "admins": list(group.admins), "member_version": group.member_version,
        "members": [member_json(m) for m in members],
    })


async def put_labels(request: web.Request) -> web.Response:
    group = await find_group(request)
    body = await read_object(request)
    body.only(("labels",))
    body.require("labels")
    labels = await replace_labels(group.chat_id, body.texts("labels"))
    log.info("admin.group.labels chat_id=%s count=%d", group.chat_id, len(labels))
    return web.json_response({"chat_id": group.chat_id, "labels": labels})


async def bulk_labels(request: web.Request) -> web.Response:
    body = await read_object(request)
    body.only(("chat_ids", "add", "remove"))
    body.require("chat_ids")
    changed = await change_labels(
        body.texts("chat_ids"), body.texts("add") if body.has("add") else [],
        body.texts("remove") if body.has("remove") else [])
    log.info("admin.group.labels_bulk groups=%d", len(changed))
    return web.json_response({"groups": [{"chat_id": chat_id, "labels": labels}
                                         for chat_id, labels in changed.items()]})


async def sync(request: web.Request) -> web.Response:
    result = await sync_groups(request.config_dict[WECOM])
    log.info("admin.groups.synced %s", result.summary())
    return web.json_response(asdict(result))


routes = [
    web.get("/groups", list_groups),
    web.post("/groups/sync", sync),
    web.post("/groups/labels", bulk_labels),
    web.get("/groups/{chat_id}", get_group),
    web.put("/groups/{chat_id}/labels", put_labels),
]
