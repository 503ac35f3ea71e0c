"""What a member may change about themselves: nickname, avatar, birthday and consents,
and the rules for each.

- nickname: 1–32 characters (surrounding blanks dropped).
- avatar: an http(s) URL of at most 512 characters.
- birthday: a real date, not in the future, after 1900 — set once. It decides the
  birthday gift and the birthday month bonus, so a member cannot move it to collect
  them again; a wrong one is corrected by an operator.
- consents: an object of booleans (at most 20, names of at most 32 characters),
  merged into the ones given before.

A change that breaks a rule raises `ProfileInputError` naming the field, and nothing
is saved.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlsplit

from handlers.input_error import DomainInputError
from handlers.member_cache import member_changed
from handlers.points_rules import local_day
from models.members import Member

log = logging.getLogger("scrm.members")

MAX_NICKNAME_CHARS = 32
MAX_AVATAR_CHARS = 512
MAX_CONSENTS = 20
MAX_CONSENT_NAME_CHARS = 32
EARLIEST_BIRTHDAY = date(1900, 1, 1)


class ProfileInputError(DomainInputError):
    """Bad profile input, naming the field; nothing was stored."""


@dataclass
class ProfileChanges:
    """The fields a PATCH carries; None: not given."""

    nickname: str | None = None
    avatar: str | None = None
    birthday: date | None = None
    consents: dict[str, bool] | None = None


def _nickname(value: str) -> str:
    value = value.strip()
    if not 1 <= len(value) <= MAX_NICKNAME_CHARS:
        raise ProfileInputError("nickname", f"must be 1-{MAX_NICKNAME_CHARS} characters")
    return value


def _avatar(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ProfileInputError("avatar", "must be an http(s) URL")
    if len(value) > MAX_AVATAR_CHARS:
        raise ProfileInputError("avatar", f"must be at most {MAX_AVATAR_CHARS} characters")
    return value


def _birthday(member: Member, value: date, today: date) -> date:
    if not EARLIEST_BIRTHDAY <= value <= today:
        raise ProfileInputError("birthday", "must be a past date after 1900-01-01")
    if member.birthday is not None and member.birthday != value:
        raise ProfileInputError("birthday", "is set already and can be set only once")
    return value


def _consents(member: Member, value: dict[str, bool]) -> dict[str, bool]:
    merged = {**member.consents, **value}
    if len(merged) > MAX_CONSENTS:
        raise ProfileInputError("consents", f"at most {MAX_CONSENTS} consents")
    for name in value:
        if not 1 <= len(name) <= MAX_CONSENT_NAME_CHARS:
            raise ProfileInputError(f"consents.{name[:MAX_CONSENT_NAME_CHARS]}",
                                    f"names are 1-{MAX_CONSENT_NAME_CHARS} characters")
    return merged


async def update_profile(member: Member, changes: ProfileChanges, *,
                         now: datetime) -> Member:
    """Check every given field, then save them together; returns the member."""
    values: dict[str, object] = {}
    if changes.nickname is not None:
        values["nickname"] = _nickname(changes.nickname)
    if changes.avatar is not None:
        values["avatar"] = _avatar(changes.avatar)
    if changes.birthday is not None:
        # Members are in China: "not in the future" is by their calendar.
        values["birthday"] = _birthday(member, changes.birthday, local_day(now))
    if changes.consents is not None:
        values["consents"] = _consents(member, changes.consents)
    if values:
        for name, value in values.items():
            setattr(member, name, value)
        await member.save(update_fields=[*values, "updated_at"])
        await member_changed(member.id)
        log.info("member.profile_updated member=%s fields=%s", member.id, ",".join(values))
    return member
