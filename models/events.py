"""The callback inbox: every WeCom event we acknowledged, durably, with its processing state.

The inbox is the source of truth for processing; the job queue only carries ids. A row
is claimed with a lease before its handler runs, so a re-delivered queue message or a
second worker never processes an event twice, and a worker that dies mid-job leaves a
lease that expires and is swept back into the queue.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class EventStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"
    IGNORED = "ignored"


class InboxEvent(Model):
    id = fields.BigIntField(primary_key=True)
    # sha256 of the decrypted message: a WeCom re-delivery carries the same message.
    dedupe_key = fields.CharField(max_length=64, unique=True)
    event = fields.CharField(max_length=64)
    change_type = fields.CharField(max_length=64, default="")
    payload = fields.TextField()
    status = fields.CharEnumField(EventStatus, max_length=16, default=EventStatus.PENDING)
    attempts = fields.IntField(default=0)
    last_error = fields.TextField(null=True)
    received_at = fields.DatetimeField()
    lease_until = fields.DatetimeField(null=True)
    processed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "inbox_event"
        indexes = (("status", "received_at"),)
