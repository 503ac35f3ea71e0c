"""Onboarding a new contact: channel attribution, the welcome message, auto-tagging and
the remark, in that order of urgency; a customer with a unionid is also linked to their
member (handlers.member_identity: One ID, the first-guide-add points).

The welcome goes first (its code dies 20 s after the add); storing the customer,
crediting the channel, marking tags and setting the remark follow. Every step is safe
to repeat: a retried event sends no second welcome and counts no second add.

The welcome path is kept lean: the channel, the guide's name and the tag rules come
from per-process caches (handlers.local_cache), so before the welcome an add
costs one WeCom call (the customer, for {customer_name}) and one query (was this add
welcomed already?). The rest writes as few statements as it can: the relation comes
back from its upsert, the attribution is one INSERT, tags and remark one UPDATE.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import TYPE_CHECKING

from tortoise import connections

from handlers import contacts
from handlers.channels import channel_for_state, is_active
from handlers.member_identity import link_wecom_contact
from handlers.tags import sync_corp_tags, tag_rules
from handlers.welcome import guide_name, render, send_welcome, welcome_done
from models.channels import Attribution, Channel
from models.contacts import FollowRelation, FollowStatus
from models.tags import Tag
from models.upsert import placeholders

if TYPE_CHECKING:
    from bot.events import ExternalContactChange
    from bot.wecom import WeComClient

log = logging.getLogger("scrm.onboarding")

MAX_REMARK_CHARS = 20


async def on_contact_added(event: ExternalContactChange, wecom: WeComClient) -> None:
    at = contacts.event_time(event)
    channel = await channel_for_state(event.state or "")
    active = is_active(channel, at)
    detail = await contacts.fetch_contact(event, wecom)
    values = {
        "customer_name": detail.contact.name if detail else "",
        "guide_name": await guide_name(event.user_id, wecom),
        "channel_name": channel.name,
    }
    await send_welcome(event, channel, values, wecom, apply_channel=active)
    await welcome_done()  # the rest waits while other adds wait for their welcome
    relation = await contacts.store_contact(event, detail)
    await contacts.mark_added(event, relation)
    await attribute(event, channel, at)
    if detail is not None and detail.contact.unionid:  # One ID: the member with this unionid
        await link_wecom_contact(detail.contact.unionid, event.external_user_id,
                                 event.user_id, settings=wecom.settings, now=at)
    if relation.status != FollowStatus.ACTIVE:
        return  # a newer event removed the relation meanwhile
    wanted = list(channel.tag_ids) if active else []
    wanted += await rule_tags(channel, relation, detail.contact.type if detail else None)
    # Tags and remark are independent calls: made together, recorded in one UPDATE.
    steps = [apply_tags(event, list(dict.fromkeys(wanted)), relation, wecom)]
    if active:
        steps.append(apply_remark(event, channel, relation, values, wecom))
    changed = [name for names in await asyncio.gather(*steps) for name in names]
    if changed:
        await relation.save(update_fields=[*changed, "updated_at"])


async def on_half_contact_added(event: ExternalContactChange, wecom: WeComClient) -> None:
    """免验证 add still awaiting the guide: the welcome can go now (its code comes with
    this event); tags and attribution wait for the add that confirms it."""
    at = contacts.event_time(event)
    channel = await channel_for_state(event.state or "")
    values = {"customer_name": "", "guide_name": await guide_name(event.user_id, wecom),
              "channel_name": channel.name}
    await send_welcome(event, channel, values, wecom, apply_channel=is_active(channel, at))
    await welcome_done()
    await contacts.on_half_contact_added(event, wecom)


async def attribute(event: ExternalContactChange, channel: Channel, at: datetime) -> None:
    """Credit the add to the channel, once (a retried event finds it credited): one
    INSERT, `first_add` unless an earlier add of this customer to this guide exists."""
    conn = connections.get("default")
    p = placeholders(conn.capabilities.dialect, 0, 8)
    stamp = Attribution._meta.fields_map["added_at"].to_db_value(at, Attribution)
    ext, staff = event.external_user_id, event.user_id
    rows = await conn.execute_query_dict(
        "INSERT INTO attribution (channel_id, staff_userid, external_userid, state, added_at, "
        f"first_add) VALUES ({p[0]}, {p[1]}, {p[2]}, {p[3]}, {p[4]}, NOT EXISTS (SELECT 1 "
        f"FROM attribution WHERE external_userid = {p[5]} AND staff_userid = {p[6]} "
        f"AND added_at < {p[7]})) ON CONFLICT (external_userid, staff_userid, added_at) "
        "DO NOTHING RETURNING first_add",
        [channel.id, staff, ext, event.state or "", stamp, ext, staff, stamp],
    )
    if not rows:
        return  # this add is already credited (the event is being retried)
    log.info("onboarding.attributed channel=%s external_userid=%s staff=%s first_add=%s",
             channel.id, ext, staff, bool(rows[0]["first_add"]))


async def rule_tags(
    channel: Channel, relation: FollowRelation, customer_type: int | None
) -> list[str]:
    """Tags of the tag rules this add matches (empty conditions match everything)."""
    tags: list[str] = []
    for rule in await tag_rules():
        if rule.channel_kind and rule.channel_kind != channel.kind:
            continue
        if rule.state_prefix and not relation.state.startswith(rule.state_prefix):
            continue
        if rule.add_way is not None and rule.add_way != relation.add_way:
            continue
        if rule.customer_type is not None and rule.customer_type != customer_type:
            continue
        tags.extend(rule.tag_ids)
    return tags


async def apply_tags(
    event: ExternalContactChange, tag_ids: list[str], relation: FollowRelation,
    wecom: WeComClient,
) -> list[str]:
    """Mark the tags the relation lacks; returns the fields changed, for the caller to
    save."""
    return await mark_tags(event.user_id, event.external_user_id, tag_ids, relation, wecom,
                           save=False) or []


async def mark_tags(
    staff_userid: str, external_userid: str, tag_ids: list[str], relation: FollowRelation,
    wecom: WeComClient, *, save: bool = True,
) -> list[str] | None:
    """Mark on the relation the tags it lacks; returns the fields changed (saved with
    `save`), or None when WeCom says the two are not contacts (nothing marked)."""
    from bot.wecom import InvalidTag, NoRelationship

    wanted = [t for t in tag_ids if t not in relation.tag_ids]
    if not wanted:
        return []
    try:
        await wecom.corp_tag.mark(staff_userid, external_userid, add=wanted)
    except InvalidTag:
        # A tag was deleted in the console: refresh the mirror and keep what still exists.
        await sync_corp_tags(wecom)
        wanted = [row["tag_id"] for row in await Tag.filter(tag_id__in=wanted).values("tag_id")]
        if not wanted:
            return []
        await wecom.corp_tag.mark(staff_userid, external_userid, add=wanted)
    except NoRelationship:
        log.warning("onboarding.tags_skipped external_userid=%s staff=%s: no relationship",
                    external_userid, staff_userid)
        return None
    relation.tag_ids = [*relation.tag_ids, *wanted]
    if save:
        await relation.save(update_fields=["tag_ids", "updated_at"])
    log.info("onboarding.tagged external_userid=%s staff=%s tags=%s",
             external_userid, staff_userid, ",".join(wanted))
    return ["tag_ids"]


async def apply_remark(
    event: ExternalContactChange, channel: Channel, relation: FollowRelation,
    values: dict[str, str], wecom: WeComClient,
) -> list[str]:
    """Set the channel's remark; returns the fields changed, for the caller to save."""
    if not channel.remark_template:
        return []
    remark = render(channel.remark_template, values)[:MAX_REMARK_CHARS]
    if not remark or remark == relation.remark:
        return []
    await wecom.external_contact.remark(event.user_id, event.external_user_id, remark=remark)
    relation.remark = remark
    return ["remark"]
