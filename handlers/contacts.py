"""Keeping customers and their follow relations in step with WeCom.

Events can arrive out of order (retries, several workers), so each relation remembers
the CreateTime of the event that last set its status and ignores older ones.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.contacts import Customer, FollowRelation, FollowStatus, TransferFailure

if TYPE_CHECKING:
    from bot.events import ExternalContactChange
    from bot.wecom import WeComClient
    from bot.wecom.external_contact import ExternalContactInfo, FollowUser

log = logging.getLogger("scrm.contacts")

ContactAddedHook = Callable[
    ["ExternalContactChange", "WeComClient", FollowRelation], Awaitable[None]
]

# Onboarding (channel attribution, auto-tagging, the welcome message) registers here.
# Hooks run in order after the customer and relation are stored.
CONTACT_ADDED_HOOKS: list[ContactAddedHook] = []


def _event_time(event: ExternalContactChange) -> datetime:
    return datetime.fromtimestamp(event.create_time, UTC)


def _from_epoch(value: int) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value else None


async def upsert_customer(info: ExternalContactInfo) -> Customer:
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
    return await _upsert(Customer, {"external_userid": info.external_userid}, fields)


async def upsert_follow(customer: Customer, follow: FollowUser) -> FollowRelation:
    """Store what WeCom says about the relation; the status is left to events."""
    fields = {
        "remark": follow.remark,
        "description": follow.description,
        "state": follow.state,
        "add_way": follow.add_way,
        "oper_userid": follow.oper_userid,
        "added_at": _from_epoch(follow.createtime),
        "tag_ids": list(follow.tag_ids),
    }
    return await _upsert(
        FollowRelation, {"customer_id": customer.id, "staff_userid": follow.userid}, fields
    )


async def _upsert(model: Any, keys: dict[str, Any], fields: dict[str, Any]) -> Any:
    """Update or create; a concurrent create of the same keys is retried as an update."""
    for _ in range(2):
        try:
            async with in_transaction():
                row, _created = await model.update_or_create(defaults=fields, **keys)
                return row
        except IntegrityError:
            continue
    raise RuntimeError(f"could not upsert {model.__name__} {keys}")


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


async def _customer_stub(external_userid: str) -> Customer:
    return await _upsert(Customer, {"external_userid": external_userid}, {})


async def _relation_stub(customer: Customer, staff_userid: str) -> FollowRelation:
    return await _upsert(
        FollowRelation, {"customer_id": customer.id, "staff_userid": staff_userid}, {}
    )


async def _refresh(event: ExternalContactChange, wecom: WeComClient) -> FollowRelation:
    """Fetch the customer from WeCom and store it with every follow relation."""
    from bot.wecom import NoRelationship

    try:
        detail = await wecom.external_contact.get(event.external_user_id)
    except NoRelationship:
        # The staff member removed the customer before we got here: keep what the
        # event tells us; the deletion event sets the final status.
        log.warning("contact.gone external_userid=%s staff=%s",
                    event.external_user_id, event.user_id)
        customer = await _customer_stub(event.external_user_id)
        return await _relation_stub(customer, event.user_id)
    customer = await upsert_customer(detail.contact)
    relation = None
    for follow in detail.follow_users:
        stored = await upsert_follow(customer, follow)
        if follow.userid == event.user_id:
            relation = stored
    return relation or await _relation_stub(customer, event.user_id)


async def on_contact_added(event: ExternalContactChange, wecom: WeComClient) -> None:
    relation = await _refresh(event, wecom)
    if not relation.state and event.state:
        relation.state = event.state
        await relation.save(update_fields=["state"])
    await _set_status(relation, FollowStatus.ACTIVE, _event_time(event),
                      deleted_source="", deleted_at=None)
    log.info("contact.added external_userid=%s staff=%s state=%s",
             event.external_user_id, event.user_id, event.state)
    for hook in CONTACT_ADDED_HOOKS:
        await hook(event, wecom, relation)


async def on_contact_edited(event: ExternalContactChange, wecom: WeComClient) -> None:
    await _refresh(event, wecom)


async def on_half_contact_added(event: ExternalContactChange, wecom: WeComClient) -> None:
    """免验证 add not yet confirmed by the staff member: WeCom's APIs answer 84061 for
    it, so only the event's facts are stored."""
    customer = await _customer_stub(event.external_user_id)
    relation = await _relation_stub(customer, event.user_id)
    if event.state and not relation.state:
        relation.state = event.state
    await _set_status(relation, FollowStatus.HALF, _event_time(event))


async def _mark_deleted(
    event: ExternalContactChange, status: FollowStatus, source: str
) -> None:
    customer = await _customer_stub(event.external_user_id)
    relation = await _relation_stub(customer, event.user_id)
    at = _event_time(event)
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
        occurred_at=_event_time(event),
        defaults={"reason": event.fail_reason or ""},
    )
    log.warning("contact.transfer_failed external_userid=%s to=%s reason=%s",
                event.external_user_id, event.user_id, event.fail_reason)
