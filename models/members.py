"""Members of the member center (one per person, One ID), the identities that point to
them, their mini-program sessions, merges of two members found to be one person, and
their level changes.

`Member.points` and `Member.growth` are cached totals that only the points ledger
(handlers.ledger) changes. Phone numbers are stored AES-GCM encrypted (`phone_cipher`)
with a keyed hash (`phone_hash`) for lookup: see handlers.member_crypto.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class MemberStatus(StrEnum):
    ACTIVE = "active"
    MERGED = "merged"  # folded into `merged_into`, which holds everything now
    ERASED = "erased"  # personal data erased at the member's request (PIPL)


class Member(Model):
    id = fields.BigIntField(primary_key=True)
    nickname = fields.CharField(max_length=64, default="")
    avatar = fields.CharField(max_length=512, default="")
    birthday = fields.DateField(null=True)
    consents: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    level = fields.SmallIntField(default=1)
    growth = fields.IntField(default=0)
    points = fields.IntField(default=0)
    guide_userid = fields.CharField(max_length=64, null=True)
    status = fields.CharEnumField(MemberStatus, max_length=16, default=MemberStatus.ACTIVE)
    merged_into: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="absorbed", null=True, on_delete=fields.RESTRICT
    )
    phone_cipher = fields.CharField(max_length=128, null=True)
    phone_hash = fields.CharField(max_length=64, null=True, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    erased_at = fields.DatetimeField(null=True)

    class Meta:
        table = "member"


class IdentityKind(StrEnum):
    OPENID = "openid"  # the mini-program's openid
    UNIONID = "unionid"  # the open platform's unionid, shared with WeCom
    EXTERNAL_USERID = "external_userid"  # the WeCom customer
    PHONE = "phone"  # value: the phone's keyed hash, never the number
    TMALL = "tmall"
    JD = "jd"
    DOUYIN = "douyin"
    POS = "pos"


class MemberIdentity(Model):
    """One id of a member on one channel: every identity points to exactly one member."""

    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="identities", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(IdentityKind, max_length=24)
    value = fields.CharField(max_length=128)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "member_identity"
        unique_together = (("kind", "value"),)
        indexes = (("member_id",),)


class MemberSession(Model):
    """A mini-program session. The key is the SHA-256 of the opaque token the client
    holds: a leaked table gives no usable token."""

    token_hash = fields.CharField(max_length=64, primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="sessions", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    client = fields.CharField(max_length=128, default="")
    # WeChat's session_key, AES-GCM encrypted. It is never sent to the client.
    session_key_cipher = fields.CharField(max_length=256, default="")

    class Meta:
        table = "member_session"
        indexes = (("member_id",),)


class MemberMerge(Model):
    """Audit of a merge: `merged` was found to be the same person as `survivor`, and
    what it held moved to `survivor` (`moved` counts it)."""

    id = fields.BigIntField(primary_key=True)
    survivor: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="merges_survived", on_delete=fields.RESTRICT
    )
    merged: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="merges_absorbed", on_delete=fields.RESTRICT
    )
    reason = fields.CharField(max_length=32)
    moved: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    at = fields.DatetimeField()

    class Meta:
        table = "member_merge"
        # A member is merged away once.
        unique_together = (("merged",),)


class LevelChange(Model):
    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="level_changes", on_delete=fields.CASCADE
    )
    from_level = fields.SmallIntField()
    to_level = fields.SmallIntField()
    growth = fields.IntField()
    reason = fields.CharField(max_length=64, default="")
    at = fields.DatetimeField()

    class Meta:
        table = "level_change"
        indexes = (("member_id", "at"),)
