"""The local mirror of WeCom's corp tags (企业客户标签) and tag groups.

WeCom is the source of truth: the mirror is refreshed by a full sync, by
`change_external_tag` events (console edits), and directly by our own API calls, which
WeCom does not report back.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class TagGroup(Model):
    id = fields.BigIntField(primary_key=True)
    group_id = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=64)
    order = fields.BigIntField(default=0)
    created_at = fields.DatetimeField(null=True)
    tags: fields.ReverseRelation[Tag]

    class Meta:
        table = "tag_group"


class Tag(Model):
    id = fields.BigIntField(primary_key=True)
    tag_id = fields.CharField(max_length=64, unique=True)
    group: fields.ForeignKeyRelation[TagGroup] = fields.ForeignKeyField(
        "models.TagGroup", related_name="tags", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=64)
    order = fields.BigIntField(default=0)
    created_at = fields.DatetimeField(null=True)

    class Meta:
        table = "tag"


class TagRule(Model):
    """Tags every matching new contact gets, whatever the channel: e.g. all adds through
    live rooms get "直播客户", all WeCom-user customers get "企业客户". Empty conditions
    match everything."""

    id = fields.BigIntField(primary_key=True)
    name = fields.CharField(max_length=64)
    channel_kind = fields.CharField(max_length=16, default="")
    state_prefix = fields.CharField(max_length=30, default="")
    add_way = fields.IntField(null=True)
    customer_type = fields.SmallIntField(null=True)  # 1 WeChat user, 2 WeCom user
    tag_ids: fields.Field[list[str]] = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "tag_rule"
