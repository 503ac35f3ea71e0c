"""Member sessions at the edge: every mini-program route but the ones marked `public`
(login) takes `Authorization: Bearer <token>`, a token from login.

The session is looked up on every request (handlers.member_sessions.authenticate: one
primary-key query joined to the member), so a logout, an erasure or an expiry takes
effect on the very next request. Routes marked `cached` (GET /me) first try the
process's answer cache (handlers/member_cache.py): a hit checks the session's expiry
against the app clock and is evicted by any change to the member, so the same holds
there (on another process: within the pub/sub delay, at most its TTL). A missing,
expired, revoked or unknown token is a 401 in the JSON error shape, and the token is never logged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.bearer import presented_token
from bot.keys import CLOCK, MEMBER_CACHE
from bot.request_clock import app_now
from handlers.member_sessions import authenticate, token_hash
from miniapp_api.errors import Unauthorized
from models.members import Member, MemberSession

SESSION = web.RequestKey("member_session", MemberSession)
# The answer cache's generation before this request's database reads began.
CACHE_GENERATION = web.RequestKey("member_cache_generation", int)

RouteHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def public(handler: RouteHandler) -> RouteHandler:
    """Mark a route as open without a session (login)."""
    handler.public = True  # type: ignore[attr-defined]
    return handler


def cached(handler: RouteHandler) -> RouteHandler:
    """Mark a route whose answer depends only on the member (and is kept with
    `remember`): served from the process's answer cache while it is valid."""
    handler.cached = True  # type: ignore[attr-defined]
    return handler


def remember(request: web.Request, response: web.Response) -> web.Response:
    """Keep a `cached` route's JSON answer for this session."""
    session, body = session_of(request), response.body
    if isinstance(body, bytes):
        request.config_dict[MEMBER_CACHE].put(
            session.token_hash, int(session.member_id),  # type: ignore[attr-defined]
            session.expires_at.timestamp(), body, request[CACHE_GENERATION],
            request.config_dict[CLOCK]())
    return response



@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    route = request.match_info.route.handler
    if getattr(route, "public", False):
        return await handler(request)
    token = presented_token(request)
    if not token:
        raise Unauthorized("an Authorization: Bearer <token> header is required")
    if getattr(route, "cached", False):
        cache = request.config_dict[MEMBER_CACHE]
        body = cache.answer(token_hash(token), request.config_dict[CLOCK]())
        if body is not None:
            return web.Response(body=body, content_type="application/json", charset="utf-8")
        request[CACHE_GENERATION] = cache.generation
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
