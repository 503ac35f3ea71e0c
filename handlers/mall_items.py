"""The mall's catalogue: an item's rules (what an operator may set), creating, changing
and deleting items, and whether an item is on the shelf.

Stock is not set here after creation: every later change is a movement of the stock
ledger (handlers/mall_stock.py), so it is audited and never races a redemption. A
deleted item leaves the shelf and the admin lists; its orders stay.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

from handlers.ledger import utc
from handlers.mall_address import MallInputError
from handlers.member_cache import announcing_transaction
from models.mall import ItemKind, MallItem, StockKind, StockMovement

MAX_TITLE_CHARS = 64
MAX_DESCRIPTION_CHARS = 5000
MAX_IMAGES = 9
MAX_IMAGE_URL_CHARS = 512
MAX_POINTS_PRICE = 10_000_000
MAX_STOCK = 10_000_000
MAX_SORT_ORDER = 1_000_000_000
MAX_BENEFIT_CODE_CHARS = 64
MAX_BENEFIT_DAYS = 3650
# Fields that PATCH may not change: the kind decides what orders hold, and stock
# changes only through the stock ledger.
FIXED_AFTER_CREATE = ("kind", "stock")


class UnknownItem(LookupError):
    """No such item, or one that was deleted."""


@dataclass
class ItemSpec:
    """What an operator sets on an item. `stock` is the initial stock (a coupon item's
    stock comes from its code pool, so it starts at 0)."""

    title: str
    kind: ItemKind
    points_price: int
    stock: int = 0
    images: list[str] = field(default_factory=list)
    description: str = ""
    per_member_limit: int | None = None
    per_member_daily_limit: int | None = None
    levels: list[int] = field(default_factory=list)
    on_shelf: bool = True
    shelf_from: datetime | None = None
    shelf_until: datetime | None = None
    sort_order: int = 0
    benefit_code: str = ""
    benefit_days: int | None = None

    @classmethod
    def of(cls, item: MallItem) -> ItemSpec:
        return cls(
            title=item.title, kind=item.kind, points_price=item.points_price,
            stock=item.stock, images=list(item.images), description=item.description,
            per_member_limit=item.per_member_limit,
            per_member_daily_limit=item.per_member_daily_limit, levels=list(item.levels),
            on_shelf=item.on_shelf, shelf_from=item.shelf_from, shelf_until=item.shelf_until,
            sort_order=item.sort_order, benefit_code=str(item.benefit.get("code", "")),
            benefit_days=item.benefit.get("days"))

    def columns(self) -> dict[str, Any]:
        """The item's columns but stock (set by the stock ledger)."""
        return {
            "title": self.title.strip(), "kind": self.kind, "points_price": self.points_price,
            "images": self.images, "description": self.description,
            "per_member_limit": self.per_member_limit,
            "per_member_daily_limit": self.per_member_daily_limit, "levels": self.levels,
            "on_shelf": self.on_shelf,
            "shelf_from": utc(self.shelf_from) if self.shelf_from else None,
            "shelf_until": utc(self.shelf_until) if self.shelf_until else None,
            "sort_order": self.sort_order,
            "benefit": ({"code": self.benefit_code, "days": self.benefit_days}
                        if self.kind is ItemKind.BENEFIT else {}),
        }


SPEC_FIELDS = tuple(f.name for f in fields(ItemSpec))


