"""`POST /trace/scan {"code", "pin"?, "city"?}`: the mini-program's 安心码 scan
(handlers/trace_scan.py), answered as handlers/trace_view.py has it.

The route is public: anyone may check a code. A member session is optional; with a
valid `Authorization: Bearer <token>` the member earns the first verification's
points, and a token that is not valid is a 401 like everywhere else (a member who
thinks they are logged in must not silently miss their points). `city` is what the
phone's location says (the mini-program asks for it); the client is the address the
server sees (`request.remote`, as for the login limit).

A forged or unknown code is an answer, 200 with verdict `not_genuine`. Refusals: 400
`invalid_input` (no `code`), 400 `wrong_pin` (+ `attempts_left`), 429 `rate_limited`
(+ `Retry-After`: the client's failed verifications for this minute are used up).
"""

from __future__ import annotations

from aiohttp import web

from bot.bearer import presented_token
from bot.http_errors import ApiError, InputError
from bot.json_body import JsonObject
from bot.keys import REDIS, SETTINGS
from bot.request_clock import app_now
from handlers.member_sessions import authenticate
from handlers.trace_links import MAX_URI_CHARS
from handlers.trace_scan import MAX_CITY_CHARS, RateLimited, WrongPin, scan
from handlers.trace_view import scan_body
from miniapp_api.auth import public
from miniapp_api.body import read_object
from miniapp_api.errors import TooManyRequests, Unauthorized

MAX_PIN_CHARS = 32


class ScanRateLimited(TooManyRequests):
    def __init__(self, exc: RateLimited) -> None:
        super().__init__(str(exc), retry_after=exc.retry_after)
        self.headers = {"Retry-After": str(exc.retry_after)}


class WrongPinRefused(ApiError):
    code = "wrong_pin"

    def __init__(self, exc: WrongPin) -> None:
        super().__init__("the PIN does not match the code"
                         + ("; the code is now locked" if not exc.attempts_left else ""),
                         attempts_left=exc.attempts_left)


async def _member_id(request: web.Request) -> int | None:
    """The member of the request's session, None without a token; 401 for a token that
    opens no session."""
    token = presented_token(request)
    if not token:
        return None
    session = await authenticate(token, app_now(request))
    if session is None:
        raise Unauthorized("the session is not valid (expired, ended or unknown); log in "
                           "again, or scan without a token")
    return int(session.member_id)  # type: ignore[attr-defined]


def _optional_text(body: JsonObject, name: str, max_chars: int) -> str | None:
    if body.data.get(name) is None:
        return None
    value = body.text(name)
    if len(value) > max_chars:
        raise InputError(body.path(name), f"at most {max_chars} characters")
    return value


@public
async def scan_route(request: web.Request) -> web.Response:
    member_id = await _member_id(request)
    body = await read_object(request)
    body.only(("code", "pin", "city"))
    body.require("code")
    code = body.text("code", max_chars=MAX_URI_CHARS)
    pin = _optional_text(body, "pin", MAX_PIN_CHARS)
    city = _optional_text(body, "city", MAX_CITY_CHARS) or ""
    config = request.config_dict
    settings = config[SETTINGS]
    try:
        result = await scan(code, member_id=member_id, city=city, client=request.remote or "",
                            user_agent=request.headers.get("User-Agent", ""), pin=pin,
                            settings=settings, redis=config[REDIS], now=app_now(request))
    except RateLimited as exc:
        raise ScanRateLimited(exc) from None
    except WrongPin as exc:
        raise WrongPinRefused(exc) from None
    return web.Response(body=scan_body(result, settings.trace), content_type="application/json",
                        charset="utf-8")


routes = [web.post("/trace/scan", scan_route)]
