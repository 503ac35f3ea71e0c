"""Operators' local labels on customer groups ("store:Shanghai-01", "VIP group"), used to
target SOP plans. WeCom does not know them.

A label is 1 to 64 characters after trimming; a group carries at most 20. Replacing a
group's labels and changing many groups at once each run in one transaction, so a
change that would break a rule for one group changes none.
"""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.transactions import in_transaction

from handlers.input_error import GroupInputError
from models.groups import GroupChat, GroupLabel

MAX_LABEL_CHARS = 64
MAX_LABELS_PER_GROUP = 20
MAX_BULK_GROUPS = 1000


def clean_labels(field: str, labels: Sequence[str]) -> list[str]:
    """The labels trimmed and checked, duplicates dropped, order kept."""
    cleaned: list[str] = []
    for index, raw in enumerate(labels):
        label = raw.strip()
        if not 1 <= len(label) <= MAX_LABEL_CHARS:
            raise GroupInputError(f"{field}[{index}]",
                                  f"1-{MAX_LABEL_CHARS} characters after trimming")
        cleaned.append(label)
    return list(dict.fromkeys(cleaned))


async def labels_of(chat_ids: Sequence[str]) -> dict[str, list[str]]:
    """chat_id → its labels (sorted), in one query."""
    found: dict[str, list[str]] = {chat_id: [] for chat_id in chat_ids}
    rows = await GroupLabel.filter(chat_id__in=list(chat_ids)).order_by("label").values_list(
        "chat_id", "label")
    for chat_id, label in rows:
        found[str(chat_id)].append(str(label))
    return found


def _check_count(chat_id: str, count: int) -> None:
    if count > MAX_LABELS_PER_GROUP:
        raise GroupInputError("labels", f"group {chat_id} would carry {count} labels; "
                                        f"at most {MAX_LABELS_PER_GROUP}")


async def replace_labels(chat_id: str, labels: Sequence[str]) -> list[str]:
    """Make `labels` the group's labels; returns them as stored."""
    wanted = clean_labels("labels", labels)
    _check_count(chat_id, len(wanted))
    async with in_transaction():
        await GroupLabel.filter(chat_id=chat_id).exclude(label__in=wanted).delete()
        await GroupLabel.bulk_create([GroupLabel(chat_id=chat_id, label=label)
                                      for label in wanted], ignore_conflicts=True)
    return (await labels_of([chat_id]))[chat_id]


async def change_labels(chat_ids: Sequence[str], add: Sequence[str],
                        remove: Sequence[str]) -> dict[str, list[str]]:
    """Add and remove labels on many groups (all of them groups we hold); returns each
    group's labels as stored."""
    groups = list(dict.fromkeys(chat_ids))
    if not 1 <= len(groups) <= MAX_BULK_GROUPS:
        raise GroupInputError("chat_ids", f"1 to {MAX_BULK_GROUPS} groups")
    added, removed = clean_labels("add", add), clean_labels("remove", remove)
    if not added and not removed:
        raise GroupInputError("add", "give labels to add or to remove")
    both = set(added) & set(removed)
    if both:
        raise GroupInputError("remove", f"both added and removed: {', '.join(sorted(both))}")
    held = set(await GroupChat.filter(chat_id__in=groups).values_list("chat_id", flat=True))
    unknown = [c for c in groups if c not in held]
    if unknown:
        raise GroupInputError("chat_ids", f"not groups we hold: {', '.join(unknown[:10])}")
    async with in_transaction():
        if removed:
            await GroupLabel.filter(chat_id__in=groups, label__in=removed).delete()
        current = await labels_of(groups)
        for chat_id in groups:
            _check_count(chat_id, len(set(current[chat_id]) | set(added)))
        await GroupLabel.bulk_create(
            [GroupLabel(chat_id=chat_id, label=label) for chat_id in groups for label in added],
            ignore_conflicts=True)
    return await labels_of(groups)
