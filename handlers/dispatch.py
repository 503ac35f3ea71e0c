"""Which handler runs for which WeCom event, keyed on (`Event`, `ChangeType`).

An event with no entry here is stored, acknowledged and marked ignored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from handlers import contacts, groups, onboarding, tags

Handler = Callable[[Any, Any], Awaitable[None]]

HANDLERS: dict[tuple[str, str], Handler] = {
    ("change_external_contact", "add_external_contact"): onboarding.on_contact_added,
    ("change_external_contact", "edit_external_contact"): contacts.on_contact_edited,
    ("change_external_contact", "add_half_external_contact"): onboarding.on_half_contact_added,
    ("change_external_contact", "del_external_contact"): contacts.on_staff_deleted_customer,
    ("change_external_contact", "del_follow_user"): contacts.on_customer_deleted_staff,
    ("change_external_contact", "transfer_fail"): contacts.on_transfer_failed,
    ("change_external_chat", "create"): groups.on_chat_created,
    ("change_external_chat", "update"): groups.on_chat_updated,
    ("change_external_chat", "dismiss"): groups.on_chat_dismissed,
    ("change_external_tag", "create"): tags.on_tag_changed,
    ("change_external_tag", "update"): tags.on_tag_changed,
    ("change_external_tag", "delete"): tags.on_tag_changed,
    ("change_external_tag", "shuffle"): tags.on_tag_changed,
}

# Events carrying a WelcomeCode (valid 20 s): they travel in the urgent lane, ahead of
# any backlog of other events.
URGENT: frozenset[tuple[str, str]] = frozenset({
    ("change_external_contact", "add_external_contact"),
    ("change_external_contact", "add_half_external_contact"),
})


def is_urgent(event: str, change_type: str) -> bool:
    return (event.lower(), change_type) in URGENT


def handler_for(event: str, change_type: str) -> Handler | None:
    return HANDLERS.get((event.lower(), change_type))
