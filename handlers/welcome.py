"""The welcome message for a new contact, sent with the add event's WelcomeCode.

The code is valid 20 seconds and once, so this runs first in the add handler and never
sends twice: the outcome of every add is recorded, and a retried event finds it.
41096 (another app is sending) is retried shortly within the code's life; 41050
(expired) and 41051 (already chatted or already welcomed) are recorded, not retried.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from handlers.contacts import event_time
from handlers.local_cache import LocalCache
from models.channels import Channel, Staff, WelcomeMessage, WelcomeStatus
from models.upsert import find_row, insert_row

if TYPE_CHECKING:
    from bot.events import ExternalContactChange
    from bot.wecom import WeComClient

log = logging.getLogger("scrm.welcome")

CODE_LIFETIME_SECONDS = 20.0
# 41096 retries: first wait, and the margin kept before the code's 20 s run out.
RETRY_FIRST_WAIT = 0.5
RETRY_MARGIN = 1.0

PLACEHOLDERS = ("customer_name", "guide_name", "channel_name")

# Set by the event processor (bot.processing) for each event it runs: awaited once the
# welcome is out, it lets the rest of the handler go on without holding a slot that
# other events' welcomes are waiting for, and behind them. Unset (a direct call): no-op.
AFTER_WELCOME: ContextVar[Callable[[], Awaitable[None]] | None] = ContextVar(
    "after_welcome", default=None)


async def welcome_done() -> None:
    """The urgent part of this event is over (see AFTER_WELCOME)."""
    hook = AFTER_WELCOME.get()
    if hook is not None:
        await hook()


# Guides' names, per process (they are fetched from WeCom once and stored in `staff`).
GUIDE_NAME_CACHE_SECONDS = 300.0
_guide_names: LocalCache[str] = LocalCache(GUIDE_NAME_CACHE_SECONDS)


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill `{customer_name}`, `{guide_name}`, `{channel_name}`; other braces stay."""
    for name in PLACEHOLDERS:
        template = template.replace("{" + name + "}", values.get(name, ""))
    return template


async def guide_name(userid: str, wecom: WeComClient) -> str:
    """The guide's name from the local cache, fetched from WeCom once."""
    from bot.wecom import WeComError, WeComUnavailable

    cached = _guide_names.get(userid)
    if cached is not None:
        return cached
    staff = await Staff.get_or_none(userid=userid)
    if staff is not None and staff.name:
        return _guide_names.put(userid, staff.name)
    try:
        info = await wecom.user.get(userid)
    except (WeComError, WeComUnavailable) as exc:
        log.warning("welcome.guide_name_unknown userid=%s error=%s", userid, exc)
        return ""
    await Staff.update_or_create(userid=userid, defaults={"name": info.name})
    return _guide_names.put(userid, info.name) if info.name else info.name


def has_welcome(channel: Channel) -> bool:
    return bool(channel.welcome_text or channel.welcome_attachments)


async def send_welcome(
    event: ExternalContactChange,
    channel: Channel,
    values: Mapping[str, str],
    wecom: WeComClient,
    *,
    apply_channel: bool = True,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> WelcomeMessage:
    """Send (at most once) and record the welcome for this add."""
    key = {"external_userid": event.external_user_id, "staff_userid": event.user_id,
           "added_at": event_time(event)}
    done = await find_row(WelcomeMessage, key)
    if done is not None:
        return done
    if not event.welcome_code:
        outcome: tuple[WelcomeStatus, int | None, str, int] = (
            WelcomeStatus.WECOM_DEFAULT, None, "no WelcomeCode: WeCom's own welcome applies", 0)
    elif not apply_channel or not has_welcome(channel):
        why = "channel outside its active window" if not apply_channel else "no welcome set"
        outcome = (WelcomeStatus.NOT_CONFIGURED, None, why, 0)
    else:
        text = render(channel.welcome_text, values) if channel.welcome_text else None
        outcome = await _send(event, text, channel.welcome_attachments, wecom, clock, sleep)
    status, errcode, detail, attempts = outcome
    row = await insert_row(WelcomeMessage, {
        "channel_id": channel.id, "welcome_code": event.welcome_code or "", "status": status,
        "errcode": errcode, "detail": detail, "attempts": attempts,
        "finished_at": datetime.now(UTC), **key,
    }, unless=list(key))
    if row is None:  # recorded meanwhile (cannot happen while the event is claimed)
        return await WelcomeMessage.get(**key)
    log.info("welcome.%s external_userid=%s staff=%s channel=%s attempts=%d%s",
             status.value, event.external_user_id, event.user_id, channel.id, attempts,
             f" errcode={errcode}" if errcode is not None else "")
    return row


async def _send(
    event: ExternalContactChange,
    text: str | None,
    attachments: list,
    wecom: WeComClient,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
) -> tuple[WelcomeStatus, int | None, str, int]:
    from bot.wecom import (
        AlreadyChatted,
        WeComError,
        WeComUnavailable,
        WelcomeCodeInvalid,
        WelcomeSending,
    )

    expires = event.create_time + CODE_LIFETIME_SECONDS
    wait, attempts = RETRY_FIRST_WAIT, 0
    while True:
        attempts += 1
        try:
            await wecom.external_contact.send_welcome_msg(event.welcome_code, text, attachments)
            return WelcomeStatus.SENT, None, "", attempts
        except WelcomeSending as exc:
            if clock() + wait > expires - RETRY_MARGIN:
                return WelcomeStatus.FAILED, exc.errcode, "41096 until the code ran out", attempts
            await sleep(wait)
            wait *= 2
        except WelcomeCodeInvalid as exc:
            return WelcomeStatus.CODE_EXPIRED, exc.errcode, exc.errmsg, attempts
        except AlreadyChatted as exc:
            return WelcomeStatus.ALREADY_CHATTED, exc.errcode, exc.errmsg, attempts
        except WeComError as exc:
            return WelcomeStatus.FAILED, exc.errcode, exc.errmsg, attempts
        except WeComUnavailable as exc:
            return WelcomeStatus.FAILED, None, str(exc), attempts
