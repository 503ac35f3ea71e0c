"""What a SOP plan will do and what it did: the dry run, the per-step report and the
per-group tasks.

- `GET /sop/plans/{id}/preview?days=&limit=`: occurrences due from now (the app's
  clock) over the next `days` (1-31, default 7), for the groups the target matches now,
  without those that already have a task; at most `limit` (1-2000, default 500) in due
  order, `truncated` when there were more. Times carry the plan's UTC offset.
- `GET /sop/plans/{id}/report`: counts per step and totals (`handlers.sop_report`).
- `GET /sop/plans/{id}/tasks?status=&step_id=`: one row per task, paged.
Report and tasks come as CSV with `?format=csv` (or `Accept: text/csv`); the tasks CSV
holds every matching task, streamed in batches. Report and tasks stay readable after
the plan is deleted; the preview of a deleted plan is 404 (it will send nothing).
"""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from admin_api.csv_export import csv_headers, stream_csv, wants_csv
from admin_api.errors import InputError
from admin_api.sop import find_plan
from bot import query
from bot.pagination import Page
from bot.request_clock import app_now
from handlers.sop_plans import plan_zone
from handlers.sop_preview import preview
from handlers.sop_report import (
    TASK_COLUMNS,
    plan_report,
    report_csv,
    task_rows,
)
from models.sop import SopTask, TaskStatus

DEFAULT_PREVIEW_DAYS = 7
MAX_PREVIEW_DAYS = 31
DEFAULT_PREVIEW_ITEMS = 500
MAX_PREVIEW_ITEMS = 2000
CSV_BATCH = 1000
_STATUSES = tuple(status.value for status in TaskStatus)


async def preview_route(request: web.Request) -> web.Response:
    days = query.integer(request, "days", DEFAULT_PREVIEW_DAYS, 1, MAX_PREVIEW_DAYS)
    limit = query.integer(request, "limit", DEFAULT_PREVIEW_ITEMS, 1, MAX_PREVIEW_ITEMS)
    plan = await find_plan(request)
    tz = plan_zone(plan)
    start = app_now(request)
    end = start + timedelta(days=days)
    found = await preview(plan, start, end, limit)
    return web.json_response({
        "plan_id": plan.id, "enabled": plan.enabled, "timezone": plan.timezone,
        "from": start.astimezone(tz).isoformat(), "until": end.astimezone(tz).isoformat(),
        "groups": found.groups, "truncated": found.truncated,
        "items": [{"chat_id": i.chat_id, "group_name": i.group_name, "owner": i.owner,
                   "step_id": i.step_id, "occurrence": i.occurrence,
                   "due_at": i.due_at.astimezone(tz).isoformat()} for i in found.items],
    })


async def report_route(request: web.Request) -> web.Response:
    csv_wanted = wants_csv(request)
    plan = await find_plan(request, live=False)
    rows, totals = await plan_report(plan.id, plan_zone(plan))
    if csv_wanted:
        return web.Response(body=report_csv(rows).encode(),
                            headers=csv_headers(f"sop-plan-{plan.id}-report.csv"))
    return web.json_response({"plan_id": plan.id, "name": plan.name,
                              "steps": [row.as_dict() for row in rows], "totals": totals})


async def tasks_route(request: web.Request) -> web.StreamResponse:
    status = request.query.get("status", "")
    if status and status not in _STATUSES:
        raise InputError("status", f"one of {', '.join(_STATUSES)}")
    step_id = query.integer(request, "step_id", 0, 1)
    csv_wanted = wants_csv(request)
    page = None if csv_wanted else Page.of(request)
    plan = await find_plan(request, live=False)
    tasks = SopTask.filter(plan_id=plan.id)
    if status:
        tasks = tasks.filter(status=status)
    if step_id:
        tasks = tasks.filter(step_id=step_id)
    tz = plan_zone(plan)
    if page is None:
        return await stream_csv(request, tasks, TASK_COLUMNS,
                                lambda batch: task_rows(batch, tz),
                                f"sop-plan-{plan.id}-tasks.csv", batch=CSV_BATCH)
    found, total = await page.rows(tasks.order_by("id"))
    return page.answer(await task_rows(found, tz), total)


routes = [
    web.get(r"/sop/plans/{id:\d+}/preview", preview_route),
    web.get(r"/sop/plans/{id:\d+}/report", report_route),
    web.get(r"/sop/plans/{id:\d+}/tasks", tasks_route),
]
