"""`create_admin_app()`: the `/admin/api/` sub-app the operators' tools talk to.

Its own middlewares, outermost first: the error middleware (every failure leaves as
the JSON error shape) and bearer-token authentication (every route, the OpenAPI
document included). The routes come from one module per resource; the app reads the
settings, WeCom client, queue and clock from the parent app's keys.
"""

from __future__ import annotations

from aiohttp import web

from admin_api import (
    channel_media,
    channels,
    events,
    funnel,
    group_join_ways,
    groups,
    mall_items,
    mall_orders,
    mall_stock,
    members,
    openapi,
    orders,
    points,
    sop,
    sop_reports,
    tag_rules,
    tags,
    trace_batches,
    trace_events,
    trace_products,
)
from admin_api.auth import auth_middleware
from admin_api.errors import error_middleware


def create_admin_app() -> web.Application:
    app = web.Application(middlewares=[error_middleware, auth_middleware])
    # group_join_ways before groups: `/groups/join-ways` is not a `/groups/{chat_id}`.
    for module in (openapi, channels, channel_media, funnel, tags, tag_rules, events,
                   group_join_ways, groups, sop, sop_reports, members, points, orders,
                   mall_items, mall_stock, mall_orders, trace_products, trace_batches,
                   trace_events):
        app.add_routes(module.routes)
    return app
