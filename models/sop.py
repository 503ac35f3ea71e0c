"""Group SOP: plans (which groups, which steps, on or off), the groups enrolled in a
plan, one task per (plan, step, group, occurrence) and one push per add_msg_template
call.

The unique task key is what lets any number of schedulers run at once: a second
scheduler's insert of the same occurrence does nothing, so a step goes out once.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class SopPlan(Model):
    id = fields.BigIntField(primary_key=True)
    name = fields.CharField(max_length=64)
    # {"owners": [...], "name_contains": "", "labels": [...], "chat_ids": [...],
    #  "created_from": iso|null, "created_until": iso|null}; an empty field means any.
    target: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    timezone = fields.CharField(max_length=64, default="Asia/Shanghai")
    enabled = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    deleted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "sop_plan"


class StepSchedule(StrEnum):
    AFTER_CREATED = "after_created"  # day_offset days after the group was created
    AFTER_ENROLLED = "after_enrolled"  # day_offset days after the group joined the plan
    AT = "at"  # once, at an absolute time
    EVERY = "every"  # every day or every <weekday>, at time


class SopStep(Model):
    """One step of a plan. Editing a plan keeps a step's id (and so its sent tasks).
    A step removed from the plan is retired, never deleted, so its history stays."""

    id = fields.BigIntField(primary_key=True)
    plan: fields.ForeignKeyRelation[SopPlan] = fields.ForeignKeyField(
        "models.SopPlan", related_name="steps", on_delete=fields.CASCADE
    )
    plan_id: int  # the foreign key's column, for type checkers
    position = fields.IntField(default=0)
    schedule = fields.CharEnumField(StepSchedule, max_length=16)
    day_offset = fields.IntField(null=True)
    time = fields.CharField(max_length=5, default="")  # HH:MM in the plan's time zone
    at = fields.DatetimeField(null=True)
    every = fields.CharField(max_length=16, default="")  # "day", "monday" … "sunday"
    text = fields.TextField(default="")
    attachments: fields.Field[list[dict[str, Any]]] = fields.JSONField(default=list)
    retired_at = fields.DatetimeField(null=True)

    class Meta:
        table = "sop_step"


class SopEnrollment(Model):
    """A group targeted by a plan. `enrolled_at` is when it became part of the plan
    (the later of the plan's creation and the group's), the same whichever scheduler
    saw it first; occurrences before it are not the plan's."""

    id = fields.BigIntField(primary_key=True)
    plan_id = fields.BigIntField()
    chat_id = fields.CharField(max_length=64)
    enrolled_at = fields.DatetimeField()

    class Meta:
        table = "sop_enrollment"
        unique_together = (("plan_id", "chat_id"),)


class TaskStatus(StrEnum):
    PENDING = "pending"  # due, waiting for a dispatcher
    SENDING = "sending"  # claimed by a dispatcher (lease_until)
    PUSHED = "pushed"  # in an add_msg_template task, waiting for the owner
    SENT = "sent"  # the owner confirmed; WeCom delivered it to the group
    NOT_SENT = "not_sent"  # the owner did not confirm before the deadline
    FAILED = "failed"  # WeCom refused it (fail_list, send result 2/3, an error)
    SKIPPED_LIMIT = "skipped_limit"  # the group had had its pushes for the period
    MISSED = "missed"  # fell due longer ago than the grace window (downtime)
    MANUAL = "manual"  # could not be automated: the owner got it to send by hand


# Pushes that count against a group's receive limit.
COUNTED_STATUSES = (TaskStatus.SENDING, TaskStatus.PUSHED, TaskStatus.SENT)


class SopTask(Model):
    id = fields.BigIntField(primary_key=True)
    plan_id = fields.BigIntField()
    step_id = fields.BigIntField()
    chat_id = fields.CharField(max_length=64)
    # Which occurrence of the step: "once" for a one-off step (after created, after
    # enrolled, at), the local date "2026-11-23" for a recurring one. Part of the key,
    # so moving a step's time never makes a second task for the same occurrence.
    occurrence = fields.CharField(max_length=20)
    due_at = fields.DatetimeField()
    owner = fields.CharField(max_length=64, default="")
    status = fields.CharEnumField(TaskStatus, max_length=16)
    lease_until = fields.DatetimeField(null=True)
    msgid = fields.CharField(max_length=64, default="")
    error = fields.TextField(default="")
    pushed_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "sop_task"
        unique_together = (("plan_id", "step_id", "chat_id", "occurrence"),)
        indexes = (("status", "due_at"), ("chat_id", "pushed_at"), ("msgid",),
                   ("plan_id", "step_id", "status"))


class SopPush(Model):
    """One add_msg_template call (one owner, one content, ≤ 2,000 groups) and what
    the polling learned of it."""

    msgid = fields.CharField(max_length=64, primary_key=True)
    plan_id = fields.BigIntField()
    step_id = fields.BigIntField()
    owner = fields.CharField(max_length=64)
    chat_count = fields.IntField()
    pushed_at = fields.DatetimeField()
    # After it, groups the owner has not sent to count as not sent.
    deadline = fields.DatetimeField()
    owner_sent_at = fields.DatetimeField(null=True)
    reminders: fields.Field[list[str]] = fields.JSONField(default=list)  # ISO times
    next_poll_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "sop_push"
        indexes = (("finished_at", "next_poll_at"),)
