"""Customer groups (客户群): the groups our staff own, their members (staff and
customers) and admins, the operators' local labels used to target SOP plans, and the
group QR codes (加入群聊 join ways) with what every join through one recorded."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class GroupStatus(StrEnum):
    ACTIVE = "active"
    DISMISSED = "dismissed"


class GroupChat(Model):
    chat_id = fields.CharField(max_length=64, primary_key=True)
    name = fields.CharField(max_length=128, default="")
    owner = fields.CharField(max_length=64, db_index=True)
    notice = fields.TextField(default="")
    # groupchat/get `create_time`: the anchor of "day N after the group was created".
    created_at = fields.DatetimeField()
    status = fields.CharEnumField(GroupStatus, max_length=16, default=GroupStatus.ACTIVE)
    # groupchat/list `status`: 0 normal, 1 owner left, 2 inheriting, 3 inherited.
    owner_status = fields.SmallIntField(default=0)
    admins: fields.Field[list[str]] = fields.JSONField(default=list)
    # groupchat/get `member_version`; an event whose LastMemVer differs means we
    # missed a change, and the group is fetched again instead of applying the delta.
    member_version = fields.CharField(max_length=64, default="")
    member_count = fields.IntField(default=0)
    synced_at = fields.DatetimeField(null=True)
    dismissed_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "group_chat"
        indexes = (("status", "created_at"),)


STAFF_MEMBER, CUSTOMER_MEMBER = 1, 2  # GroupMember.type, as groupchat/get has it


class GroupMember(Model):
    """One member of a group. A member who left keeps the row with `left_at` set."""

    id = fields.BigIntField(primary_key=True)
    chat_id = fields.CharField(max_length=64)
    userid = fields.CharField(max_length=64)
    # 1 staff (corp member), 2 customer (external contact).
    type = fields.SmallIntField()
    join_time = fields.DatetimeField(null=True)
    # groupchat/get join_scene: 1 direct invite, 2 invite link, 3 group QR code.
    join_scene = fields.SmallIntField(null=True)
    state = fields.CharField(max_length=30, default="")
    unionid = fields.CharField(max_length=64, default="")
    invitor = fields.CharField(max_length=64, default="")
    group_nickname = fields.CharField(max_length=64, default="")
    name = fields.CharField(max_length=64, default="")
    left_at = fields.DatetimeField(null=True)
    quit_scene = fields.SmallIntField(null=True)

    class Meta:
        table = "group_member"
        unique_together = (("chat_id", "userid"),)
        indexes = (("userid",),)


class GroupLabel(Model):
    """An operators' label on a group (e.g. "store:Shanghai-01", "VIP group"), local
    only: WeCom does not know it."""

    id = fields.BigIntField(primary_key=True)
    chat_id = fields.CharField(max_length=64)
    label = fields.CharField(max_length=64)

    class Meta:
        table = "group_label"
        unique_together = (("chat_id", "label"),)
        indexes = (("label",),)


class GroupJoinWay(Model):
    """A group QR code (groupchat/add_join_way): up to 5 groups, optionally creating
    new ones when they fill; customers who join through it carry its `state`, and get
    its `tag_ids` through their follow relation."""

    config_id = fields.CharField(max_length=64, primary_key=True)
    name = fields.CharField(max_length=64)
    state = fields.CharField(max_length=30, unique=True)
    scene = fields.SmallIntField(default=2)
    remark = fields.CharField(max_length=30, default="")
    auto_create_room = fields.BooleanField(default=True)
    room_base_name = fields.CharField(max_length=40, default="")
    room_base_id = fields.IntField(null=True)
    chat_ids: fields.Field[list[str]] = fields.JSONField(default=list)
    qr_code = fields.CharField(max_length=512, default="")
    tag_ids: fields.Field[list[str]] = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "group_join_way"


class GroupJoin(Model):
    """A customer joining a group through a join way (their member `state`). `tagged`:
    the join way's tags were marked on a follow relation of theirs; False when they
    follow none of our staff yet (the join is recorded, the tags wait)."""

    id = fields.BigIntField(primary_key=True)
    config_id = fields.CharField(max_length=64)
    state = fields.CharField(max_length=30)
    chat_id = fields.CharField(max_length=64)
    external_userid = fields.CharField(max_length=64)
    joined_at = fields.DatetimeField()
    tagged = fields.BooleanField(default=False)
    tagged_via = fields.CharField(max_length=64, default="")

    class Meta:
        table = "group_join"
        unique_together = (("chat_id", "external_userid", "joined_at"),)
        indexes = (("config_id", "joined_at"),)
