"""How many group pushes one customer group may receive, and the admission of pushes
under that limit.

WeCom caps the mass messages a group receives per period (wecom-protocol.md §3.10):
currently as many per month as the month has days (admins can switch to 7 per week or
1 per day); older corps: 4 per natural month. Over it, WeCom silently drops the push
(send result 3), so we count our own pushes and record a push over the limit as
`skipped_limit` instead of sending it. Periods are natural days, weeks (from Monday)
and months in Asia/Shanghai, WeCom's time zone, whatever a plan's own time zone.

A push counts from the moment it is admitted (`sending`, `pushed_at` set) so two
dispatchers cannot both admit the last push of a period for one group: admission runs
under a Redis lock per owner (a group has one owner, so its pushes go through the same
lock).
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise.functions import Count

from models.sop import COUNTED_STATUSES, SopTask

__all__ = ["ReceiveLimit", "parse_receive_limit", "WECOM_TZ", "pushes_in_period",
           "Admission", "admit"]

WECOM_TZ = ZoneInfo("Asia/Shanghai")
DAYS_IN_MONTH = "days_in_month"
_PER_PERIOD = re.compile(r"([1-9][0-9]*)/(day|week|month)")


@dataclass(frozen=True)
class ReceiveLimit:
    """`count` pushes per `period` ("day", "week", "month"); `count` None: as many as
    the month has days."""

    period: str
    count: int | None = None

    def period_of(self, now: datetime) -> tuple[datetime, datetime]:
        """The period holding `now`: [start, end) as UTC-aware datetimes."""
        local = now.astimezone(WECOM_TZ)
        day = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
        if self.period == "day":
            start, end = day, day + timedelta(days=1)
        elif self.period == "week":
            start = day - timedelta(days=day.weekday())
            end = start + timedelta(days=7)
        else:
            start = day.replace(day=1)
            end = start + timedelta(days=calendar.monthrange(start.year, start.month)[1])
        return (start.replace(tzinfo=WECOM_TZ).astimezone(UTC),
                end.replace(tzinfo=WECOM_TZ).astimezone(UTC))

    def allowed(self, now: datetime) -> int:
        """Pushes a group may receive in the period holding `now`."""
        if self.count is not None:
            return self.count
        local = now.astimezone(WECOM_TZ)
        return calendar.monthrange(local.year, local.month)[1]


def parse_receive_limit(text: str) -> ReceiveLimit:
    """`days_in_month` | `N/month` | `N/week` | `N/day` (settings.sop.receive_limit)."""
    if text == DAYS_IN_MONTH:
        return ReceiveLimit("month")
    match = _PER_PERIOD.fullmatch(text)
    if match is None:
        raise ValueError(f"receive limit {text!r}: days_in_month or N/month, N/week, N/day")
    return ReceiveLimit(match.group(2), int(match.group(1)))


async def pushes_in_period(chat_ids: Iterable[str], start: datetime, end: datetime
                           ) -> Counter[str]:
    """Pushes each group has had (or has being sent) in [start, end)."""
    rows = await SopTask.filter(
        chat_id__in=list(chat_ids), status__in=list(COUNTED_STATUSES),
        pushed_at__gte=start, pushed_at__lt=end,
    ).annotate(n=Count("id")).group_by("chat_id").values("chat_id", "n")
    return Counter({str(row["chat_id"]): int(row["n"]) for row in rows})


@dataclass(frozen=True)
class Admission:
    admitted: list[SopTask]
    over_limit: list[SopTask]


async def admit(tasks: Sequence[SopTask], limit: ReceiveLimit, now: datetime) -> Admission:
    """Split one owner's claimed tasks (in the order they should go) into those within
    the limit and those over it; the admitted get `pushed_at = now`, so they count for
    the next admission at once. Call it under the owner's lock."""
    start, end = limit.period_of(now)
    allowed = limit.allowed(now)
    counts = await pushes_in_period({t.chat_id for t in tasks}, start, end)
    admitted: list[SopTask] = []
    over: list[SopTask] = []
    for task in tasks:
        if counts[task.chat_id] >= allowed:
            over.append(task)
            continue
        counts[task.chat_id] += 1
        admitted.append(task)
    if admitted:
        await SopTask.filter(id__in=[t.id for t in admitted]).update(pushed_at=now)
        for task in admitted:
            task.pushed_at = now
    return Admission(admitted, over)
