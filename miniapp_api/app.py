"""`create_miniapp_app()`: the `/miniapp/api/` sub-app the member mini-program talks to.

Its own middlewares, outermost first: the error middleware (every failure leaves as
the JSON error shape) and member-session authentication (every route but the `public`
ones: login and the 安心码 scan). The routes come from one module per area, listed in
`ROUTE_MODULES`; the app reads the settings, Redis, the WeChat clients and the clock
from the parent app's keys.
"""

from __future__ import annotations

from types import ModuleType

from aiohttp import web

from miniapp_api import login, mall, mall_orders, phone, points, privacy, profile, trace
from miniapp_api.auth import auth_middleware
from miniapp_api.body import MAX_BODY_BYTES
from miniapp_api.errors import error_middleware

ROUTE_MODULES: list[ModuleType] = [login, profile, phone, privacy, points, mall,
                                   mall_orders, trace]


def create_miniapp_app() -> web.Application:
    app = web.Application(middlewares=[error_middleware, auth_middleware],
                          client_max_size=MAX_BODY_BYTES)
    for module in ROUTE_MODULES:
        app.add_routes(module.routes)
    return app
