"""Customers (WeCom external contacts), their follow relations with staff, transfer
failures, and the checkpoint of the resumable full contact sync."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Customer(Model):
    id = fields.BigIntField(primary_key=True)
    external_userid = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=128, default="")
    avatar = fields.CharField(max_length=512, default="")
    type = fields.SmallIntField(default=0)
    gender = fields.SmallIntField(default=0)
    unionid = fields.CharField(max_length=64, null=True, db_index=True)
    corp_name = fields.CharField(max_length=128, default="")
    corp_full_name = fields.CharField(max_length=256, default="")
    position = fields.CharField(max_length=128, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "customer"


class FollowStatus(StrEnum):
    ACTIVE = "active"
    HALF = "half"
    DELETED_BY_STAFF = "deleted_by_staff"
    DELETED_BY_CUSTOMER = "deleted_by_customer"


class FollowRelation(Model):
    """A staff member's relation to a customer. Deletions keep the row: history matters
    (a customer deleting the guide is a churn signal)."""

    id = fields.BigIntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="follows", on_delete=fields.CASCADE
    )
    staff_userid = fields.CharField(max_length=64)
    remark = fields.CharField(max_length=128, default="")
    description = fields.CharField(max_length=512, default="")
    state = fields.CharField(max_length=64, default="")
    add_way = fields.SmallIntField(default=0)
    oper_userid = fields.CharField(max_length=64, default="")
    added_at = fields.DatetimeField(null=True)
    tag_ids: fields.Field[list[str]] = fields.JSONField(default=list)
    status = fields.CharEnumField(FollowStatus, max_length=24, default=FollowStatus.ACTIVE)
    deleted_source = fields.CharField(max_length=64, default="")
    deleted_at = fields.DatetimeField(null=True)
    # CreateTime of the last event that set `status`: an older event never overrides it.
    status_changed_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "follow_relation"
        unique_together = (("customer", "staff_userid"),)


class TransferFailure(Model):
    id = fields.BigIntField(primary_key=True)
    staff_userid = fields.CharField(max_length=64)
    external_userid = fields.CharField(max_length=64)
    reason = fields.CharField(max_length=64)
    occurred_at = fields.DatetimeField()

    class Meta:
        table = "transfer_failure"
        unique_together = (("staff_userid", "external_userid", "occurred_at"),)


class SyncCheckpoint(Model):
    """Where a resumable job stopped: `state` holds its position (e.g. staff done, cursor)."""

    name = fields.CharField(max_length=64, primary_key=True)
    state: fields.Field[dict] = fields.JSONField(default=dict)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "sync_checkpoint"
