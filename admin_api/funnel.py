"""`GET /channels/{id}/funnel`: a channel's funnel report as JSON or CSV.

`?from=&to=` (UTC days, inclusive; default the last 30 days up to today by the app's
clock), `?by=day|guide`, `?format=json|csv`. The report is `handlers.funnel`'s; this
module checks the query and picks the format. A deleted channel's funnel stays
readable: its history is what the report is for.
"""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from admin_api.channels import find_channel
from admin_api.errors import InputError
from bot import query
from bot.request_clock import app_now
from handlers.funnel import channel_funnel, funnel_csv

DEFAULT_DAYS = 30
MAX_DAYS = 366


async def funnel_route(request: web.Request) -> web.Response:
    today = app_now(request).date()
    end = query.day(request, "to", today)
    start = query.day(request, "from", end - timedelta(days=DEFAULT_DAYS - 1))
    if start > end:
        raise InputError("from", "must not be after to")
    if (end - start).days >= MAX_DAYS:
        raise InputError("from", f"at most {MAX_DAYS} days from to")
    by = query.choice(request, "by", ("day", "guide"))
    form = query.choice(request, "format", ("json", "csv"))
    channel = await find_channel(request, live=False)
    rows = await channel_funnel(channel.id, start, end, by)
    if form == "csv":
        filename = f"channel-{channel.id}-funnel-{start}-{end}.csv"
        return web.Response(text=funnel_csv(rows), content_type="text/csv", charset="utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{filename}"'})
    return web.json_response({"channel_id": channel.id, "from": start.isoformat(),
                              "to": end.isoformat(), "by": by,
                              "rows": [row.as_dict() for row in rows]})


routes = [web.get(r"/channels/{id:\d+}/funnel", funnel_route)]
