"""The stock ledger of mall items: every change of an item's stock is one
`StockMovement` with a key unique for the item, made in the same transaction as the
change, so `MallItem.stock` is always the sum of the item's movements.

`move_stock` is the one statement pair that changes stock, used by redemptions (key
`order:<id>`), cancellations (`cancel:<id>`), operators' adjustments (`adjust:<key>`)
and coupon code uploads (`codes:<upload>`). A decrement is a conditional UPDATE
(`stock + delta >= 0`): of any number of redemptions racing for the last units, the
database lets exactly as many through as there are units, and none below 0. The UPDATE
answers the item's whole row, which it holds until the commit: a redemption decides
on those terms (shelf, price, levels, limits), and no operator's change can come
between that decision and the sale.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError

from handlers.ledger import marks, utc
from handlers.mall_address import MallInputError
from handlers.mall_items import get_item
from handlers.member_cache import announcing_transaction
from models.mall import CouponCode, ItemKind, MallItem, StockKind, StockMovement
from models.upsert import find_row, insert_rows

log = logging.getLogger("scrm.mall")

MAX_KEY_CHARS = 128
MAX_REASON_CHARS = 255
MAX_CODE_CHARS = 128
MAX_CODES_PER_UPLOAD = 100_000

_ITEMS = f'"{MallItem._meta.db_table}"'


class NotEnoughStock(Exception):
    """The change would take the stock below 0 (or the item is gone); nothing changed."""

    def __init__(self, item_id: int, wanted: int) -> None:
        super().__init__(f"mall item {item_id} has fewer than {wanted} units")
        self.item_id = item_id
        self.wanted = wanted


class KeyReused(ValueError):
    """The adjustment key was used for another adjustment of the item."""


@dataclass(frozen=True)
class CodeUpload:
    added: int
    duplicates: int
    stock: int


async def move_stock(conn: BaseDBAsyncClient, item_id: int, delta: int, *, kind: StockKind,
                     key: str, now: datetime, reason: str = "", operator: str = "") -> MallItem:
    """Change the item's stock by `delta` and record the movement; the item after, its
    row held until the commit. Call inside a transaction. NotEnoughStock when it would
    go below 0 or the item was deleted (for a decrement; an increment restores stock
    even to a deleted item)."""
    m = marks(conn, 2)
    live = " AND deleted_at IS NULL" if delta < 0 else ""
    rows = await conn.execute_query_dict(
        f"UPDATE {_ITEMS} SET stock = stock + {m[0]} "
        f"WHERE id = {m[1]} AND stock + {m[0]} >= 0{live} RETURNING *", [delta, item_id])
    if not rows:
        raise NotEnoughStock(item_id, -delta)
    item = MallItem._init_from_db(**rows[0])
    await StockMovement.create(item_id=item_id, delta=delta, kind=kind, key=key,
                               reason=reason[:MAX_REASON_CHARS], operator=operator[:64],
                               stock_after=item.stock, at=utc(now))
    return item


async def adjust_stock(item_id: int, delta: int, *, key: str, reason: str, operator: str,
                       now: datetime) -> tuple[StockMovement, bool]:
    """An operator's audited correction: (the movement, whether it is new). The same
    `key` again answers the first movement and changes nothing; KeyReused for the key
    with another delta; NotEnoughStock below 0; MallInputError when a coupon item
    would get units without codes."""
    if delta == 0:
        raise MallInputError("delta", "must not be 0")
    ledger_key = f"adjust:{key}"
    done = await _adjusted(item_id, ledger_key, delta)
    if done is not None:
        return done, False
    item = await get_item(item_id)
    if item.kind is ItemKind.COUPON and delta > 0:
        raise MallInputError("delta", "a coupon item gets units by uploading codes")
    try:
        async with announcing_transaction() as conn:
            await move_stock(conn, item_id, delta, kind=StockKind.ADJUST, key=ledger_key,
                             now=now, reason=reason, operator=operator)
    except IntegrityError:
        # A concurrent request with the key committed first (ours rolled back).
        done = await _adjusted(item_id, ledger_key, delta)
        if done is None:
            raise
        return done, False
    log.info("mall.stock_adjusted item_id=%s delta=%d operator=%s", item_id, delta, operator)
    return await StockMovement.get(item_id=item_id, key=ledger_key), True


async def _adjusted(item_id: int, ledger_key: str, delta: int) -> StockMovement | None:
    """The adjustment made under the key before, if any; KeyReused if it moved another
    delta."""
    done = await find_row(StockMovement, {"item_id": item_id, "key": ledger_key})
    if done is not None and done.delta != delta:
        raise KeyReused(f"key {ledger_key[7:]!r} was used for another adjustment of this item")
    return done


def clean_codes(codes: Iterable[str]) -> list[str]:
    """The upload's codes, stripped, blank lines dropped, each kept once in order;
    MallInputError for one that is too long, or too many."""
    seen: dict[str, None] = {}
    for index, raw in enumerate(codes):
        code = raw.strip()
        if not code:
            continue
        if len(code) > MAX_CODE_CHARS:
            raise MallInputError(f"codes[{index}]", f"at most {MAX_CODE_CHARS} characters")
        seen.setdefault(code, None)
        if len(seen) > MAX_CODES_PER_UPLOAD:
            raise MallInputError("codes", f"at most {MAX_CODES_PER_UPLOAD} codes per upload")
    if not seen:
        raise MallInputError("codes", "no codes in the upload")
    return list(seen)


async def add_codes(item_id: int, codes: list[str], *, operator: str,
                    now: datetime) -> CodeUpload:
    """Add `codes` (from clean_codes) to a coupon item's pool; codes the pool holds
    already are counted as duplicates. The stock grows by the codes added, in the same
    transaction, so an upload sent twice adds nothing the second time."""
    item = await get_item(item_id)
    if item.kind is not ItemKind.COUPON:
        raise MallInputError("item", f"item {item_id} is {item.kind.value}, not a coupon")
    async with announcing_transaction() as conn:
        added = await insert_rows(CouponCode, [
            {"item_id": item_id, "code": code, "order_id": None, "uploaded_at": utc(now)}
            for code in codes], unless=("item_id", "code"))
        stock = ((await move_stock(conn, item_id, added, kind=StockKind.CODES,
                                   key=f"codes:{uuid.uuid4().hex}", now=now,
                                   reason=f"{added} codes uploaded", operator=operator)).stock
                 if added else None)
    if stock is None:
        stock = (await get_item(item_id)).stock
    log.info("mall.codes_added item_id=%s added=%d duplicates=%d operator=%s", item_id,
             added, len(codes) - added, operator)
    return CodeUpload(added, len(codes) - added, stock)

