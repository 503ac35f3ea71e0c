"""The member's points: `POST /checkin` (the daily check-in), `GET /me/points` (balance
and what expires soon) and `GET /me/points/ledger` (their ledger, newest first, paged
like the admin lists: `?limit=&offset=` → `{"items", "total", "limit", "offset"}`).

A second check-in on the same day (Asia/Shanghai, by the app clock) is a 409
`already_checked_in`, however many arrive at once.
"""

from __future__ import annotations

from aiohttp import web

from bot.http_errors import Conflict
from bot.keys import SETTINGS
from bot.pagination import Page
from bot.request_clock import app_now
from handlers.checkin import AlreadyCheckedIn, check_in
from handlers.ledger import points_summary
from handlers.points_view import entry_json
from miniapp_api.auth import member_id_of, member_of
from models.points import PointsEntry


class CheckedInToday(Conflict):
    code = "already_checked_in"


async def checkin(request: web.Request) -> web.Response:
    try:
        done = await check_in(member_of(request), request.config_dict[SETTINGS],
                              app_now(request))
    except AlreadyCheckedIn as exc:
        raise CheckedInToday(f"already checked in today ({exc.day.isoformat()})",
                             day=exc.day.isoformat()) from None
    return web.json_response({
        "day": done.day.isoformat(), "awarded": done.awarded, "daily": done.daily,
        "streak_bonus": done.streak_bonus, "birthday_bonus": done.birthday_bonus,
        "streak": done.streak, "balance": done.balance})


async def my_points(request: web.Request) -> web.Response:
    soon_days = request.config_dict[SETTINGS].points.expiring_soon_days
    summary = await points_summary(member_id_of(request), app_now(request), soon_days)
    return web.json_response({
        "balance": summary.balance, "expiring_soon": summary.expiring_soon,
        "expiring_soon_days": soon_days,
        "next_expiry": summary.next_expiry.isoformat() if summary.next_expiry else None})


async def my_ledger(request: web.Request) -> web.Response:
    page = Page.of(request)
    entries, total = await page.rows(
        PointsEntry.filter(member_id=member_id_of(request)).order_by("-id"))
    return page.answer([entry_json(entry) for entry in entries], total)


routes = [
    web.post("/checkin", checkin),
    web.get("/me/points", my_points),
    web.get("/me/points/ledger", my_ledger),
]
