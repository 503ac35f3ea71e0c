"""Tag rule routes: tags every matching new contact gets, whatever the channel.

A rule matches on channel kind, state prefix, add_way and customer type (empty: any);
onboarding marks the tags of every rule an add matches, next to the channel's own.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from admin_api.errors import InputError, NotFound
from admin_api.json_body import read_object
from bot.keys import WECOM
from bot.pagination import Page
from handlers.tags import (
    MAX_NAME_CHARS,
    RuleSpec,
    TagRef,
    UnknownTags,
    create_rule,
    delete_rule,
    names_of,
)
from models.channels import ChannelKind
from models.tags import TagRule

FIELDS = ("name", "tags", "channel_kind", "state_prefix", "add_way", "customer_type",
          "create_missing_tags")


async def _as_json(rule: TagRule) -> dict[str, Any]:
    names = await names_of(rule.tag_ids)
    return {
        "id": rule.id, "name": rule.name,
        "tags": [{"group": names[t].group, "name": names[t].name, "id": t}
                 for t in rule.tag_ids if t in names],
        "channel_kind": rule.channel_kind, "state_prefix": rule.state_prefix,
        "add_way": rule.add_way, "customer_type": rule.customer_type,
    }


def _optional_int(value: Any, field: str, allowed: range) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise InputError(field, f"must be null or an integer {allowed.start}-{allowed.stop - 1}")
    return value


async def list_rules(request: web.Request) -> web.Response:
    page = Page.of(request)
    rows, total = await page.rows(TagRule.all().order_by("id"))
    return page.answer([await _as_json(rule) for rule in rows], total)


async def create_rule_route(request: web.Request) -> web.Response:
    body = await read_object(request)
    body.only(FIELDS)
    body.require("name", "tags")
    tags = [TagRef(t.text("group", max_chars=MAX_NAME_CHARS),
                   t.text("name", max_chars=MAX_NAME_CHARS)) for t in body.children("tags")]
    if not tags:
        raise InputError("tags", "at least one tag")
    kind = body.text("channel_kind") if body.has("channel_kind") else ""
    if kind and kind not in set(ChannelKind):
        raise InputError("channel_kind", f"one of {', '.join(ChannelKind)} or empty")
    spec = RuleSpec(
        name=body.text("name", max_chars=64), tags=tags, channel_kind=kind,
        state_prefix=body.text("state_prefix") if body.has("state_prefix") else "",
        add_way=_optional_int(body.data.get("add_way"), "add_way", range(0, 1000)),
        customer_type=_optional_int(body.data.get("customer_type"), "customer_type", range(1, 3)),
    )
    if len(spec.state_prefix) > 30:
        raise InputError("state_prefix", "at most 30 characters")
    create = body.flag("create_missing_tags") if body.has("create_missing_tags") else False
    try:
        rule = await create_rule(spec, request.config_dict[WECOM], create_missing=create)
    except UnknownTags as exc:
        raise InputError("tags", str(exc)) from None
    return web.json_response(await _as_json(rule), status=201)


async def delete_rule_route(request: web.Request) -> web.Response:
    if not await delete_rule(int(request.match_info["id"])):
        raise NotFound(f"no tag rule {request.match_info['id']}")
    return web.Response(status=204)


routes = [
    web.get("/tag-rules", list_rules),
    web.post("/tag-rules", create_rule_route),
    web.delete(r"/tag-rules/{id:\d+}", delete_rule_route),
]
