"""Member sessions at the edge: every mini-program route but the ones marked `public`
(login) takes `Authorization: Bearer <token>`, a token from login.

The session is looked up on every request (handlers.member_sessions.authenticate: one
primary-key query joined to the member), so a logout, an erasure or an expiry takes
effect on the very next request. A missing, expired, revoked or unknown token is a 401
in the JSON error shape, and the token is never logged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.bearer import presented_token
from bot.keys import CLOCK
from handlers.member_sessions import authenticate
from miniapp_api.errors import Unauthorized
from models.members import Member, MemberSession

SESSION = web.RequestKey("member_session", MemberSession)

RouteHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def public(handler: RouteHandler) -> RouteHandler:
    """Mark a route as open without a session (login)."""
    handler.public = True  # type: ignore[attr-defined]
    return handler


def app_now(request: web.Request) -> datetime:
    return datetime.fromtimestamp(request.config_dict[CLOCK](), UTC)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if getattr(request.match_info.route.handler, "public", False):
        return await handler(request)
    token = presented_token(request)
    if not token:
        raise Unauthorized("an Authorization: Bearer <token> header is required")
    session = await authenticate(token, app_now(request))
    if session is None:
        raise Unauthorized("the session is not valid (expired, ended or unknown); log in again")
    request[SESSION] = session
    return await handler(request)


def member_id_of(request: web.Request) -> int:
    """The authenticated member's id (routes behind the auth middleware only)."""
    return int(request[SESSION].member_id)  # type: ignore[attr-defined]


def member_of(request: web.Request) -> Member:
    """The authenticated member's row, as read with the session."""
    return request[SESSION].member


def session_of(request: web.Request) -> MemberSession:
    return request[SESSION]
