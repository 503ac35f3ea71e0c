"""Console: what customers and staff do to a follow relation, each firing its
change_external_contact callback (wecom-protocol.md §2.1).

Every body names `userid` and `external_userid`; `"wait": false` delivers in the
background. Each answers {"relation": {...}, "delivery": {...}} (plus "welcome_code"
for adds; transfer_fail answers only "delivery").

- `POST /sandbox/contacts/add` {state?, add_way?=1, half?=false, welcome_code?=true}:
  the customer adds the member → add_external_contact, or add_half_external_contact
  with `half` (免验证 pending; the API answers 84061 until confirmed). Adding again on a
  half relation is the member's confirmation → add_external_contact. A WelcomeCode
  (valid 20 s, single use) is issued unless `welcome_code` is false (the member already
  chatted), the member has a console welcome (staff `console_welcome`), or the relation
  already chatted (e.g. welcomed with the add_half code). Scanning a 「联系我」 QR code
  (console_qr.py) is the same action.
- `POST /sandbox/contacts/chat` → the member and the customer exchange messages (no
  callback): a welcome can no longer be sent (41051).
- `POST /sandbox/contacts/edit` {remark?, description?, remark_corp_name?,
  remark_mobiles?, add_tag?, remove_tag?} → edit_external_contact. Changing only
  remark_mobiles fires nothing (as in WeCom): "delivery" is null.
- `POST /sandbox/contacts/delete` {source?} → del_external_contact (member deleted the
  customer; `source` DELETE_BY_TRANSFER for an on-the-job transfer).
- `POST /sandbox/contacts/customer_deletes_staff` → del_follow_user (one-way; the API
  still sees the relation).
- `POST /sandbox/contacts/transfer_fail` {fail_reason?=customer_refused} → transfer_fail;
  `userid` is the receiving member.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aiohttp import web

from bot.sandbox.console_http import Body, fire, fired, read_body, state_of
from bot.sandbox.contacts import ADD_WAY_QR_CODE, FollowRelation, RelationStatus
from bot.sandbox.envelope import CallbackEvent, FieldValue
from bot.sandbox.errors import Conflict, ConsoleError
from bot.sandbox.state import SandboxState

CONTACT_EVENT = "change_external_contact"
EDITABLE_TEXTS = ("remark", "description", "remark_corp_name")
FAIL_REASONS = ("customer_refused", "customer_limit_exceed")
DELETE_SOURCES = ("", "DELETE_BY_TRANSFER")
ON_MEMBER_LIST = {RelationStatus.ACTIVE, RelationStatus.DELETED_BY_CUSTOMER}


def contact_event(change_type: str, userid: str, external_userid: str,
                  *extra: tuple[str, FieldValue | None]) -> CallbackEvent:
    return CallbackEvent(CONTACT_EVENT, change_type,
                         (("UserID", userid), ("ExternalUserID", external_userid), *extra))


def relation_in(state: SandboxState, body: Body,
                allowed: set[RelationStatus]) -> FollowRelation:
    """The relation the body names, which must be in one of the `allowed` statuses."""
    relation = state.contacts.require_relation(body.text("userid"), body.text("external_userid"))
    if relation.status not in allowed:
        raise Conflict(f"the relation is {relation.status.value}")
    return relation


async def relation_changed(request: web.Request, body: Body, relation: FollowRelation,
                           change_type: str, *extra: tuple[str, FieldValue | None],
                           **answer: Any) -> web.Response:
    event = contact_event(change_type, relation.userid, relation.external_userid, *extra)
    return await fire(request, event, body.wait, relation=asdict(relation), **answer)


async def customer_adds(
    request: web.Request, userid: str, external_userid: str, *, state: str = "",
    add_way: int = ADD_WAY_QR_CODE, half: bool = False, welcome_code: bool = True,
    wait: bool = True,
) -> dict[str, Any]:
    """The customer adds the member (see `contacts/add`): the relation, its WelcomeCode
    when one is due, and the add event → {"relation", "welcome_code", "delivery"}."""
    sandbox = state_of(request)
    now = sandbox.now()
    relation = sandbox.contacts.follow(userid, external_userid, createtime=int(now),
                                       half=half, state=state, add_way=add_way)
    due = (welcome_code and not relation.chatted
           and not sandbox.contacts.staff[userid].console_welcome)
    code = sandbox.welcome_codes.issue(userid, external_userid, now) if due else ""
    change_type = "add_half_external_contact" if half else "add_external_contact"
    event = contact_event(change_type, userid, external_userid,
                          ("State", relation.state or None), ("WelcomeCode", code or None))
    return await fired(request, event, wait, relation=asdict(relation), welcome_code=code)


async def add_contact(request: web.Request) -> web.Response:
    body = await read_body(request)
    return web.json_response(await customer_adds(
        request, body.text("userid"), body.text("external_userid"),
        state=body.text("state", ""), add_way=body.integer("add_way", ADD_WAY_QR_CODE),
        half=body.flag("half", False), welcome_code=body.flag("welcome_code", True),
        wait=body.wait,
    ))


async def chat(request: web.Request) -> web.Response:
    body, state = await read_body(request), state_of(request)
    relation = relation_in(state, body, {RelationStatus.ACTIVE})
    relation.chatted = True
    return web.json_response({"relation": asdict(relation)})


async def edit_contact(request: web.Request) -> web.Response:
    body, state = await read_body(request), state_of(request)
    relation = relation_in(state, body, ON_MEMBER_LIST)
    added, removed = body.texts("add_tag"), body.texts("remove_tag")
    for tag_id in added + removed:
        state.tags.require_tag(tag_id)
    texts = [name for name in EDITABLE_TEXTS if body.has(name)]
    for name in texts:
        setattr(relation, name, body.text(name))
    if body.has("remark_mobiles"):
        relation.remark_mobiles = body.texts("remark_mobiles")
    state.contacts.retag(relation, added, removed)
    if not (texts or added or removed):
        return web.json_response({"relation": asdict(relation), "delivery": None})
    return await relation_changed(request, body, relation, "edit_external_contact")


async def delete_contact(request: web.Request) -> web.Response:
    body, state = await read_body(request), state_of(request)
    source = body.text("source", "")
    if source not in DELETE_SOURCES:
        raise ConsoleError(f"source must be one of {DELETE_SOURCES}")
    relation = relation_in(state, body, ON_MEMBER_LIST)
    relation.status = RelationStatus.DELETED_BY_STAFF
    return await relation_changed(request, body, relation, "del_external_contact",
                                  ("Source", source or None))


async def customer_deletes_staff(request: web.Request) -> web.Response:
    body, state = await read_body(request), state_of(request)
    relation = relation_in(state, body, {RelationStatus.ACTIVE})
    relation.status = RelationStatus.DELETED_BY_CUSTOMER
    return await relation_changed(request, body, relation, "del_follow_user")


async def transfer_fail(request: web.Request) -> web.Response:
    body, state = await read_body(request), state_of(request)
    reason = body.text("fail_reason", FAIL_REASONS[0])
    if reason not in FAIL_REASONS:
        raise ConsoleError(f"fail_reason must be one of {FAIL_REASONS}")
    userid = state.contacts.require_staff(body.text("userid")).userid
    external_userid = state.contacts.require_customer(body.text("external_userid")).external_userid
    event = contact_event("transfer_fail", userid, external_userid, ("FailReason", reason))
    return await fire(request, event, body.wait)


def routes() -> list[web.RouteDef]:
    return [
        web.post("/contacts/add", add_contact),
        web.post("/contacts/chat", chat),
        web.post("/contacts/edit", edit_contact),
        web.post("/contacts/delete", delete_contact),
        web.post("/contacts/customer_deletes_staff", customer_deletes_staff),
        web.post("/contacts/transfer_fail", transfer_fail),
    ]
