"""SOP plan routes: create, list, read, change and delete group SOP plans.

Each route reads its input (`sop_input`), calls `handlers.sop_plans` with "now" from
the app's clock, and answers the plan as `plan_json` shapes it. A step is shown in the
shape it is given (plus its `id`), so a client can send back what it read. Deleting is
soft: the plan stops and answers 404 here from then on, while its report and tasks
(`sop_reports`) stay readable, since what was sent is history.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from admin_api.errors import NotFound
from admin_api.json_body import read_object
from admin_api.serialize import iso
from admin_api.sop_input import apply_changes, new_spec
from bot import query
from bot.pagination import Page
from bot.request_clock import app_now
from handlers.sop_plans import (
    ANCHOR_OF,
    TargetSpec,
    create_plan,
    delete_plan,
    live_steps,
    plan_zone,
    spec_of,
    update_plan,
)
from models.sop import SopPlan, SopStep, StepSchedule

log = logging.getLogger("scrm.admin")



async def find_plan(request: web.Request, *, live: bool = True) -> SopPlan:
    """The plan named by the path's id; with `live`, 404 for a deleted one too."""
    plan_id = query.path_id(request)
    plan = await SopPlan.get_or_none(id=plan_id)
    if plan is None:
        raise NotFound(f"no SOP plan with id {plan_id}")
    if live and plan.deleted_at is not None:
        raise NotFound(f"SOP plan {plan_id} was deleted")
    return plan


def step_json(step: SopStep, tz: ZoneInfo) -> dict[str, Any]:
    when: dict[str, Any]
    if step.schedule == StepSchedule.AT:
        when = {"at": step.at.astimezone(tz).isoformat() if step.at else None}
    elif step.schedule == StepSchedule.EVERY:
        when = {"every": step.every, "time": step.time}
    else:
        when = {"anchor": ANCHOR_OF[step.schedule], "day_offset": step.day_offset,
                "time": step.time}
    return {"id": step.id, **when, "text": step.text, "attachments": list(step.attachments)}


def plan_json(plan: SopPlan, steps: Sequence[SopStep]) -> dict[str, Any]:
    tz = plan_zone(plan)
    return {
        "id": plan.id,
        "name": plan.name,
        "target": TargetSpec.stored(plan.target).as_json(),
        "timezone": plan.timezone,
        "enabled": plan.enabled,
        "steps": [step_json(step, tz) for step in steps],
        "created_at": iso(plan.created_at),
        "updated_at": iso(plan.updated_at),
        "deleted_at": iso(plan.deleted_at),
    }


async def list_plans(request: web.Request) -> web.Response:
    page = Page.of(request)
    rows = SopPlan.all()
    if not query.flag(request, "include_deleted"):
        rows = rows.filter(deleted_at=None)
    found, total = await page.rows(rows.order_by("id"))
    steps = await live_steps([plan.id for plan in found])
    return page.answer([plan_json(plan, steps[plan.id]) for plan in found], total)


async def create_plan_route(request: web.Request) -> web.Response:
    spec = new_spec(await read_object(request))
    plan, steps = await create_plan(spec, app_now(request))
    log.info("admin.sop_plan.created id=%s steps=%s enabled=%s", plan.id, len(steps),
             plan.enabled)
    return web.json_response(plan_json(plan, steps), status=201)


async def get_plan(request: web.Request) -> web.Response:
    plan = await find_plan(request)
    return web.json_response(plan_json(plan, (await live_steps([plan.id]))[plan.id]))


async def patch_plan(request: web.Request) -> web.Response:
    plan = await find_plan(request)
    body = await read_object(request)
    spec = apply_changes(spec_of(plan, (await live_steps([plan.id]))[plan.id]), body)
    steps = await update_plan(plan, spec, app_now(request))
    log.info("admin.sop_plan.updated id=%s fields=%s", plan.id, ",".join(sorted(body.data)))
    return web.json_response(plan_json(plan, steps))


async def delete_plan_route(request: web.Request) -> web.Response:
    plan = await find_plan(request)
    await delete_plan(plan, app_now(request))
    log.info("admin.sop_plan.deleted id=%s", plan.id)
    return web.Response(status=204)


routes = [
    web.get("/sop/plans", list_plans),
    web.post("/sop/plans", create_plan_route),
    web.get(r"/sop/plans/{id:\d+}", get_plan),
    web.patch(r"/sop/plans/{id:\d+}", patch_plan),
    web.delete(r"/sop/plans/{id:\d+}", delete_plan_route),
]
