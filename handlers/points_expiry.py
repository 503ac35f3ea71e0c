"""Points expiry: credit rows whose `expires_at` has passed with points left unspent get
an `expire` entry (key `expire:<entry id>`) that takes what is left off the balance.

The worker's scheduler runs `expire_due_points` every EXPIRY_EVERY_SECONDS (claimed
once per interval across workers); running it twice, or at once in two processes,
expires nothing twice: each row's expiry is a ledger movement with its own key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from handlers.ledger import InsufficientPoints, UnknownMember, expire_entry
from models.points import PointsEntry

log = logging.getLogger("scrm.points")

EXPIRY_EVERY_SECONDS = 600
_BATCH = 500


@dataclass(frozen=True)
class Expired:
    entries: int
    points: int


async def expire_due_points(now: datetime) -> Expired:
    """Expire every credit row due by `now`, oldest first, in batches."""
    entries = points = 0
    skipped: set[int] = set()
    while True:
        due = await (PointsEntry.filter(remaining__gt=0, expires_at__lte=now)
                     .exclude(id__in=skipped or {0}).order_by("expires_at", "id")
                     .limit(_BATCH).values("id"))
        if not due:
            break
        for entry_id in (int(row["id"]) for row in due):
            try:
                taken = await expire_entry(entry_id, now=now)
            except (InsufficientPoints, UnknownMember):
                # The ledger's own invariant says this cannot happen; never loop on it.
                log.exception("points.expire_failed entry_id=%s", entry_id)
                taken = 0
            if taken:
                entries += 1
                points += taken
            else:
                skipped.add(entry_id)
    if entries:
        log.info("points.expired entries=%d points=%d", entries, points)
    return Expired(entries, points)
