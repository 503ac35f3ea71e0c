"""What a plan's steps became: counts per step from its tasks, and the tasks themselves.

Per step (retired ones too, after the live ones): `targeted` (tasks made), `pushed`
(handed to WeCom: the task got a msgid, whatever happened next), and one count per
task status, so the status counts add up to `targeted`: pending, sending,
awaiting_confirmation (status `pushed`: the owner has not confirmed yet), sent (the
owner confirmed, WeCom delivered), not_sent, failed, skipped_limit, missed, manual.
Both come as rows for JSON and as CSV with a header row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.functions import Count

from models.groups import GroupChat
from models.sop import SopStep, SopTask, StepSchedule, TaskStatus

__all__ = ["STATUS_COLUMNS", "COUNT_COLUMNS", "REPORT_CSV_COLUMNS", "TASK_COLUMNS",
           "StepReport", "plan_report", "report_csv", "describe", "task_rows", "csv_text"]

# The report column of each task status (every status has one).
STATUS_COLUMNS: dict[TaskStatus, str] = {
    TaskStatus.PENDING: "pending",
    TaskStatus.SENDING: "sending",
    TaskStatus.PUSHED: "awaiting_confirmation",
    TaskStatus.SENT: "sent",
    TaskStatus.NOT_SENT: "not_sent",
    TaskStatus.FAILED: "failed",
    TaskStatus.SKIPPED_LIMIT: "skipped_limit",
    TaskStatus.MISSED: "missed",
    TaskStatus.MANUAL: "manual",
}
COUNT_COLUMNS = ("targeted", "pushed", *STATUS_COLUMNS.values())
REPORT_CSV_COLUMNS = ("step_id", "position", "schedule", "when", "retired_at",
                      *COUNT_COLUMNS)
TASK_COLUMNS = ("chat_id", "group_name", "owner", "step_id", "occurrence", "due_at",
                "status", "msgid", "error")


def _zero() -> dict[str, int]:
    return dict.fromkeys(COUNT_COLUMNS, 0)


@dataclass
class StepReport:
    step_id: int
    position: int
    schedule: str
    when: str
    retired_at: str | None
    counts: dict[str, int] = field(default_factory=_zero)

    def as_dict(self) -> dict[str, Any]:
        return {"step_id": self.step_id, "position": self.position,
                "schedule": self.schedule, "when": self.when,
                "retired_at": self.retired_at, **self.counts}


def describe(step: SopStep, tz: ZoneInfo) -> str:
    """The step's schedule in words, for people reading a report."""
    if step.schedule == StepSchedule.AT:
        return f"at {step.at.astimezone(tz).isoformat()}" if step.at else "at"
    if step.schedule == StepSchedule.EVERY:
        return f"every {step.every} at {step.time}"
    anchor = "created" if step.schedule == StepSchedule.AFTER_CREATED else "enrolled"
    return f"day {step.day_offset} after {anchor} at {step.time}"


async def plan_report(plan_id: int, tz: ZoneInfo) -> tuple[list[StepReport], dict[str, int]]:
    """Rows per step (live ones in order, then retired ones) and the totals."""
    steps = await SopStep.filter(plan_id=plan_id).order_by("position", "id")
    steps.sort(key=lambda step: step.retired_at is not None)  # stable: keeps the order
    rows = {step.id: StepReport(step.id, step.position, step.schedule.value,
                                describe(step, tz),
                                step.retired_at.isoformat() if step.retired_at else None)
            for step in steps}
    by_status = await SopTask.filter(plan_id=plan_id).annotate(n=Count("id")).group_by(
        "step_id", "status").values_list("step_id", "status", "n")
    for step_id, status, n in by_status:
        if step_id in rows:
            rows[step_id].counts[STATUS_COLUMNS[TaskStatus(status)]] += n
            rows[step_id].counts["targeted"] += n
    pushed = await SopTask.filter(plan_id=plan_id).exclude(msgid="").annotate(
        n=Count("id")).group_by("step_id").values_list("step_id", "n")
    for step_id, n in pushed:
        if step_id in rows:
            rows[step_id].counts["pushed"] += n
    totals = _zero()
    for row in rows.values():
        for column, n in row.counts.items():
            totals[column] += n
    return list(rows.values()), totals


def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, Any]], *,
             header: bool) -> str:
    """CSV lines for `rows` (None as an empty cell), after a header row if asked."""
    out = io.StringIO()
    writer = csv.writer(out)
    if header:
        writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row[c] is None else row[c] for c in columns])
    return out.getvalue()


def report_csv(rows: Iterable[StepReport]) -> str:
    return csv_text(REPORT_CSV_COLUMNS, (row.as_dict() for row in rows), header=True)


async def task_rows(tasks: Sequence[SopTask], tz: ZoneInfo) -> list[dict[str, Any]]:
    """The tasks as report rows, their groups' names looked up in one query."""
    chat_ids = list({task.chat_id for task in tasks})
    groups = {chat_id: (name, owner) for chat_id, name, owner in await GroupChat.filter(
        chat_id__in=chat_ids).values_list("chat_id", "name", "owner")}
    return [{"chat_id": task.chat_id, "group_name": groups.get(task.chat_id, ("", ""))[0],
             "owner": task.owner or groups.get(task.chat_id, ("", ""))[1],
             "step_id": task.step_id, "occurrence": task.occurrence,
             "due_at": task.due_at.astimezone(tz).isoformat(), "status": task.status.value,
             "msgid": task.msgid, "error": task.error}
            for task in tasks]
