"""Keeping customers and their follow relations in step with WeCom.

Events can arrive out of order (retries, several workers), so each relation remembers
the CreateTime of the event that last set its status and ignores older ones.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from models.contacts import Customer, FollowRelation, FollowStatus, TransferFailure
from models.upsert import upsert, upsert_row

if TYPE_CHECKING:
    from bot.events import ExternalContactChange
    from bot.wecom import WeComClient
    from bot.wecom.external_contact import ContactDetail, ExternalContactInfo, FollowUser

log = logging.getLogger("scrm.contacts")


def event_time(event: ExternalContactChange) -> datetime:
    return datetime.fromtimestamp(event.create_time, UTC)


def _from_epoch(value: int) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value else None


async def upsert_customer(info: ExternalContactInfo) -> int:
    """Store the customer; return its id."""
    fields = {
        "name": info.name,
        "avatar": info.avatar,
        "type": info.type,
        "gender": info.gender,
        "unionid": info.unionid or None,
        "corp_name": info.corp_name,
        "corp_full_name": info.corp_full_name,
        "position": info.position,
    }
    return await upsert(Customer, {"external_userid": info.external_userid}, fields)


def _follow_fields(follow: FollowUser) -> dict[str, Any]:
    return {
        "remark": follow.remark,
        "description": follow.description,
        "state": follow.state,
        "add_way": follow.add_way,
        "oper_userid": follow.oper_userid,
        "added_at": _from_epoch(follow.createtime),
        "tag_ids": list(follow.tag_ids),
    }


async def upsert_follow(customer_id: int, follow: FollowUser) -> int:
    """Store what WeCom says about the relation (the status is left to events)."""
    return await upsert(
        FollowRelation, {"customer_id": customer_id, "staff_userid": follow.userid},
        _follow_fields(follow),
    )


async def _set_status(
    relation: FollowRelation, status: FollowStatus, at: datetime, **extra: Any
) -> bool:
    """Move the relation to `status` unless a newer event already set it."""
    if relation.status_changed_at is not None and relation.status_changed_at > at:
        log.info("contact.stale_event relation=%s status=%s kept=%s",
                 relation.id, status.value, relation.status.value)
        return False
    relation.status = status
    relation.status_changed_at = at
    for key, value in extra.items():
        setattr(relation, key, value)
    await relation.save()
    return True


async def _relation_of(external_userid: str, staff_userid: str) -> FollowRelation:
    """The relation row, created bare (no WeCom data) when it does not exist yet."""
    customer_id = await upsert(Customer, {"external_userid": external_userid}, {})
    return await upsert_row(
        FollowRelation, {"customer_id": customer_id, "staff_userid": staff_userid}, {}
    )


async def fetch_contact(
    event: ExternalContactChange, wecom: WeComClient
) -> ContactDetail | None:
    """The customer and their followers from WeCom; None when the staff member already
    removed the customer (84061): the deletion event sets the final status."""
    from bot.wecom import NoRelationship

    try:
        return await wecom.external_contact.get(event.external_user_id)
    except NoRelationship:
        log.warning("contact.gone external_userid=%s staff=%s",
                    event.external_user_id, event.user_id)
        return None


async def store_contact(
    event: ExternalContactChange, detail: ContactDetail | None
) -> FollowRelation:
    """Store the customer with every follow relation; return the event's relation."""
    if detail is None:
        return await _relation_of(event.external_user_id, event.user_id)
    customer_id = await upsert_customer(detail.contact)
    relation: FollowRelation | None = None
    for follow in detail.follow_users:
        if follow.userid == event.user_id:  # the row comes back from its own upsert
            relation = await upsert_row(
                FollowRelation, {"customer_id": customer_id, "staff_userid": follow.userid},
                _follow_fields(follow),
            )
        else:
            await upsert_follow(customer_id, follow)
    if relation is None:
        relation = await upsert_row(
            FollowRelation, {"customer_id": customer_id, "staff_userid": event.user_id}, {})
    return relation


async def mark_added(event: ExternalContactChange, relation: FollowRelation) -> bool:
    """The relation is active from the event's time on; False when the event is stale."""
    if not relation.state and event.state:
        relation.state = event.state
        await relation.save(update_fields=["state"])
    added = await _set_status(relation, FollowStatus.ACTIVE, event_time(event),
                              deleted_source="", deleted_at=None)
    log.info("contact.added external_userid=%s staff=%s state=%s",
             event.external_user_id, event.user_id, event.state)
    return added


async def on_contact_edited(event: ExternalContactChange, wecom: WeComClient) -> None:
    await store_contact(event, await fetch_contact(event, wecom))


async def on_half_contact_added(event: ExternalContactChange, wecom: WeComClient) -> None:
    """免验证 add not yet confirmed by the staff member: WeCom's APIs answer 84061 for
    it, so only the event's facts are stored."""
    relation = await _relation_of(event.external_user_id, event.user_id)
    if event.state and not relation.state:
        relation.state = event.state
    await _set_status(relation, FollowStatus.HALF, event_time(event))


async def _mark_deleted(
    event: ExternalContactChange, status: FollowStatus, source: str
) -> None:
    relation = await _relation_of(event.external_user_id, event.user_id)
    at = event_time(event)
    if await _set_status(relation, status, at, deleted_source=source, deleted_at=at):
        log.info("contact.deleted external_userid=%s staff=%s by=%s source=%s",
                 event.external_user_id, event.user_id, status.value, source)


async def on_staff_deleted_customer(event: ExternalContactChange, wecom: WeComClient) -> None:
    await _mark_deleted(event, FollowStatus.DELETED_BY_STAFF, event.del_source or "")


async def on_customer_deleted_staff(event: ExternalContactChange, wecom: WeComClient) -> None:
    await _mark_deleted(event, FollowStatus.DELETED_BY_CUSTOMER, "")


async def on_transfer_failed(event: ExternalContactChange, wecom: WeComClient) -> None:
    await TransferFailure.get_or_create(
        staff_userid=event.user_id,
        external_userid=event.external_user_id,
        occurred_at=event_time(event),
        defaults={"reason": event.fail_reason or ""},
    )
    log.warning("contact.transfer_failed external_userid=%s to=%s reason=%s",
                event.external_user_id, event.user_id, event.fail_reason)
