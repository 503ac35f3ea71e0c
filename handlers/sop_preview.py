"""A plan's dry run: which groups would receive which step when, over a window ahead.

It counts the groups that match the target now, enrolled yet or not (their enrolment
time is derived, so it is the one they will get), uses the same `occurrences` the
scheduler uses, and leaves out occurrences that already have a task (sent, or due and
being handled). Items come in due order and stop at `limit`: occurrences are generated
lazily per step and merged, and the task check runs one chunk at a time, so a plan over
10,000 groups costs the first chunks, not every occurrence of the window.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from zoneinfo import ZoneInfo

from handlers.sop_plans import live_steps, plan_zone
from handlers.sop_schedule import occurrences
from handlers.sop_targets import enrolled_at, matching_groups
from models.sop import SopPlan, SopStep, SopTask, StepSchedule

__all__ = ["PreviewItem", "Preview", "preview"]

_CHUNK = 500
_DAWN = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class PreviewItem:
    due_at: datetime
    chat_id: str
    position: int
    group_name: str
    owner: str
    step_id: int
    occurrence: str


@dataclass(frozen=True)
class Preview:
    items: list[PreviewItem]
    truncated: bool  # more occurrences fall in the window than `limit`
    groups: int  # groups the target matches now


@dataclass(frozen=True)
class _Group:
    chat_id: str
    name: str
    owner: str
    created_at: datetime
    enrolled_at: datetime


def _item(group: _Group, step: SopStep, key: str, due_at: datetime) -> PreviewItem:
    return PreviewItem(due_at=due_at, chat_id=group.chat_id, position=step.position,
                       group_name=group.name, owner=group.owner, step_id=step.id,
                       occurrence=key)


def _step_items(step: SopStep, tz: ZoneInfo, groups: Sequence[_Group], start: datetime,
                end: datetime) -> Iterator[PreviewItem]:
    """The step's occurrences for every group, in (due_at, chat_id) order."""
    if step.schedule in (StepSchedule.AT, StepSchedule.EVERY):
        # The same moments for every group; only the enrolment cut-off differs.
        for base in occurrences(step, tz, _DAWN, _DAWN, start, end):
            for group in groups:
                if base.due_at >= group.enrolled_at:
                    yield _item(group, step, base.key, base.due_at)
        return
    yield from sorted(
        (_item(group, step, o.key, o.due_at) for group in groups
         for o in occurrences(step, tz, group.created_at, group.enrolled_at, start, end)),
        key=lambda item: (item.due_at, item.chat_id))


async def _without_tasks(plan_id: int, items: list[PreviewItem]) -> list[PreviewItem]:
    if not items:
        return []
    existing = set(await SopTask.filter(
        plan_id=plan_id, step_id__in={i.step_id for i in items},
        chat_id__in={i.chat_id for i in items}, occurrence__in={i.occurrence for i in items},
    ).values_list("step_id", "chat_id", "occurrence"))
    return [i for i in items if (i.step_id, i.chat_id, i.occurrence) not in existing]


async def _first(plan_id: int, merged: Iterable[PreviewItem], count: int) -> list[PreviewItem]:
    found: list[PreviewItem] = []
    stream = iter(merged)
    while len(found) < count:
        chunk = list(islice(stream, _CHUNK))
        if not chunk:
            break
        found.extend(await _without_tasks(plan_id, chunk))
    return found[:count]


async def preview(plan: SopPlan, start: datetime, end: datetime, limit: int) -> Preview:
    """Occurrences due in (start, end] for the groups the plan targets now."""
    tz = plan_zone(plan)
    rows = await matching_groups(plan).order_by("chat_id").values_list(
        "chat_id", "name", "owner", "created_at")
    groups = [_Group(chat_id, name, owner, created, enrolled_at(plan, created))
              for chat_id, name, owner, created in rows]
    steps = (await live_steps([plan.id]))[plan.id]
    merged = heapq.merge(*(_step_items(step, tz, groups, start, end) for step in steps),
                         key=lambda item: (item.due_at, item.chat_id, item.position))
    found = await _first(plan.id, merged, limit + 1)
    return Preview(items=found[:limit], truncated=len(found) > limit, groups=len(groups))