def check_spec(spec: ItemSpec, level_count: int) -> None:
    """The domain's rules for an item; MallInputError naming the field at fault."""
    if not 1 <= len(spec.title.strip()) <= MAX_TITLE_CHARS:
        raise MallInputError("title", f"must be 1-{MAX_TITLE_CHARS} characters")
    if not 1 <= spec.points_price <= MAX_POINTS_PRICE:
        raise MallInputError("points_price", f"must be 1-{MAX_POINTS_PRICE}")
    if not 0 <= spec.stock <= MAX_STOCK:
        raise MallInputError("stock", f"must be 0-{MAX_STOCK}")
    if spec.kind is ItemKind.COUPON and spec.stock:
        raise MallInputError("stock", "a coupon item's stock is its code pool: "
                                      "upload codes to POST /mall/items/{id}/codes")
    if len(spec.images) > MAX_IMAGES:
        raise MallInputError("images", f"at most {MAX_IMAGES}")
    for index, url in enumerate(spec.images):
        if not url.startswith(("https://", "http://")) or len(url) > MAX_IMAGE_URL_CHARS:
            raise MallInputError(f"images[{index}]",
                                 f"must be an http(s) URL of at most {MAX_IMAGE_URL_CHARS} "
                                 "characters")
    if len(spec.description) > MAX_DESCRIPTION_CHARS:
        raise MallInputError("description", f"at most {MAX_DESCRIPTION_CHARS} characters")
    for name in ("per_member_limit", "per_member_daily_limit"):
        limit = getattr(spec, name)
        if limit is not None and not 1 <= limit <= MAX_STOCK:
            raise MallInputError(name, f"must be 1-{MAX_STOCK}, or null for no limit")
    if abs(spec.sort_order) > MAX_SORT_ORDER:
        raise MallInputError("sort_order", f"must be within ±{MAX_SORT_ORDER}")
    for index, level in enumerate(spec.levels):
        if not 1 <= level <= level_count:
            raise MallInputError(f"levels[{index}]", f"must be a level 1-{level_count}")
    if spec.shelf_from and spec.shelf_until and spec.shelf_from >= spec.shelf_until:
        raise MallInputError("shelf_until", "must be after shelf_from")
    if spec.kind is ItemKind.BENEFIT:
        if not 1 <= len(spec.benefit_code) <= MAX_BENEFIT_CODE_CHARS:
            raise MallInputError("benefit_code", "a benefit item names its benefit "
                                                 f"(1-{MAX_BENEFIT_CODE_CHARS} characters)")
        if spec.benefit_days is not None and not 1 <= spec.benefit_days <= MAX_BENEFIT_DAYS:
            raise MallInputError("benefit_days", f"must be 1-{MAX_BENEFIT_DAYS}, or null "
                                                 "for a benefit without end")
    elif spec.benefit_code or spec.benefit_days is not None:
        raise MallInputError("benefit_code", "only a benefit item grants a benefit")


async def create_item(spec: ItemSpec, *, level_count: int, operator: str,
                      now: datetime) -> MallItem:
    """A new item and its `initial` stock movement, in one transaction."""
    check_spec(spec, level_count)
    async with announcing_transaction():
        item = await MallItem.create(**spec.columns(), stock=spec.stock, created_at=utc(now),
                                     updated_at=utc(now))
        await StockMovement.create(
            item_id=item.id, delta=spec.stock, kind=StockKind.INITIAL, key="initial",
            reason="stock at creation", operator=operator[:64], stock_after=spec.stock,
            at=utc(now))
    return item


async def get_item(item_id: int) -> MallItem:
    item = await MallItem.get_or_none(id=item_id, deleted_at=None)
    if item is None:
        raise UnknownItem(f"no mall item {item_id}")
    return item


async def update_item(item_id: int, changes: dict[str, Any], *, level_count: int,
                      now: datetime) -> MallItem:
    """Apply `changes` (ItemSpec fields but kind and stock) to the item; the item as it
    now is. Checked as a whole, so a change cannot leave the item breaking a rule."""
    for name in changes:
        if name in FIXED_AFTER_CREATE:
            raise MallInputError(name, "cannot be changed: "
                                 + ("create another item" if name == "kind" else
                                    "use POST /mall/items/{id}/stock (audited)"))
        if name not in SPEC_FIELDS:
            raise MallInputError(name, "unknown field")
    async with announcing_transaction():
        # Held until the commit: a PATCH at once waits, and then sees this one's fields.
        item = await MallItem.filter(id=item_id, deleted_at=None).select_for_update().first()
        if item is None:
            raise UnknownItem(f"no mall item {item_id}")
        spec = replace(ItemSpec.of(item), **changes)
        check_spec(replace(spec, stock=0), level_count)
        await MallItem.filter(id=item_id).update(**spec.columns(), updated_at=utc(now))
    return await get_item(item_id)


async def delete_item(item_id: int, *, now: datetime) -> None:
    """Take the item off the shelf for good; its orders and stock ledger stay."""
    if not await MallItem.filter(id=item_id, deleted_at=None).update(
            deleted_at=utc(now), on_shelf=False, updated_at=utc(now)):
        raise UnknownItem(f"no mall item {item_id}")


def on_shelf(item: MallItem, now: datetime) -> bool:
    """Whether members may redeem the item now (stock and limits aside)."""
    return (item.on_shelf and item.deleted_at is None
            and (item.shelf_from is None or item.shelf_from <= now)
            and (item.shelf_until is None or now < item.shelf_until))
