"""Order import (积分通): orders from other sales channels earn the same points and
growth as anywhere else, once, and a refund takes them back, once.

Rows come checked (handlers/order_rows.py; the importers refuse a file with any bad
row before importing one) and are imported in batches: one query per identity kind
finds the batch's members, and each batch is one transaction in which every order is
stored (unique channel + order id) and credited through the ledger
(`order:<channel>:<id>`; a refund reverses it as `refund:<channel>:<id>`). Importing a
file again, or two at once, changes nothing twice.

An order whose member is unknown is stored unmatched (member_id null, nothing
credited). It is credited when a later import names it again and its member now
exists, or when `claim_unmatched_orders` runs for a member who has just gained the
identity the order names. A refund of an order never credited just marks it refunded.
Points use the member's level when the order is credited.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from handlers.ledger import UnknownMember, award, reverse, utc
from handlers.member_cache import announcing_transaction
from handlers.order_rows import MEMBER_ID, OrderRow
from handlers.points_rules import order_points
from models.members import Member, MemberIdentity, MemberStatus
from models.points import ImportedOrder, OrderStatus
from models.upsert import insert_row

if TYPE_CHECKING:
    from bot.settings import Settings
    from bot.wecom import WeComClient

log = logging.getLogger("scrm.orders")

BATCH = 500
# A member id may name a merged member: follow merged_into this many times at most.
_MAX_MERGE_HOPS = 5


@dataclass
class ImportSummary:
    """imported: orders seen for the first time; matched: orders credited to a member
    now (new ones, or stored unmatched ones whose member exists now); unmatched: new
    orders whose member is unknown; duplicates: rows that changed nothing; refunded:
    orders marked refunded now (their points and growth taken back if credited)."""

    imported: int = 0
    matched: int = 0
    unmatched: int = 0
    duplicates: int = 0
    refunded: int = 0

    def add(self, other: ImportSummary) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    def as_json(self) -> dict[str, int]:
        return asdict(self)

    def line(self) -> str:
        return (f"imported {self.imported} orders: matched {self.matched}, unmatched "
                f"{self.unmatched}, duplicates {self.duplicates}, refunded {self.refunded}")


@dataclass(frozen=True)
class _Context:
    settings: Settings
    now: datetime
    wecom: WeComClient | None
    levels: dict[int, int]  # member id → level, for the batch's members


async def import_orders(rows: Iterable[OrderRow], settings: Settings, now: datetime, *,
                        wecom: WeComClient | None = None,
                        on_rows: Callable[[int], object] | None = None) -> ImportSummary:
    """Import checked rows in order, BATCH at a time; `on_rows(n)` after each batch."""
    summary = ImportSummary()
    for batch in _batches(rows):
        summary.add(await _import_batch(batch, settings, now, wecom))
        if on_rows is not None:
            on_rows(len(batch))
    log.info("orders.imported %s", " ".join(f"{k}={v}" for k, v in summary.as_json().items()))
    return summary


async def claim_unmatched_orders(member_id: int, settings: Settings, now: datetime, *,
                                 wecom: WeComClient | None = None) -> int:
    """Credit the member with the stored unmatched paid orders that name one of their
    identities (call it when a member gains an identity); returns how many."""
    held = [(str(k), str(v)) for k, v in await MemberIdentity.filter(
        member_id=member_id).values_list("kind", "value")]
    held.append((MEMBER_ID, str(member_id)))
    claimed = 0
    for kind, value in held:
        orders = await ImportedOrder.filter(identity_kind=kind, identity_value=value,
                                            member_id=None, status=OrderStatus.PAID)
        if not orders:
            continue
        level = (await Member.get(id=member_id)).level
        context = _Context(settings, now, wecom, {member_id: level})
        for order in orders:
            async with announcing_transaction():
                claimed += await _claim(order.id, _row_of(order), member_id, context)
    return claimed


def _batches(rows: Iterable[OrderRow]) -> Iterator[list[OrderRow]]:
    batch: list[OrderRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


async def _import_batch(batch: Sequence[OrderRow], settings: Settings, now: datetime,
                        wecom: WeComClient | None) -> ImportSummary:
    members = await _resolve(batch)
    levels = dict(await Member.filter(id__in=set(members.values())).values_list("id", "level"))
    context = _Context(settings, now, wecom, {int(k): int(v) for k, v in levels.items()})
    done = ImportSummary()
    # Members in ascending order (a row's own order kept within a member), so that
    # concurrent imports take the members' rows in the same order and cannot deadlock.
    ordered = sorted(enumerate(batch), key=lambda item: (
        members.get((item[1].identity_kind, item[1].identity_value), 0), item[0]))
    async with announcing_transaction():
        for _, row in ordered:
            member_id = members.get((row.identity_kind, row.identity_value))
            if row.status == OrderStatus.PAID:
                await _paid(row, member_id, context, done)
            else:
                await _refunded(row, member_id, context, done)
    return done


async def _paid(row: OrderRow, member_id: int | None, context: _Context,
                done: ImportSummary) -> None:
    points, growth = (order_points(row.amount_cents, context.levels[member_id], context.settings)
                      if member_id is not None else (0, 0))
    stored = await insert_row(ImportedOrder, {
        **_order_fields(row, context.now), "member_id": member_id, "points": points,
        "growth": growth, "status": OrderStatus.PAID}, unless=("channel", "order_id"))
    if stored is not None:
        done.imported += 1
        if member_id is not None and await _credit(row, member_id, points, growth, context):
            done.matched += 1
        else:
            done.unmatched += 1
        return
    held = await ImportedOrder.get(channel=row.channel, order_id=row.order_id)
    if (member_id is not None and held.member_id is None and held.status == OrderStatus.PAID
            and await _claim(held.id, row, member_id, context)):
        done.matched += 1
    else:
        done.duplicates += 1


async def _refunded(row: OrderRow, member_id: int | None, context: _Context,
                    done: ImportSummary) -> None:
    stored = await insert_row(ImportedOrder, {
        **_order_fields(row, context.now), "member_id": member_id,
        "status": OrderStatus.REFUNDED, "refunded_at": utc(context.now)},
        unless=("channel", "order_id"))
    if stored is not None:  # refunded before we ever saw it paid: nothing was credited
        done.imported += 1
        done.refunded += 1
        return
    held = await ImportedOrder.get(channel=row.channel, order_id=row.order_id)
    turned = await ImportedOrder.filter(id=held.id, status=OrderStatus.PAID).update(
        status=OrderStatus.REFUNDED, refunded_at=utc(context.now))
    if not turned:
        done.duplicates += 1
        return
    done.refunded += 1
    if held.member_id is not None:
        await reverse(row.key, key=row.refund_key, reason=f"退款 {row.channel}:{row.order_id}",
                      now=context.now, settings=context.settings, wecom=context.wecom)


async def _claim(order_id: int, row: OrderRow, member_id: int, context: _Context) -> bool:
    """Credit a stored unmatched order to `member_id` (once: conditional on it still
    being unmatched)."""
    points, growth = order_points(row.amount_cents, context.levels[member_id], context.settings)
    claimed = await ImportedOrder.filter(id=order_id, member_id=None,
                                         status=OrderStatus.PAID).update(
        member_id=member_id, points=points, growth=growth)
    return bool(claimed) and await _credit(row, member_id, points, growth, context)


async def _credit(row: OrderRow, member_id: int, points: int, growth: int,
                  context: _Context) -> bool:
    """Award the order; a member erased or merged since the batch found them leaves
    the order unmatched instead."""
    try:
        await award(member_id, points, key=row.key, growth=growth,
                    reason=f"订单 {row.channel}:{row.order_id}", now=context.now,
                    settings=context.settings, wecom=context.wecom)
    except UnknownMember:
        await ImportedOrder.filter(channel=row.channel, order_id=row.order_id).update(
            member_id=None, points=0, growth=0)
        return False
    if growth:  # the next order of this member earns at the level this one reached
        context.levels[member_id] = (await Member.get(id=member_id)).level
    return True


def _order_fields(row: OrderRow, now: datetime) -> dict[str, Any]:
    return {"channel": row.channel, "order_id": row.order_id,
            "identity_kind": row.identity_kind, "identity_value": row.identity_value,
            "amount_cents": row.amount_cents, "paid_at": utc(row.paid_at),
            "imported_at": utc(now)}


def _row_of(order: ImportedOrder) -> OrderRow:
    return OrderRow(order.channel, order.order_id, order.identity_kind, order.identity_value,
                    order.amount_cents, order.paid_at, OrderStatus(order.status))


async def _resolve(batch: Sequence[OrderRow]) -> dict[tuple[str, str], int]:
    """(kind, value) → the active member it names, for the batch's identities: one
    query per kind."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for row in batch:
        wanted[row.identity_kind].add(row.identity_value)
    found: dict[tuple[str, str], int] = {}
    for kind, values in wanted.items():
        if kind == MEMBER_ID:
            ids = await _active_members({int(v) for v in values})
            found.update({(kind, str(given)): active for given, active in ids.items()})
            continue
        pairs = await MemberIdentity.filter(kind=kind, value__in=values).values_list(
            "value", "member_id")
        found.update({(kind, str(value)): int(member) for value, member in pairs})
    return found


async def _active_members(ids: set[int]) -> dict[int, int]:
    """For each member id: itself when active, the member it was merged into (followed)
    when merged; erased and unknown ids are left out."""
    found: dict[int, int] = {}
    pending = {given: given for given in ids}  # given id → id to look at next
    for _ in range(_MAX_MERGE_HOPS):
        if not pending:
            break
        rows = await Member.filter(id__in=set(pending.values())).values_list(
            "id", "status", "merged_into_id")
        state = {int(i): (str(s), m) for i, s, m in rows}
        follow: dict[int, int] = {}
        for given, current in pending.items():
            status, merged_into = state.get(current, ("", None))
            if status == MemberStatus.ACTIVE:
                found[given] = current
            elif status == MemberStatus.MERGED and merged_into is not None:
                follow[given] = int(merged_into)
        pending = follow
    return found
