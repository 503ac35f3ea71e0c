"""A member's rights over their personal data (PIPL): export everything held about them,
and erase it.

Both cover the member and every member merged into them (the same person's older
records). The export reads every table with a `member_id` column, so records added by
later features (points, check-ins, orders, …) are in it without a change here; it
decrypts the phone for the member themself and leaves out session tokens and WeChat
session keys (we hold only hashes and sealed keys, which mean nothing to the member).

Erasure blanks the profile (nickname, avatar, birthday, consents, guide), removes the
phone, deletes every identity (so a later login or WeCom add starts a new member),
revokes every session, blanks the shipping addresses of their mall orders (an order
not shipped yet then shows no address: the operator cancels it, refunding the points)
and marks the member `erased`. Ledger rows stay, under the same
member id, so balances and totals still add up; they hold amounts, keys and rule
names, no personal data, and with the profile gone they name nobody.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from tortoise import Tortoise
from tortoise.transactions import in_transaction

from bot.settings import Settings
from handlers.mall_address import open_address
from handlers.member_cache import member_changed
from handlers.member_crypto import unseal
from handlers.member_phone import PHONE_PURPOSE
from models.mall import MallOrder
from models.members import (
    IdentityKind,
    LevelChange,
    Member,
    MemberIdentity,
    MemberMerge,
    MemberSession,
    MemberStatus,
)

log = logging.getLogger("scrm.members")

# The tables this module exports itself (the rest are found by their member_id).
_OWN = (Member, MemberIdentity, MemberSession, MemberMerge, LevelChange)


def plain(value: Any) -> Any:
    """A stored value as JSON can carry it."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: plain(v) for k, v in row.items()} for row in rows]


async def person_ids(member_id: int) -> list[int]:
    """The member and every member merged into them, at any depth."""
    ids, frontier = [member_id], [member_id]
    while frontier:
        frontier = [row["id"] for row in
                    await Member.filter(merged_into_id__in=frontier).values("id")]
        ids.extend(frontier)
    return ids


def phone_of(member: Member, settings: Settings) -> str | None:
    if not member.phone_cipher:
        return None
    return unseal(settings.members, member.phone_cipher, PHONE_PURPOSE)


async def export_member(member: Member, settings: Settings) -> dict[str, Any]:
    ids = await person_ids(member.id)
    profile = await Member.filter(id__in=ids).order_by("id").values()
    for row in profile:
        row.pop("phone_hash")
        cipher = row.pop("phone_cipher")
        row["phone"] = unseal(settings.members, cipher, PHONE_PURPOSE) if cipher else None
    identities = await MemberIdentity.filter(member_id__in=ids).order_by("id").values(
        "member_id", "kind", "value", "created_at")
    phone = next((row["phone"] for row in profile if row["id"] == member.id), None)
    for row in identities:
        if row["kind"] == IdentityKind.PHONE:  # the hash means nothing to a person
            row["value"] = phone if row["value"] == member.phone_hash else None
    sessions = await MemberSession.filter(member_id__in=ids).order_by("created_at").values(
        "member_id", "created_at", "expires_at", "revoked_at", "client")
    merges = await MemberMerge.filter(survivor_id__in=ids).order_by("id").values(
        "survivor_id", "merged_id", "reason", "moved", "at")
    level_changes = await LevelChange.filter(member_id__in=ids).order_by("id").values(
        "member_id", "from_level", "to_level", "growth", "reason", "at")
    return {
        "member_id": member.id,
        "members": _rows(profile),
        "identities": _rows(identities),
        "sessions": _rows(sessions),
        "merges": _rows(merges),
        "level_changes": _rows(level_changes),
        "records": _open_addresses(await _records_of(ids), settings),
    }


async def _records_of(ids: list[int]) -> dict[str, list[dict[str, Any]]]:
    """Every other table's rows of these members, by table name."""
    records: dict[str, list[dict[str, Any]]] = {}
    for model in Tortoise.apps.get_models_iterable():
        if model in _OWN or "member_id" not in model._meta.fields_map:
            continue
        rows = await model.filter(member_id__in=ids).order_by(model._meta.pk_attr).values()
        records[model._meta.db_table] = _rows(rows)
    return dict(sorted(records.items()))


def _open_addresses(records: dict[str, list[dict[str, Any]]],
                    settings: Settings) -> dict[str, list[dict[str, Any]]]:
    """Mall orders carry their shipping address sealed: the member gets it opened."""
    for row in records.get(MallOrder._meta.db_table, []):
        row["address"] = open_address(settings.members, row.pop("address_cipher"))
    return records


async def erase_member(member_id: int, *, now: datetime) -> None:
    ids = await person_ids(member_id)
    async with in_transaction():
        identities = await MemberIdentity.filter(member_id__in=ids).delete()
        sessions = await MemberSession.filter(member_id__in=ids, revoked_at=None).update(
            revoked_at=now)
        await MemberSession.filter(member_id__in=ids).update(session_key_cipher="", client="")
        await Member.filter(id__in=ids).update(
            nickname="", avatar="", birthday=None, consents={}, guide_userid=None,
            phone_cipher=None, phone_hash=None, erased_at=now, updated_at=now)
        await Member.filter(id=member_id).update(status=MemberStatus.ERASED)
        await MallOrder.filter(member_id__in=ids).update(address_cipher=None)
    await member_changed(*ids)
    log.info("member.erased member=%s merged_members=%d identities=%d sessions_revoked=%d",
             member_id, len(ids) - 1, identities, sessions)
