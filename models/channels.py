"""Channels (渠道活码): one WeCom contact QR each, with the guides it routes to, the tags
and welcome message a new customer gets, and what every add through it recorded."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class ChannelKind(StrEnum):
    STORE = "store"
    POSTER = "poster"
    PACKAGE = "package"
    LIVE_ROOM = "live_room"
    ANXIN_CODE = "anxin_code"
    EVENT = "event"
    ORGANIC = "organic"
    OTHER = "other"


class Channel(Model):
    id = fields.BigIntField(primary_key=True)
    name = fields.CharField(max_length=64)
    kind = fields.CharEnumField(ChannelKind, max_length=16)
    # The contact way's `state` (≤ 30 characters): how an add event names its channel.
    state = fields.CharField(max_length=30, unique=True)
    config_id = fields.CharField(max_length=64, null=True, unique=True)
    qr_code = fields.CharField(max_length=512, default="")
    # The guide pool; `current_guides` is who the contact way routes to right now.
    guides: fields.Field[list[str]] = fields.JSONField(default=list)
    current_guides: fields.Field[list[str]] = fields.JSONField(default=list)
    daily_caps: fields.Field[dict[str, int]] = fields.JSONField(default=dict)
    backup_guide = fields.CharField(max_length=64, default="")
    skip_verify = fields.BooleanField(default=True)
    tag_ids: fields.Field[list[str]] = fields.JSONField(default=list)
    welcome_text = fields.TextField(default="")
    welcome_attachments: fields.Field[list[dict[str, Any]]] = fields.JSONField(default=list)
    remark_template = fields.CharField(max_length=64, default="")
    active_from = fields.DatetimeField(null=True)
    active_until = fields.DatetimeField(null=True)
    # The one channel that takes adds with an unknown or empty state.
    is_default = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    deleted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "channel"


class Attribution(Model):
    """One add of a customer to a guide, credited to a channel."""

    id = fields.BigIntField(primary_key=True)
    channel: fields.ForeignKeyRelation[Channel] = fields.ForeignKeyField(
        "models.Channel", related_name="attributions", on_delete=fields.RESTRICT
    )
    staff_userid = fields.CharField(max_length=64)
    external_userid = fields.CharField(max_length=64)
    state = fields.CharField(max_length=64, default="")
    added_at = fields.DatetimeField()
    first_add = fields.BooleanField()

    class Meta:
        table = "attribution"
        # A retried event finds its attribution already there: an add counts once.
        unique_together = (("external_userid", "staff_userid", "added_at"),)
        indexes = (("channel_id", "added_at"), ("staff_userid", "added_at"))


class WelcomeStatus(StrEnum):
    SENT = "sent"
    CODE_EXPIRED = "code_expired"  # 41050: past WeCom's 20 s, or not valid
    ALREADY_CHATTED = "already_chatted"  # 41051: chatted already, or a welcome went out
    WECOM_DEFAULT = "wecom_default"  # no WelcomeCode: WeCom's own welcome applies
    NOT_CONFIGURED = "not_configured"  # the channel has no welcome message
    FAILED = "failed"


class WelcomeMessage(Model):
    """What became of the welcome for one add."""

    id = fields.BigIntField(primary_key=True)
    channel: fields.ForeignKeyRelation[Channel] = fields.ForeignKeyField(
        "models.Channel", related_name="welcomes", on_delete=fields.RESTRICT
    )
    staff_userid = fields.CharField(max_length=64)
    external_userid = fields.CharField(max_length=64)
    added_at = fields.DatetimeField()
    welcome_code = fields.CharField(max_length=128, default="")
    status = fields.CharEnumField(WelcomeStatus, max_length=24)
    errcode = fields.IntField(null=True)
    detail = fields.TextField(default="")
    attempts = fields.IntField(default=1)
    finished_at = fields.DatetimeField()

    class Meta:
        table = "welcome_message"
        unique_together = (("external_userid", "staff_userid", "added_at"),)


class Staff(Model):
    """Guides' names, cached from WeCom `user/get` for welcome placeholders."""

    userid = fields.CharField(max_length=64, primary_key=True)
    name = fields.CharField(max_length=64, default="")
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "staff"
