"""The state changes of SOP tasks that must hold with many dispatchers at once, each one
conditional statement: claim due tasks (pending → sending with a lease), keep holding
them just before the WeCom call, and settle what a dead dispatcher left behind.

A task in `sending` belongs to the dispatcher that claimed it. If its lease runs out,
that dispatcher died somewhere around its add_msg_template call: the push may or may
not exist in WeCom, so the task is failed ("outcome unknown"), never pushed again.
A dispatcher holds (renews) its tasks right before each call and pushes only the ones
it still holds, so a task another dispatcher already settled is never pushed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from tortoise import connections

from models.sop import SopTask, TaskStatus
from models.upsert import id_list, placeholders

__all__ = ["claim_due", "hold", "expire_leases", "miss_stale", "settle", "release",
           "SEND_LEASE", "OUTCOME_UNKNOWN"]

# Longer than any one dispatch round (a claim batch at the slowest configured pace),
# since a lease that runs out turns the task into "failed, outcome unknown".
SEND_LEASE = timedelta(minutes=15)
OUTCOME_UNKNOWN = ("outcome unknown: the dispatcher stopped while pushing this task "
                   "(lease expired); not pushed again to rule out a duplicate — check the "
                   "owner's group messages in WeCom")


def _stamp(value: datetime) -> Any:
    return SopTask._meta.fields_map["due_at"].to_db_value(value, SopTask)


async def claim_due(now: datetime, grace: timedelta, limit: int) -> list[SopTask]:
    """Take up to `limit` pending tasks due in [now - grace, now], oldest first and, at
    one due time, owner by owner (an owner's groups then share calls rather than being
    split between claims): they become `sending`, leased to this caller until
    now + SEND_LEASE. Tasks another dispatcher took first are not returned."""
    conn = connections.get("default")
    dialect = conn.capabilities.dialect
    p = placeholders(dialect, 0, 7)
    skip_locked = " FOR UPDATE SKIP LOCKED" if dialect == "postgres" else ""
    rows = await conn.execute_query_dict(
        f"UPDATE sop_task SET status = {p[0]}, lease_until = {p[1]} "
        f"WHERE id IN (SELECT id FROM sop_task WHERE status = {p[2]} AND due_at <= {p[3]} "
        f"AND due_at >= {p[4]} ORDER BY due_at, owner, id LIMIT {p[5]}{skip_locked}) "
        f"AND status = {p[6]} RETURNING *",
        [TaskStatus.SENDING.value, _stamp(now + SEND_LEASE), TaskStatus.PENDING.value,
         _stamp(now), _stamp(now - grace), limit, TaskStatus.PENDING.value],
    )
    tasks = [SopTask._init_from_db(**row) for row in rows]
    tasks.sort(key=lambda t: (t.due_at, t.id))
    return tasks


async def hold(ids: Sequence[int], now: datetime) -> set[int]:
    """Renew the lease of those of `ids` still `sending`; returns them."""
    if not ids:
        return set()
    conn = connections.get("default")
    dialect = conn.capabilities.dialect
    p = placeholders(dialect, 0, 2)
    which, id_params = id_list(dialect, 2, ids)
    rows = await conn.execute_query_dict(
        f"UPDATE sop_task SET lease_until = {p[0]} WHERE status = {p[1]} AND {which} "
        "RETURNING id",
        [_stamp(now + SEND_LEASE), TaskStatus.SENDING.value, *id_params],
    )
    return {int(row["id"]) for row in rows}


async def expire_leases(now: datetime) -> int:
    """Fail the `sending` tasks whose lease ran out (OUTCOME_UNKNOWN); how many."""
    return await SopTask.filter(status=TaskStatus.SENDING, lease_until__lt=now).update(
        status=TaskStatus.FAILED, error=OUTCOME_UNKNOWN, lease_until=None, finished_at=now)


async def miss_stale(now: datetime, grace: timedelta) -> int:
    """Pending tasks that fell due longer than `grace` ago (e.g. all workers were down)
    become `missed`: a late burst of stale messages is worse than none."""
    return await SopTask.filter(status=TaskStatus.PENDING, due_at__lt=now - grace).update(
        status=TaskStatus.MISSED, finished_at=now,
        error=f"fell due more than {int(grace.total_seconds())} s before a dispatcher "
              "could send it (grace_seconds)")


async def settle(ids: Sequence[int], status: TaskStatus, now: datetime, error: str = "",
                 **values: Any) -> int:
    """Finish tasks this dispatcher holds (`sending`) with `status` and `error`."""
    if not ids:
        return 0
    finished = now if status not in (TaskStatus.PENDING, TaskStatus.PUSHED) else None
    return await SopTask.filter(id__in=list(ids), status=TaskStatus.SENDING).update(
        status=status, error=error, lease_until=None, finished_at=finished, **values)


async def release(ids: Sequence[int]) -> int:
    """Give held tasks back (`pending`, uncounted) for the next tick to push."""
    if not ids:
        return 0
    return await SopTask.filter(id__in=list(ids), status=TaskStatus.SENDING).update(
        status=TaskStatus.PENDING, lease_until=None, pushed_at=None)
