"""WeCom API: customer contact (客户联系) reads and the remark, wecom-protocol.md §3.2-3.4.

- `GET externalcontact/get`: one customer with the members following them.
- `GET|POST externalcontact/get_follow_user_list`: members with customer contact enabled.
- `POST externalcontact/batch/get_by_user`: the customers of up to 100 members, paged.
- `POST externalcontact/remark`: the member's remark, description, company and mobiles
  for the customer (remark ≤ 20 chars, description ≤ 150, remark_company ≤ 20, else
  40058). Like every API change, it fires no callback.

Relations that are half-added (免验证 pending) or deleted by the member are invisible
(84061 when nothing else is left, or when the relation an API names is one of them);
relations the customer deleted stay visible. Unknown or malformed external_userid →
40096. Missing userid → 41009, unknown → 40003; a member without customer contact →
84074; userid_list empty, malformed or over 100 → 40058.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.sandbox.api import ApiCall, route
from bot.sandbox.api_body import items, text, within
from bot.sandbox.contacts import Contacts, Customer, FollowRelation
from bot.sandbox.errors import (
    INVALID_EXTERNAL_USERID,
    INVALID_PARAMETER,
    INVALID_USERID,
    MISSING_EXTERNAL_USERID,
    MISSING_USERID,
    NO_CONTACT_PERMISSION,
    NO_RELATIONSHIP,
    ApiError,
)
from bot.sandbox.ids import is_external_userid
from bot.sandbox.paging import page
from bot.sandbox.tags import CorpTags

FOLLOW_USER_PAGE = 500
BATCH_MAX_USERIDS = 100
BATCH_DEFAULT_LIMIT = 50
BATCH_MAX_LIMIT = 100
WECHAT_USER = 1
# externalcontact/remark: body field → (relation attribute, max characters).
REMARK_FIELDS = {
    "remark": ("remark", 20),
    "description": ("description", 150),
    "remark_company": ("remark_corp_name", 20),
}


def contact_json(customer: Customer) -> dict[str, Any]:
    """`external_contact`: unionid only for WeChat users; corp fields only for WeCom users."""
    out: dict[str, Any] = {
        "external_userid": customer.external_userid,
        "name": customer.name,
        "avatar": customer.avatar,
        "type": customer.type,
        "gender": customer.gender,
    }
    if customer.type == WECHAT_USER:
        if customer.unionid:
            out["unionid"] = customer.unionid
    else:
        out.update(position=customer.position, corp_name=customer.corp_name,
                   corp_full_name=customer.corp_full_name,
                   external_profile={"external_attr": []})
    return out


def _follow_fields(relation: FollowRelation) -> dict[str, Any]:
    return {
        "userid": relation.userid,
        "remark": relation.remark,
        "description": relation.description,
        "createtime": relation.createtime,
        "remark_corp_name": relation.remark_corp_name,
        "remark_mobiles": list(relation.remark_mobiles),
        "oper_userid": relation.oper_userid,
        "add_way": relation.add_way,
        "state": relation.state,
    }


def follow_user_json(relation: FollowRelation, tags: CorpTags) -> dict[str, Any]:
    """One `follow_user[]` entry of externalcontact/get (tags described in full)."""
    return {**_follow_fields(relation), "tags": [tags.describe(t) for t in relation.tag_ids]}


def follow_info_json(relation: FollowRelation) -> dict[str, Any]:
    """The `follow_info` of batch/get_by_user (a flat `tag_id[]`)."""
    return {**_follow_fields(relation), "tag_id": list(relation.tag_ids)}


def customer_named(contacts: Contacts, external_userid: str) -> Customer:
    """The customer an API call names: 41035 when empty, 40096 when malformed or unknown."""
    if not external_userid:
        raise ApiError(MISSING_EXTERNAL_USERID)
    customer = contacts.customers.get(external_userid)
    if not is_external_userid(external_userid) or customer is None:
        raise ApiError(INVALID_EXTERNAL_USERID)
    return customer


def visible_relation(call: ApiCall) -> FollowRelation:
    """The relation named by the body's `userid` and `external_userid`, which the API may
    act on (84061 when it does not exist, is half-added or the member deleted it)."""
    contacts = call.state.contacts
    userid = text(call.body, "userid")
    if not userid:
        raise ApiError(MISSING_USERID)
    external_userid = customer_named(contacts, text(call.body, "external_userid")).external_userid
    if userid not in contacts.staff:
        raise ApiError(INVALID_USERID)
    relation = contacts.relation(userid, external_userid)
    if relation is None or not relation.visible:
        raise ApiError(NO_RELATIONSHIP)
    return relation


def get_contact(call: ApiCall) -> dict[str, Any]:
    contacts = call.state.contacts
    customer = customer_named(contacts, call.query.get("external_userid", ""))
    external_userid = customer.external_userid
    visible = [r for r in contacts.followers_of(external_userid) if r.visible]
    if not visible:
        raise ApiError(NO_RELATIONSHIP)
    followers, next_cursor = page(visible, call.query.get("cursor", ""), FOLLOW_USER_PAGE)
    return {
        "external_contact": contact_json(customer),
        "follow_user": [follow_user_json(r, call.state.tags) for r in followers],
        "next_cursor": next_cursor,
    }


def follow_user_list(call: ApiCall) -> dict[str, Any]:
    staff = call.state.contacts.staff.values()
    return {"follow_user": [s.userid for s in staff if s.customer_contact]}


def batch_get_by_user(call: ApiCall) -> dict[str, Any]:
    userids = _userid_list(call.body.get("userid_list"))
    contacts = call.state.contacts
    for userid in userids:
        if userid not in contacts.staff:
            raise ApiError(INVALID_USERID)
        if not contacts.staff[userid].customer_contact:
            raise ApiError(NO_CONTACT_PERMISSION)
    relations = [r for u in userids for r in contacts.followed_by(u) if r.visible]
    chunk, next_cursor = page(relations, text(call.body, "cursor"), _limit(call.body))
    return {
        "external_contact_list": [
            {"external_contact": contact_json(contacts.customers[r.external_userid]),
             "follow_info": follow_info_json(r)}
            for r in chunk
        ],
        "next_cursor": next_cursor,
    }


def _userid_list(value: Any) -> list[str]:
    if (not isinstance(value, list) or not value or len(value) > BATCH_MAX_USERIDS
            or not all(isinstance(u, str) for u in value)):
        raise ApiError(INVALID_PARAMETER)
    return list(dict.fromkeys(value))


def _limit(body: dict[str, Any]) -> int:
    """`limit`: default 50 (also for 0, WeCom's "unset"), clamped to 100."""
    limit = body.get("limit") or BATCH_DEFAULT_LIMIT
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ApiError(INVALID_PARAMETER)
    return min(limit, BATCH_MAX_LIMIT)


def remark(call: ApiCall) -> dict[str, Any]:
    relation = visible_relation(call)
    changes: dict[str, Any] = {attribute: within(text(call.body, name), max_chars)
               for name, (attribute, max_chars) in REMARK_FIELDS.items() if name in call.body}
    if "remark_mobiles" in call.body:
        # WeCom clears the mobiles with [""].
        changes["remark_mobiles"] = [m for m in items(call.body, "remark_mobiles") if m]
    for attribute, value in changes.items():
        setattr(relation, attribute, value)
    return {}


def routes() -> list[web.RouteDef]:
    return [
        route("GET", "externalcontact/get", get_contact),
        route("GET", "externalcontact/get_follow_user_list", follow_user_list),
        route("POST", "externalcontact/get_follow_user_list", follow_user_list),
        route("POST", "externalcontact/batch/get_by_user", batch_get_by_user),
        route("POST", "externalcontact/remark", remark),
    ]
