"""The channel funnel: per channel and day (or per guide), what adds through the channel
became.

- adds / re_adds: attributions that were a customer's first add of that guide, or not;
- deleted_1d / 7d / 30d: of those adds, customers who deleted the guide within 1, 7 or
  30 days of adding (a churn signal; deletions by the guide do not count);
- net_adds: adds + re_adds − deleted_30d;
- tags: how many of those customers carry each tag now;
- scans: scans of the QR where we can know them (our own landing pages); WeCom does not
  report scans of contact-way QRs, so it is None for them.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from handlers.tags import names_of
from models.channels import Attribution
from models.contacts import FollowRelation, FollowStatus

CHURN_WINDOWS = (1, 7, 30)


@dataclass
class FunnelRow:
    day: date | None
    guide: str | None
    scans: int | None = None
    adds: int = 0
    re_adds: int = 0
    deleted_1d: int = 0
    deleted_7d: int = 0
    deleted_30d: int = 0
    tags: dict[str, int] = field(default_factory=dict)

    @property
    def net_adds(self) -> int:
        return self.adds + self.re_adds - self.deleted_30d

    def as_dict(self) -> dict[str, object]:
        return {
            "day": self.day.isoformat() if self.day else None,
            "guide": self.guide,
            "scans": self.scans,
            "adds": self.adds,
            "re_adds": self.re_adds,
            "deleted_1d": self.deleted_1d,
            "deleted_7d": self.deleted_7d,
            "deleted_30d": self.deleted_30d,
            "net_adds": self.net_adds,
            "tags": dict(sorted(self.tags.items())),
        }


async def channel_funnel(
    channel_id: int, start: date, end: date, by: str = "day"
) -> list[FunnelRow]:
    """Rows for adds between `start` and `end` (inclusive, UTC days), by day or guide."""
    if by not in ("day", "guide"):
        raise ValueError("by must be day or guide")
    since = datetime.combine(start, time.min, UTC)
    until = datetime.combine(end + timedelta(days=1), time.min, UTC)
    adds = await Attribution.filter(
        channel_id=channel_id, added_at__gte=since, added_at__lt=until
    ).order_by("added_at")
    relations = await _relations_of(adds)
    tag_names = await names_of(sorted({t for r in relations.values() for t in r.tag_ids}))
    rows: dict[str, FunnelRow] = {}
    for add in adds:
        day = add.added_at.date()
        key = day.isoformat() if by == "day" else add.staff_userid
        row = rows.setdefault(key, FunnelRow(day=day if by == "day" else None,
                                             guide=add.staff_userid if by == "guide" else None))
        if add.first_add:
            row.adds += 1
        else:
            row.re_adds += 1
        relation = relations.get((add.external_userid, add.staff_userid))
        if relation is None:
            continue
        _count_churn(row, add, relation)
        counted = Counter(row.tags)
        for tag_id in relation.tag_ids:
            ref = tag_names.get(tag_id)
            counted[f"{ref.group}/{ref.name}" if ref else tag_id] += 1
        row.tags = dict(counted)
    return [rows[key] for key in sorted(rows)]


def _count_churn(row: FunnelRow, add: Attribution, relation: FollowRelation) -> None:
    if relation.status != FollowStatus.DELETED_BY_CUSTOMER or relation.deleted_at is None:
        return
    kept_for = relation.deleted_at - add.added_at
    if kept_for < timedelta(0):
        return  # deleted before this add: an older episode
    for days in CHURN_WINDOWS:
        if kept_for <= timedelta(days=days):
            setattr(row, f"deleted_{days}d", getattr(row, f"deleted_{days}d") + 1)


async def _relations_of(adds: list[Attribution]) -> dict[tuple[str, str], FollowRelation]:
    customers = {a.external_userid for a in adds}
    found = await FollowRelation.filter(
        customer__external_userid__in=list(customers)
    ).prefetch_related("customer")
    return {(r.customer.external_userid, r.staff_userid): r for r in found}


CSV_COLUMNS = ("day", "guide", "scans", "adds", "re_adds", "deleted_1d", "deleted_7d",
               "deleted_30d", "net_adds", "tags")


def funnel_csv(rows: list[FunnelRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        data = row.as_dict()
        tags = data.pop("tags")
        assert isinstance(tags, dict)
        writer.writerow([*(data[c] if data[c] is not None else "" for c in CSV_COLUMNS[:-1]),
                         ";".join(f"{k}={v}" for k, v in tags.items())])
    return out.getvalue()
