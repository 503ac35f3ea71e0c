"""Bearer-token authentication for every admin route.

Tokens come from `[admin] tokens`. The presented token is compared with each configured
one by `hmac.compare_digest`, always against all of them, so neither the comparison nor
the number of comparisons tells how close a guess was or which token matched. An empty
token list refuses everyone. The token is never logged.
"""

from __future__ import annotations

import hmac

from aiohttp import web
from aiohttp.typedefs import Handler

from admin_api.errors import Unauthorized
from bot.bearer import presented_token
from bot.keys import SETTINGS


def is_known(token: str, tokens: tuple[str, ...]) -> bool:
    given = token.encode("utf-8", "surrogateescape")
    matched = False
    for known in tokens:
        # `|` and not `or`: every configured token is compared, match or not.
        matched |= hmac.compare_digest(given, known.encode("utf-8"))
    return matched and bool(given)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    token = presented_token(request)
    if not token:
        raise Unauthorized("an Authorization: Bearer <token> header is required")
    if not is_known(token, request.config_dict[SETTINGS].admin.tokens):
        raise Unauthorized("unknown token")
    return await handler(request)
