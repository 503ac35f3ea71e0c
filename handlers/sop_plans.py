"""Group SOP plans: check a plan (its target, time zone and steps) and store it.

Everything is validated before anything is written, and a refusal names the field
(`steps[2].attachments[0].link.url`). Editing keeps step identity: a step given with
its `id` is updated in place, so the tasks already made for it (keyed on step id and
occurrence) stop it from being sent again; a step without `id` is new; a live step left
out is retired (`retired_at`), never deleted, so its history stays in the report.
Tasks already due for a retired step or a disabled or deleted plan are the
dispatcher's to settle (it records them as missed, with the reason).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from tortoise.transactions import in_transaction

from handlers.channels import ChannelInputError, validate_welcome
from handlers.input_error import DomainInputError
from handlers.sop_content import PLACEHOLDERS, unknown_placeholders
from handlers.sop_schedule import EVERY_CHOICES, parse_hhmm
from models.sop import SopPlan, SopStep, StepSchedule

__all__ = ["PlanInputError", "TargetSpec", "StepSpec", "PlanSpec", "DEFAULT_TIMEZONE",
           "plan_zone", "live_steps", "spec_of", "create_plan", "update_plan",
           "delete_plan", "ANCHORS", "ANCHOR_OF"]

DEFAULT_TIMEZONE = "Asia/Shanghai"
MAX_NAME_CHARS = 64
MAX_STEPS = 50
MAX_DAY_OFFSET = 3650
MAX_OWNERS = 1000
MAX_LABELS = 100
MAX_CHAT_IDS = 5000
MAX_ID_CHARS = 64  # userids, chat ids and labels are stored in 64-character columns
MAX_NAME_CONTAINS_CHARS = 128
ANCHORS = {"created": StepSchedule.AFTER_CREATED, "enrolled": StepSchedule.AFTER_ENROLLED}
ANCHOR_OF = {schedule: name for name, schedule in ANCHORS.items()}


class PlanInputError(DomainInputError):
    """Bad SOP plan input, naming the field; nothing was stored."""


@dataclass
class TargetSpec:
    """Which groups a plan targets; an empty field means any. A group must match every
    non-empty field: one of `owners`, one of `chat_ids`, a name containing
    `name_contains` (case-insensitive), at least one of `labels`, and created on a local
    date (plan time zone) from `created_from` to `created_until`, both included."""

    owners: list[str] = field(default_factory=list)
    name_contains: str = ""
    labels: list[str] = field(default_factory=list)
    chat_ids: list[str] = field(default_factory=list)
    created_from: date | None = None
    created_until: date | None = None

    def as_json(self) -> dict[str, Any]:
        return {"owners": self.owners, "name_contains": self.name_contains,
                "labels": self.labels, "chat_ids": self.chat_ids,
                "created_from": _iso(self.created_from),
                "created_until": _iso(self.created_until)}

    @classmethod
    def stored(cls, target: Mapping[str, Any]) -> TargetSpec:
        def day(name: str) -> date | None:
            return date.fromisoformat(target[name]) if target.get(name) else None

        return cls(owners=list(target.get("owners") or []),
                   name_contains=str(target.get("name_contains") or ""),
                   labels=list(target.get("labels") or []),
                   chat_ids=list(target.get("chat_ids") or []),
                   created_from=day("created_from"), created_until=day("created_until"))


@dataclass
class StepSpec:
    """One step as given: exactly one of `day_offset` (with `anchor`, default
    "created"), `at` (naive: the plan's local time) and `every`; `time` "HH:MM" with
    `day_offset` and `every`. `id`: an existing live step of the plan."""

    id: int | None = None
    day_offset: int | None = None
    anchor: str | None = None
    time: str | None = None
    at: datetime | None = None
    every: str | None = None
    text: str = ""
    attachments: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class PlanSpec:
    name: str
    target: TargetSpec = field(default_factory=TargetSpec)
    timezone: str = DEFAULT_TIMEZONE
    steps: list[StepSpec] = field(default_factory=list)
    enabled: bool = True


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def plan_zone(plan: SopPlan) -> ZoneInfo:
    return ZoneInfo(plan.timezone)


def _zone(name: str) -> ZoneInfo:
    if name not in _zone_names():
        raise PlanInputError("timezone", f"unknown time zone {name!r}; an IANA name such "
                                         "as Asia/Shanghai or Europe/Berlin")
    return ZoneInfo(name)


def _names(values: Sequence[str], where: str, most: int) -> list[str]:
    if len(values) > most:
        raise PlanInputError(where, f"at most {most}")
    for index, value in enumerate(values):
        if not value.strip() or len(value) > MAX_ID_CHARS:
            raise PlanInputError(f"{where}[{index}]", f"must be 1-{MAX_ID_CHARS} characters")
    return list(dict.fromkeys(values))


def _checked_target(target: TargetSpec) -> dict[str, Any]:
    checked = TargetSpec(
        owners=_names(target.owners, "target.owners", MAX_OWNERS),
        labels=_names(target.labels, "target.labels", MAX_LABELS),
        chat_ids=_names(target.chat_ids, "target.chat_ids", MAX_CHAT_IDS),
        name_contains=target.name_contains, created_from=target.created_from,
        created_until=target.created_until)
    if len(checked.name_contains) > MAX_NAME_CONTAINS_CHARS:
        raise PlanInputError("target.name_contains",
                             f"at most {MAX_NAME_CONTAINS_CHARS} characters")
    if (checked.created_from and checked.created_until
            and checked.created_until < checked.created_from):
        raise PlanInputError("target.created_until", "must not be before created_from")
    return checked.as_json()


def _check_content(step: StepSpec, where: str) -> None:
    if not step.text.strip() and not step.attachments:
        raise PlanInputError(f"{where}.text", "a step needs text or an attachment")
    unknown = unknown_placeholders(step.text)
    if unknown:
        allowed = ", ".join(f"{{{name}}}" for name in sorted(PLACEHOLDERS))
        raise PlanInputError(f"{where}.text",
                             f"unknown placeholder {', '.join(f'{{{n}}}' for n in unknown)}; "
                             f"only {allowed}")
    try:
        validate_welcome(step.text, step.attachments)
    except ChannelInputError as exc:  # same rules as a welcome message, our field names
        raise PlanInputError(f"{where}.{exc.field.removeprefix('welcome.')}",
                             exc.message) from None
    for index, attachment in enumerate(step.attachments):
        card = attachment.get("miniprogram")
        if attachment.get("msgtype") == "miniprogram" and not (
                isinstance(card, Mapping) and card.get("pic_media_id")):
            raise PlanInputError(f"{where}.attachments[{index}].miniprogram.pic_media_id",
                                 "is required")


def _schedule(step: StepSpec, where: str, tz: ZoneInfo, now: datetime,
              stored: SopStep | None) -> dict[str, Any]:
    """The SopStep schedule fields of a step as given."""
    given = [name for name in ("day_offset", "at", "every") if getattr(step, name) is not None]
    if len(given) != 1:
        raise PlanInputError(where, "give exactly one of day_offset (with anchor), at, every")
    if step.anchor is not None and step.day_offset is None:
        raise PlanInputError(f"{where}.anchor", "only with day_offset")
    if step.at is not None:
        if step.time is not None:
            raise PlanInputError(f"{where}.time", "not with at, which has its own time")
        at = (step.at if step.at.tzinfo else step.at.replace(tzinfo=tz)).astimezone(UTC)
        if at <= now and (stored is None or stored.at != at):
            raise PlanInputError(f"{where}.at", "is in the past")
        return {"schedule": StepSchedule.AT, "at": at, "time": "", "every": "",
                "day_offset": None}
    if step.time is None:
        raise PlanInputError(f"{where}.time", f"is required with {given[0]}")
    try:
        parse_hhmm(step.time)
    except ValueError:
        raise PlanInputError(f"{where}.time", "must be HH:MM, 00:00-23:59") from None
    if step.every is not None:
        if step.every not in EVERY_CHOICES:
            raise PlanInputError(f"{where}.every", f"one of {', '.join(EVERY_CHOICES)}")
        return {"schedule": StepSchedule.EVERY, "every": step.every, "time": step.time,
                "at": None, "day_offset": None}
    anchor = step.anchor or "created"
    if anchor not in ANCHORS:
        raise PlanInputError(f"{where}.anchor", f"one of {', '.join(ANCHORS)}")
    offset = step.day_offset or 0
    if not 0 <= offset <= MAX_DAY_OFFSET:
        raise PlanInputError(f"{where}.day_offset", f"must be 0-{MAX_DAY_OFFSET}")
    return {"schedule": ANCHORS[anchor], "day_offset": offset, "time": step.time,
            "at": None, "every": ""}


def _checked_steps(steps: Sequence[StepSpec], tz: ZoneInfo, now: datetime,
                   live: Mapping[int, SopStep]) -> list[tuple[int | None, dict[str, Any]]]:
    """(id or None, SopStep fields) of every step, in order."""
    if not 1 <= len(steps) <= MAX_STEPS:
        raise PlanInputError("steps", f"1-{MAX_STEPS} steps")
    seen: set[int] = set()
    out = []
    for index, step in enumerate(steps):
        where = f"steps[{index}]"
        if step.id is not None:
            if step.id not in live:
                raise PlanInputError(f"{where}.id", f"{step.id} is not a live step of this "
                                                    "plan; leave id out for a new step")
            if step.id in seen:
                raise PlanInputError(f"{where}.id", f"step {step.id} is listed twice")
            seen.add(step.id)
        values = _schedule(step, where, tz, now, live.get(step.id) if step.id else None)
        _check_content(step, where)
        values.update(position=index, text=step.text, attachments=list(step.attachments))
        out.append((step.id, values))
    return out


def _checked_plan(spec: PlanSpec, now: datetime,
                  live: Mapping[int, SopStep]
                  ) -> tuple[dict[str, Any], list[tuple[int | None, dict[str, Any]]]]:
    if not spec.name.strip() or len(spec.name) > MAX_NAME_CHARS:
        raise PlanInputError("name", f"must be 1-{MAX_NAME_CHARS} characters")
    tz = _zone(spec.timezone)
    plan_fields = {"name": spec.name, "timezone": spec.timezone, "enabled": spec.enabled,
                   "target": _checked_target(spec.target)}
    return plan_fields, _checked_steps(spec.steps, tz, now, live)


async def live_steps(plan_ids: Sequence[int]) -> dict[int, list[SopStep]]:
    """The live (not retired) steps of each plan, in order."""
    steps: dict[int, list[SopStep]] = {plan_id: [] for plan_id in plan_ids}
    for step in await SopStep.filter(plan_id__in=list(plan_ids), retired_at=None
                                     ).order_by("position", "id"):
        steps[step.plan_id].append(step)
    return steps


def _step_spec(step: SopStep) -> StepSpec:
    anchor = ANCHOR_OF.get(step.schedule)
    return StepSpec(
        id=step.id, day_offset=step.day_offset if anchor else None, anchor=anchor,
        time=step.time or None, at=step.at, every=step.every or None, text=step.text,
        attachments=list(step.attachments))


def spec_of(plan: SopPlan, steps: Sequence[SopStep]) -> PlanSpec:
    """The editable fields of a stored plan and its live steps, to apply a change to."""
    return PlanSpec(name=plan.name, target=TargetSpec.stored(plan.target),
                    timezone=plan.timezone, enabled=plan.enabled,
                    steps=[_step_spec(step) for step in steps])


async def create_plan(spec: PlanSpec, now: datetime) -> tuple[SopPlan, list[SopStep]]:
    plan_fields, steps = _checked_plan(spec, now, {})
    async with in_transaction():
        # created_at from the caller's clock: enrolment times derive from it.
        plan = await SopPlan.create(**plan_fields, created_at=now)
        stored = [await SopStep.create(plan=plan, **values) for _, values in steps]
    return plan, stored


async def update_plan(plan: SopPlan, spec: PlanSpec, now: datetime) -> list[SopStep]:
    """Store `spec` (the whole plan as it should be) over `plan`; its live steps after."""
    live = {step.id: step for step in (await live_steps([plan.id]))[plan.id]}
    plan_fields, steps = _checked_plan(spec, now, live)
    kept = {step_id for step_id, _ in steps if step_id is not None}
    retired = [step_id for step_id in live if step_id not in kept]
    async with in_transaction():
        plan.update_from_dict(plan_fields)
        await plan.save()
        stored = []
        for step_id, values in steps:
            if step_id is None:
                stored.append(await SopStep.create(plan=plan, **values))
                continue
            step = live[step_id]
            step.update_from_dict(values)
            await step.save()
            stored.append(step)
        if retired:
            await SopStep.filter(id__in=retired).update(retired_at=now)
    return stored


async def delete_plan(plan: SopPlan, now: datetime) -> None:
    """Soft delete: the plan stops (its report and tasks stay readable)."""
    plan.deleted_at = now
    plan.enabled = False
    await plan.save()
