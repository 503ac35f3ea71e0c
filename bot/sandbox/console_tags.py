"""Console: corp-tag changes made in the admin console, each firing change_external_tag
(§2.3) with Id, TagType and, when given, StrategyId.

`POST /sandbox/tags/event` {change_type, ..., strategy_id?, wait?}:
- "create" {tag_type: "tag_group", name, tags?: [names], order?} or
  {tag_type: "tag", group_id, name, order?}.
- "update" {tag_type, id, name?, order?}.
- "delete" {tag_type, id}: a group goes with its tags; deleted tags leave every customer.
- "shuffle" {id?}: reverses the order of a group's tags (of all groups when id is
  empty); the event has no TagType.
Answers {"id": ..., "tag_ids": [...], "delivery": {...}} (`tag_ids`: the tags created
or deleted).
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from bot.sandbox.console_http import Body, fire, read_body, state_of
from bot.sandbox.envelope import CallbackEvent
from bot.sandbox.errors import ConsoleError
from bot.sandbox.state import SandboxState
from bot.sandbox.tags import GROUP_KIND, TAG_KIND

TAG_EVENT = "change_external_tag"
KINDS = (TAG_KIND, GROUP_KIND)


def kind_of(body: Body) -> str:
    kind = body.text("tag_type")
    if kind not in KINDS:
        raise ConsoleError(f"tag_type must be one of {KINDS}")
    return kind


def create(state: SandboxState, body: Body, kind: str) -> tuple[str, list[str]]:
    now, order = int(state.now()), body.integer("order", 0)
    if kind == TAG_KIND:
        tag = state.tags.add_tag(body.text("group_id"), body.text("name"), now, order)
        return tag.tag_id, [tag.tag_id]
    group = state.tags.add_group(body.text("name"), now, order)
    tag_ids = [state.tags.add_tag(group.group_id, name, now).tag_id
               for name in body.texts("tags")]
    return group.group_id, tag_ids


def update(state: SandboxState, body: Body, kind: str) -> tuple[str, list[str]]:
    item_id = body.text("id")
    item = state.tags.require(kind, item_id)
    item.name = body.text("name", item.name)
    item.order = body.integer("order", item.order)
    return item_id, []


def delete(state: SandboxState, body: Body, kind: str) -> tuple[str, list[str]]:
    item_id = body.text("id")
    removed = state.tags.delete(kind, item_id)
    state.contacts.remove_tags(removed)
    return item_id, removed


CHANGES: dict[str, Callable[[SandboxState, Body, str], tuple[str, list[str]]]] = {
    "create": create,
    "update": update,
    "delete": delete,
}


async def tag_event(request: web.Request) -> web.Response:
    body, state = await read_body(request), state_of(request)
    change_type = body.text("change_type")
    strategy = body.integer("strategy_id") if body.has("strategy_id") else None
    kind: str | None = None
    tag_ids: list[str] = []
    if change_type == "shuffle":
        item_id = body.text("id", "")
        state.tags.shuffle(item_id)
    elif change_type in CHANGES:
        kind = kind_of(body)
        item_id, tag_ids = CHANGES[change_type](state, body, kind)
    else:
        raise ConsoleError(f"change_type must be one of {[*CHANGES, 'shuffle']}")
    fields = (("Id", item_id), ("TagType", kind), ("StrategyId", strategy))
    event = CallbackEvent(TAG_EVENT, change_type, fields)
    return await fire(request, event, body.wait, id=item_id, tag_ids=tag_ids)


def routes() -> list[web.RouteDef]:
    return [web.post("/tags/event", tag_event)]
