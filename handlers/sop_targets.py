"""Which groups a SOP plan targets, and keeping its enrolments in step with that.

The target is one SQL query (`matching_groups`): owners IN, chat ids IN, name LIKE,
a created_at range and labels through a GroupLabel subquery, on active groups only, so a
tick over 10,000 groups and several plans moves ids between tables instead of loading
groups into Python. A deleted plan targets nothing.

`refresh_enrollment` is safe to run from any number of schedulers at once: the new
enrolments are inserted ignoring conflicts on (plan_id, chat_id), and `enrolled_at` is
derived from the plan and the group, not from when a scheduler noticed the group.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from handlers.sop_plans import TargetSpec, plan_zone
from models.groups import GroupChat, GroupLabel, GroupStatus
from models.sop import SopEnrollment, SopPlan, SopTask, TaskStatus
from models.upsert import insert_rows

__all__ = ["matching_groups", "refresh_enrollment", "enrolled_at"]

log = logging.getLogger("scrm.sop")


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def matching_groups(plan: SopPlan) -> QuerySet[GroupChat]:
    """The active groups the plan targets now (unordered)."""
    if plan.deleted_at is not None:
        return GroupChat.filter(chat_id__in=[])
    target = TargetSpec.stored(plan.target)
    groups = GroupChat.filter(status=GroupStatus.ACTIVE)
    if target.owners:
        groups = groups.filter(owner__in=target.owners)
    if target.chat_ids:
        groups = groups.filter(chat_id__in=target.chat_ids)
    if target.name_contains:
        groups = groups.filter(name__icontains=target.name_contains)
    tz = plan_zone(plan)
    if target.created_from:
        groups = groups.filter(created_at__gte=_local_midnight(target.created_from, tz))
    if target.created_until:
        groups = groups.filter(
            created_at__lt=_local_midnight(target.created_until + timedelta(days=1), tz))
    if target.labels:
        labelled = GroupLabel.filter(label__in=target.labels).values("chat_id")
        groups = groups.filter(chat_id__in=Subquery(labelled))
    return groups


async def drop_pending_tasks(plan_id: int, *conditions: Q) -> int:
    """Delete the plan's tasks still `pending` (never handed to WeCom) that match."""
    return int(await SopTask.filter(*conditions, plan_id=plan_id,
                                    status=TaskStatus.PENDING).delete())


def enrolled_at(plan: SopPlan, group_created_at: datetime) -> datetime:
    """When a group became part of the plan: the later of the two creations."""
    return max(plan.created_at, group_created_at)


async def refresh_enrollment(plan: SopPlan) -> tuple[int, int]:
    """Enrol active groups that match the plan's target and are not enrolled yet;
    remove enrolments of groups that no longer match or were dismissed, deleting their
    still `pending` tasks (never pushed ones only). Returns (enrolled, removed)."""
    enrolled_ids = SopEnrollment.filter(plan_id=plan.id).values("chat_id")
    new = await matching_groups(plan).filter(
        chat_id__not_in=Subquery(enrolled_ids)).values_list("chat_id", "created_at")
    enrolled = await insert_rows(
        SopEnrollment,
        [{"plan_id": plan.id, "chat_id": chat_id,
          "enrolled_at": enrolled_at(plan, created_at)} for chat_id, created_at in new],
        unless=("plan_id", "chat_id"))
    # Subqueries, not id lists: a target change may drop every group at once.
    still = Subquery(matching_groups(plan).values("chat_id"))
    gone = SopEnrollment.filter(plan_id=plan.id).exclude(chat_id__in=still)
    removed = 0
    if await gone.exists():
        # Tasks first: a pending task of an enrolment no longer there would still go out.
        await drop_pending_tasks(plan.id, ~Q(chat_id__in=still))
        removed = int(await gone.delete())
    if enrolled or removed:
        log.info("sop.enrollment plan_id=%s enrolled=%s removed=%s", plan.id, enrolled, removed)
    return enrolled, removed
