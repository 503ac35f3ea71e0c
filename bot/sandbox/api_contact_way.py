"""WeCom API: 「联系我」 contact ways, wecom-protocol.md §3.5.

- `POST externalcontact/add_contact_way` {type, scene, style?, remark?, skip_verify?=true,
  state?, user?, party?, is_temp?, expires_in?, chat_expires_in?, unionid?,
  is_exclusive?, mark_source?, conclusions?} → {config_id, qr_code}. `qr_code` (scene 2
  only) is `{settings.sandbox.base_url}/sandbox/qr/{config_id}`: the console page where
  a browser plays the customer scanning it (console_qr.py).
- `POST externalcontact/get_contact_way` {config_id} → {contact_way: {...}}.
- `POST externalcontact/update_contact_way` {config_id, ...}: the fields given overwrite
  the old ones, lists included; type and scene never change.
- `POST externalcontact/del_contact_way` {config_id}.
- `POST externalcontact/list_contact_way` {start_time?, end_time?, cursor?, limit?} →
  {contact_way: [{config_id}], next_cursor}: ways created in [start_time, end_time]
  (default: the last 90 days), `limit` 100 by default, at most 1000.

Errors: type or scene missing 41037/41038, not 1 or 2 41039/41040; a style outside
type 1's 1-3 or type 2's 1-2 (scene 1 only) 41042; config_id missing 41043, unknown
41044; over 100 users 41041; over 500,000 ways 41045. Sandbox choices where WeCom's
code is not documented: remark or state over 30 characters, type 1 without exactly
one user or type 2 without users → 40058; an unknown user → 40003; a user without
customer contact → 84074; any `party` → 60123 (the sandbox corp has no departments).
Contact ways share the 500,000 quota with 「加入群聊」 join ways (api_join_way.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from aiohttp import web

from bot.sandbox.api import ApiCall, route
from bot.sandbox.api_body import flag, integer, items, text, within
from bot.sandbox.contact_ways import (
    MINIPROGRAM,
    MULTI,
    QR_CODE,
    SINGLE,
    ContactWay,
    new_config_id,
)
from bot.sandbox.errors import (
    CONTACT_WAY_LIMIT,
    CONTACT_WAY_USER_LIMIT,
    INVALID_CONFIG_ID,
    INVALID_CONTACT_WAY_SCENE,
    INVALID_CONTACT_WAY_STYLE,
    INVALID_CONTACT_WAY_TYPE,
    INVALID_PARAMETER,
    INVALID_PARTY,
    INVALID_USERID,
    MISSING_CONFIG_ID,
    MISSING_CONTACT_WAY_SCENE,
    MISSING_CONTACT_WAY_TYPE,
    NO_CONTACT_PERMISSION,
    ApiError,
)
from bot.sandbox.paging import page

STYLES = {SINGLE: (1, 2, 3), MULTI: (1, 2)}
MAX_USERS = 100
MAX_CONTACT_WAYS = 500_000
MAX_TEXT_CHARS = 30
KEPT_AS_GIVEN = ("is_temp", "expires_in", "chat_expires_in", "unionid", "is_exclusive",
                 "mark_source", "conclusions")
LIST_DEFAULT_SECONDS = 90 * 86400
LIST_DEFAULT_LIMIT = 100
LIST_MAX_LIMIT = 1000
T = TypeVar("T")


def qr_url(call: ApiCall, config_id: str) -> str:
    return f"{call.settings.sandbox.base_url}/sandbox/qr/{config_id}"


def way_json(way: ContactWay) -> dict[str, Any]:
    out: dict[str, Any] = {
        "config_id": way.config_id, "type": way.type, "scene": way.scene,
        "style": way.style, "remark": way.remark, "skip_verify": way.skip_verify,
        "state": way.state, "user": list(way.users), "party": list(way.party),
        "is_temp": False, **way.extra,
    }
    if way.scene == QR_CODE:
        out["qr_code"] = way.qr_code
    return out


def _choice(call: ApiCall, name: str, allowed: tuple[int, ...], missing: int,
            invalid: int) -> int:
    if name not in call.body:
        raise ApiError(missing)
    value = integer(call.body, name)
    if value not in allowed:
        raise ApiError(invalid)
    return value


def _users(call: ApiCall, way_type: int) -> list[str]:
    users = list(dict.fromkeys(items(call.body, "user")))
    if not users or (way_type == SINGLE and len(users) != 1):
        raise ApiError(INVALID_PARAMETER)
    if len(users) > MAX_USERS:
        raise ApiError(CONTACT_WAY_USER_LIMIT)
    for userid in users:
        staff = call.state.contacts.staff.get(userid)
        if staff is None:
            raise ApiError(INVALID_USERID)
        if not staff.customer_contact:
            raise ApiError(NO_CONTACT_PERMISSION)
    return users


def _changes(call: ApiCall, way_type: int, scene: int) -> dict[str, Any]:
    """The ContactWay attributes the body sets (add and update), all checked first."""
    body = call.body
    changes: dict[str, Any] = {}
    if scene == MINIPROGRAM and "style" in body:
        changes["style"] = integer(body, "style")
        if changes["style"] not in STYLES[way_type]:
            raise ApiError(INVALID_CONTACT_WAY_STYLE)
    for name in ("remark", "state"):
        if name in body:
            changes[name] = within(text(body, name), MAX_TEXT_CHARS)
    if "skip_verify" in body:
        changes["skip_verify"] = flag(body, "skip_verify", True)
    if "user" in body:
        changes["users"] = _users(call, way_type)
    if items(body, "party", int):
        raise ApiError(INVALID_PARTY)
    return changes


def _kept_as_given(call: ApiCall) -> dict[str, Any]:
    return {name: call.body[name] for name in KEPT_AS_GIVEN if name in call.body}


def add_contact_way(call: ApiCall) -> dict[str, Any]:
    way_type = _choice(call, "type", (SINGLE, MULTI), MISSING_CONTACT_WAY_TYPE,
                       INVALID_CONTACT_WAY_TYPE)
    scene = _choice(call, "scene", (MINIPROGRAM, QR_CODE), MISSING_CONTACT_WAY_SCENE,
                    INVALID_CONTACT_WAY_SCENE)
    changes = _changes(call, way_type, scene)
    if "users" not in changes:
        raise ApiError(INVALID_PARAMETER)
    ways = call.state.contact_ways
    if call.state.way_configs() >= MAX_CONTACT_WAYS:
        raise ApiError(CONTACT_WAY_LIMIT)
    config_id = new_config_id()
    qr_code = qr_url(call, config_id) if scene == QR_CODE else ""
    way = ways.add(ContactWay(config_id=config_id, type=way_type, scene=scene,
                              create_time=int(call.now), qr_code=qr_code,
                              extra=_kept_as_given(call), **changes))
    return {"config_id": way.config_id, **({"qr_code": qr_code} if qr_code else {})}


def named_config(body: Mapping[str, Any], table: Mapping[str, T]) -> T:
    """The way (contact or join way) the body's `config_id` names: 41043 when missing,
    41044 when unknown."""
    config_id = text(body, "config_id")
    if not config_id:
        raise ApiError(MISSING_CONFIG_ID)
    way = table.get(config_id)
    if way is None:
        raise ApiError(INVALID_CONFIG_ID)
    return way


def _named_way(call: ApiCall) -> ContactWay:
    return named_config(call.body, call.state.contact_ways.ways)


def get_contact_way(call: ApiCall) -> dict[str, Any]:
    return {"contact_way": way_json(_named_way(call))}


def update_contact_way(call: ApiCall) -> dict[str, Any]:
    way = _named_way(call)
    for name, value in _changes(call, way.type, way.scene).items():
        setattr(way, name, value)
    way.extra.update(_kept_as_given(call))
    return {}


def del_contact_way(call: ApiCall) -> dict[str, Any]:
    call.state.contact_ways.delete(_named_way(call).config_id)
    return {}


def list_contact_way(call: ApiCall) -> dict[str, Any]:
    end = integer(call.body, "end_time") or int(call.now)
    start = integer(call.body, "start_time") or end - LIST_DEFAULT_SECONDS
    limit = min(integer(call.body, "limit") or LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT)
    if limit < 0:
        raise ApiError(INVALID_PARAMETER)
    ways = [w for w in call.state.contact_ways.ways.values() if start <= w.create_time <= end]
    chunk, next_cursor = page(ways, text(call.body, "cursor"), limit)
    return {"contact_way": [{"config_id": w.config_id} for w in chunk],
            "next_cursor": next_cursor}


def routes() -> list[web.RouteDef]:
    return [
        route("POST", "externalcontact/add_contact_way", add_contact_way),
        route("POST", "externalcontact/get_contact_way", get_contact_way),
        route("POST", "externalcontact/update_contact_way", update_contact_way),
        route("POST", "externalcontact/del_contact_way", del_contact_way),
        route("POST", "externalcontact/list_contact_way", list_contact_way),
    ]
