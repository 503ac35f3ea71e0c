"""`POST /admin/api/points/adjust {"member_id", "delta", "reason", "key"}`: an operator's
correction of a member's points (handlers/points_adjust.py).

201 with the ledger entry when it moved points; the same `key` again answers 200 with
the entry of the first time and moves nothing. 404 for an unknown member, 409
`insufficient_points` when a debit would take the balance below 0, 409 `conflict` for
a key used for another adjustment. The entry's `operator` is `admin:` and the first 8
hex digits of the SHA-256 of the admin token used: which token made a change can be
told, the token itself is never stored.
"""

from __future__ import annotations

import hashlib
import logging

from aiohttp import web

from admin_api.errors import Conflict, InputError, NotFound
from admin_api.json_body import read_object
from bot.bearer import presented_token
from bot.keys import SETTINGS
from bot.request_clock import app_now
from handlers.ledger import InsufficientPoints, UnknownMember
from handlers.points_adjust import MAX_KEY_CHARS, MAX_REASON_CHARS, KeyReused, adjust_points
from handlers.points_view import entry_json

log = logging.getLogger("scrm.admin")


class NotEnoughPoints(Conflict):
    code = "insufficient_points"


def operator_of(request: web.Request) -> str:
    token = presented_token(request)
    return "admin:" + hashlib.sha256(token.encode()).hexdigest()[:8] if token else "admin"


async def adjust(request: web.Request) -> web.Response:
    body = await read_object(request)
    body.only(("member_id", "delta", "reason", "key"))
    body.require("member_id", "delta", "reason", "key")
    member_id = body.integer("member_id", minimum=1)
    delta = body.integer("delta")
    if delta == 0:
        raise InputError("delta", "must not be 0")
    reason = body.text("reason", max_chars=MAX_REASON_CHARS)
    key = body.text("key", max_chars=MAX_KEY_CHARS)
    operator = operator_of(request)
    try:
        entry, moved = await adjust_points(
            member_id, delta, key=key, reason=reason, operator=operator,
            now=app_now(request), settings=request.config_dict[SETTINGS])
    except UnknownMember:
        raise NotFound(f"no active member {member_id}") from None
    except InsufficientPoints as exc:
        raise NotEnoughPoints(f"member {member_id} has {exc.balance} points, "
                              f"{exc.wanted} cannot be taken", balance=exc.balance) from None
    except KeyReused as exc:
        raise Conflict(str(exc)) from None
    if moved:
        log.info("admin.points.adjusted member_id=%s delta=%d entry=%s operator=%s",
                 member_id, delta, entry.id, operator)
    return web.json_response(entry_json(entry, audit=True), status=201 if moved else 200)


routes = [web.post("/points/adjust", adjust)]
