"""A SOP plan's JSON body, read into the domain's `PlanSpec`.

`new_spec` reads a create body (`name`, `target` and `steps` required: an empty
`target` {} means every group, and is never assumed); `apply_changes` applies the fields
a PATCH body carries to the spec of the stored plan (`steps` and `target` replace
what was there). Both check field names and JSON types only; the plan rules (lengths,
time zones, schedules, placeholders, attachments, step ids) are `handlers.sop_plans`'.
A null target field, or a null optional step field, counts as left out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from admin_api.errors import InputError
from admin_api.json_body import JsonObject
from handlers.sop_plans import PlanSpec, StepSpec, TargetSpec

TARGET_FIELDS = ("owners", "name_contains", "labels", "chat_ids", "created_from",
                 "created_until")
STEP_FIELDS = ("id", "day_offset", "anchor", "time", "at", "every", "text", "attachments")


def _given(body: JsonObject, name: str) -> bool:
    return body.data.get(name) is not None


def _day(body: JsonObject, name: str) -> date | None:
    if not _given(body, name):
        return None
    raw = body.data[name]
    if isinstance(raw, str) and len(raw) == len("2026-01-01"):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    raise InputError(body.path(name), "must be a date, YYYY-MM-DD")


def _moment(body: JsonObject, name: str) -> datetime:
    """An ISO 8601 date-time; without a UTC offset it is the plan's local time."""
    try:
        return datetime.fromisoformat(body.text(name))
    except ValueError:
        raise InputError(body.path(name), "not an ISO 8601 date-time, e.g. "
                                          "2026-12-01T10:00 or 2026-12-01T10:00:00+08:00"
                         ) from None


def _target(body: JsonObject, name: str) -> TargetSpec:
    target = TargetSpec()
    if not _given(body, name):
        return target
    given = body.child(name)
    given.only(TARGET_FIELDS)
    for field in ("owners", "labels", "chat_ids"):
        if _given(given, field):
            setattr(target, field, given.texts(field))
    if _given(given, "name_contains"):
        target.name_contains = given.text("name_contains")
    target.created_from = _day(given, "created_from")
    target.created_until = _day(given, "created_until")
    return target


def _step(body: JsonObject) -> StepSpec:
    body.only(STEP_FIELDS)
    step = StepSpec()
    if _given(body, "id"):
        step.id = body.integer("id", minimum=1)
    if _given(body, "day_offset"):
        step.day_offset = body.integer("day_offset")
    for field in ("anchor", "time", "every", "text"):
        if _given(body, field):
            setattr(step, field, body.text(field))
    if _given(body, "at"):
        step.at = _moment(body, "at")
    if _given(body, "attachments"):
        step.attachments = body.objects("attachments")
    return step


def _steps(body: JsonObject, name: str) -> list[StepSpec]:
    return [_step(item) for item in body.children(name)]


# Each body field sets the `PlanSpec` attribute of the same name.
_READERS: dict[str, Callable[[JsonObject, str], Any]] = {
    "name": JsonObject.text,
    "target": _target,
    "timezone": JsonObject.text,
    "steps": _steps,
    "enabled": JsonObject.flag,
}


def apply_changes(spec: PlanSpec, body: JsonObject) -> PlanSpec:
    return body.apply(spec, _READERS)


def new_spec(body: JsonObject) -> PlanSpec:
    body.only(_READERS)  # unknown fields first, then the missing ones
    body.require("name", "target", "steps")
    return body.apply(PlanSpec(name=""), _READERS)
