"""The mall catalogue routes over HTTP: items created, listed, read, changed and deleted,
every refusal naming its field; stock adjustments audited and idempotent by key, never
below zero; coupon code uploads as JSON, text, CSV and multipart files. After every
test the mall's invariants are checked (`mall_invariants`, tests/handlers/mall_world.py)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.settings import Settings
from models.mall import CouponCode, MallItem, StockMovement
from tests.admin_api.conftest import OTHER_TOKEN, TOKEN, AdminClient, admin_client
from tests.admin_api.test_points import fingerprint
from tests.handlers.mall_world import mall_invariants  # noqa: F401  (autouse fixture)
from tests.handlers.points_world import T0
from tests.sandbox_fixtures import SandboxConsole


@pytest.fixture
async def mall(settings: Settings, sandbox: SandboxConsole) -> AsyncIterator[AdminClient]:
    """The admin API with its clock at T0."""
    async with admin_client(settings, clock=T0.timestamp) as client:
        yield client


def item_body(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"title": "保温杯", "kind": "physical", "points_price": 100,
                            "stock": 10}
    body.update(fields)
    return body


async def create(mall: AdminClient, **fields: Any) -> dict[str, Any]:
    reply = await mall.post("/mall/items", item_body(**fields))
    assert reply.status == 201, reply.body
    return dict(reply.json())


async def post_codes(mall: AdminClient, item_id: int, data: Any,
                     content_type: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": content_type} if content_type else None
    reply = await mall.request("POST", f"/mall/items/{item_id}/codes", data=data,
                               headers=headers)
    return reply.status, reply.json()


async def test_items_are_created_listed_read_changed_and_deleted(mall: AdminClient) -> None:
    cup = await create(mall, images=["https://cdn.example.com/cup.png"], description="316 钢",
                       per_member_limit=2, per_member_daily_limit=1, levels=[2, 3],
                       shelf_from="2025-03-01T10:00:00+08:00",
                       shelf_until="2025-04-01T00:00:00Z", sort_order=5)
    assert {k: cup[k] for k in ("title", "kind", "points_price", "stock", "per_member_limit",
                                "per_member_daily_limit", "levels", "on_shelf", "sort_order",
                                "benefit")} == {
        "title": "保温杯", "kind": "physical", "points_price": 100, "stock": 10,
        "per_member_limit": 2, "per_member_daily_limit": 1, "levels": [2, 3],
        "on_shelf": True, "sort_order": 5, "benefit": None}
    assert (cup["shelf_from"], cup["shelf_until"]) == ("2025-03-01T02:00:00+00:00",
                                                       "2025-04-01T00:00:00+00:00")
    assert cup["created_at"] == cup["updated_at"] == T0.isoformat()  # the app's clock
    initial = await StockMovement.get(item_id=cup["id"])
    assert (initial.kind.value, initial.delta, initial.operator) == ("initial", 10,
                                                                    fingerprint(TOKEN))
    coupon = await create(mall, title="满 100 减 10", kind="coupon", stock=0, sort_order=1)
    perk = await create(mall, title="包邮卡", kind="benefit", stock=100,
                        benefit_code="free_shipping", benefit_days=30, on_shelf=False)
    assert perk["benefit"] == {"code": "free_shipping", "days": 30}

    listed = (await mall.get("/mall/items")).json()
    assert [i["id"] for i in listed["items"]] == [perk["id"], coupon["id"], cup["id"]]
    assert listed["total"] == 3 and listed["items"][2] == cup
    second = (await mall.get("/mall/items", params={"limit": "1", "offset": "1"})).json()
    assert ([i["id"] for i in second["items"]], second["total"]) == ([coupon["id"]], 3)
    coupons = (await mall.get("/mall/items", params={"kind": "coupon"})).json()
    assert [i["id"] for i in coupons["items"]] == [coupon["id"]]
    off = (await mall.get("/mall/items", params={"on_shelf": "false"})).json()
    assert [i["id"] for i in off["items"]] == [perk["id"]]
    assert (await mall.get(f"/mall/items/{cup['id']}")).json() == cup

    patched = await mall.patch(f"/mall/items/{cup['id']}", {
        "title": "保温杯 Pro", "per_member_limit": None, "on_shelf": False, "levels": [],
        "shelf_until": "2025-05-01T00:00:00+08:00"})
    assert patched.status == 200, patched.body
    changed = patched.json()
    assert (changed["title"], changed["per_member_limit"], changed["on_shelf"],
            changed["levels"], changed["shelf_until"]) == (
        "保温杯 Pro", None, False, [], "2025-04-30T16:00:00+00:00")
    assert (changed["stock"], changed["per_member_daily_limit"]) == (10, 1)  # untouched
    assert (await mall.get(f"/mall/items/{cup['id']}")).json() == changed

    deleted = await mall.delete(f"/mall/items/{cup['id']}")
    assert deleted.status == 204
    for reply in (await mall.get(f"/mall/items/{cup['id']}"),
                  await mall.delete(f"/mall/items/{cup['id']}"),
                  await mall.patch(f"/mall/items/{cup['id']}", {"title": "x"}),
                  await mall.post(f"/mall/items/{cup['id']}/stock",
                                  {"delta": 1, "reason": "r", "key": "k"})):
        assert (reply.status, reply.error["code"]) == (404, "not_found")
    remaining = (await mall.get("/mall/items")).json()
    assert [i["id"] for i in remaining["items"]] == [perk["id"], coupon["id"]]
    trail = (await mall.get(f"/mall/items/{cup['id']}/stock")).json()  # the audit stays
    assert [m["kind"] for m in trail["items"]] == ["initial"]
    assert (await mall.get("/mall/items/987654/stock")).status == 404


async def test_bad_items_are_refused_naming_the_field(mall: AdminClient) -> None:
    for change, field in (
            ({"kind": "voucher"}, "kind"), ({"points_price": 0}, "points_price"),
            ({"points_price": "100"}, "points_price"), ({"title": "  "}, "title"),
            ({"title": " " + "杯" * 64}, "title"),
            ({"kind": "coupon", "stock": 5}, "stock"), ({"stock": -1}, "stock"),
            ({"kind": "benefit"}, "benefit_code"), ({"benefit_code": "vip"}, "benefit_code"),
            ({"colour": "red"}, "colour"), ({"levels": [1, 9]}, "levels[1]"),
            ({"levels": ["1"]}, "levels[0]"), ({"levels": 1}, "levels"),
            ({"images": ["ftp://x"]}, "images[0]"), ({"per_member_limit": 0},
                                                     "per_member_limit"),
            ({"shelf_from": "2025-03-01T10:00:00"}, "shelf_from"),
            ({"shelf_from": "2025-03-02T00:00:00Z", "shelf_until": "2025-03-01T00:00:00Z"},
             "shelf_until"),
            ({"sort_order": 2**40}, "sort_order"), ({"on_shelf": "yes"}, "on_shelf")):
        reply = await mall.post("/mall/items", item_body(**change))
        assert (reply.status, reply.error["code"], reply.error["field"]) == (
            400, "invalid_input", field), change
    missing = await mall.post("/mall/items", {"title": "杯", "kind": "physical"})
    assert missing.error["field"] == "points_price"
    assert (await mall.post("/mall/items", item_body(), token=None)).status == 401
    assert await MallItem.all().count() == 0

    item = await create(mall)
    for patch, field in (({"kind": "coupon"}, "kind"), ({"stock": 50}, "stock"),
                         ({"colour": "red"}, "colour"), ({"points_price": 0}, "points_price"),
                         ({"benefit_code": "vip"}, "benefit_code"), ({"title": None}, "title"),
                         ({"shelf_until": "2025-01-01T00:00:00Z",
                           "shelf_from": "2025-02-01T00:00:00Z"}, "shelf_until")):
        reply = await mall.patch(f"/mall/items/{item['id']}", patch)
        assert (reply.status, reply.error["field"]) == (400, field), patch
    assert (await mall.get(f"/mall/items/{item['id']}")).json() == item
    for params, field in (({"kind": "voucher"}, "kind"), ({"on_shelf": "maybe"}, "on_shelf"),
                          ({"limit": "0"}, "limit")):
        reply = await mall.get("/mall/items", params=params)
        assert (reply.status, reply.error["field"]) == (400, field)


async def test_stock_adjustments_are_audited_idempotent_and_never_below_zero(
        mall: AdminClient) -> None:
    item = await create(mall, stock=4)
    path = f"/mall/items/{item['id']}/stock"
    body = {"delta": 6, "reason": "盘点", "key": "recount-1"}
    first = await mall.post(path, body)
    assert first.status == 201, first.body
    movement = first.json()
    assert {k: v for k, v in movement.items() if k != "id"} == {
        "item_id": item["id"], "delta": 6, "kind": "adjust", "key": "adjust:recount-1",
        "reason": "盘点", "operator": fingerprint(TOKEN), "stock_after": 10,
        "at": T0.isoformat()}
    again = await mall.post(path, body, token=OTHER_TOKEN)
    assert (again.status, again.json()) == (200, movement)
    at_once = await asyncio.gather(*(mall.post(path, {**body, "delta": -3, "key": "burst"})
                                     for _ in range(10)))
    assert sorted(r.status for r in at_once) == [200] * 9 + [201]
    assert len({r.json()["id"] for r in at_once}) == 1
    reused = await mall.post(path, {**body, "delta": 7})
    assert (reused.status, reused.error["code"]) == (409, "conflict")

    below = await mall.post(path, {**body, "delta": -8, "key": "loss"})
    assert (below.status, below.error["code"], below.error["item_id"]) == (
        409, "out_of_stock", item["id"])
    assert (await mall.get(f"/mall/items/{item['id']}")).json()["stock"] == 7
    for change, field in (({"delta": 0}, "delta"), ({"delta": "1"}, "delta"),
                          ({"delta": 10**9}, "delta"), ({"reason": ""}, "reason"),
                          ({"key": "k" * 129}, "key"), ({"extra": 1}, "extra")):
        reply = await mall.post(path, {**body, **change, "key": change.get("key", "bad")})
        assert (reply.status, reply.error["field"]) == (400, field), change
    coupon = await create(mall, kind="coupon", stock=0)
    refused = await mall.post(f"/mall/items/{coupon['id']}/stock", body)
    assert (refused.status, refused.error["field"]) == (400, "delta")

    trail = (await mall.get(path)).json()
    assert [(m["kind"], m["delta"], m["stock_after"]) for m in trail["items"]] == [
        ("adjust", -3, 7), ("adjust", 6, 10), ("initial", 4, 4)]
    assert trail["total"] == 3
    page = (await mall.get(path, params={"limit": "1", "offset": "2"})).json()
    assert [m["kind"] for m in page["items"]] == ["initial"]
    assert await StockMovement.filter(item_id=item["id"]).count() == 3


async def test_codes_upload_as_json_text_csv_and_multipart_files(mall: AdminClient) -> None:
    coupon = await create(mall, kind="coupon", stock=0)
    item_id = coupon["id"]
    status, done = await post_codes(mall, item_id, b'{"codes": ["A1", " A2 ", "A2", ""]}',
                                    "application/json")
    assert (status, done) == (200, {"added": 2, "duplicates": 0, "stock": 2})
    status, done = await post_codes(mall, item_id, b"A2\r\nB1\n\n  B2  \n",
                                    "text/plain; charset=utf-8")
    assert (status, done) == (200, {"added": 2, "duplicates": 1, "stock": 4})
    csv_body = '\ufeffcode,note\nC1,first\nB1,again\n"C,2",quoted\n'.encode()
    status, done = await post_codes(mall, item_id, csv_body, "text/csv")
    assert (status, done) == (200, {"added": 2, "duplicates": 1, "stock": 6})

    form = aiohttp.FormData()
    form.add_field("file", b"code\nD1\nD2\nC1\n", filename="batch-4.csv",
                   content_type="application/vnd.ms-excel")  # how Excel's .csv travels
    status, done = await post_codes(mall, item_id, form)
    assert (status, done) == (200, {"added": 2, "duplicates": 1, "stock": 8})
    form = aiohttp.FormData()
    form.add_field("note", "no file here")
    form.add_field("file", "E1\nD2\n", filename="codes.txt", content_type="text/plain")
    status, done = await post_codes(mall, item_id, form)
    assert (status, done) == (200, {"added": 1, "duplicates": 1, "stock": 9})

    codes = {c.code for c in await CouponCode.filter(item_id=item_id)}
    assert codes == {"A1", "A2", "B1", "B2", "C1", "C,2", "D1", "D2", "E1"}
    uploads = await StockMovement.filter(item_id=item_id, kind="codes").order_by("id")
    assert [m.delta for m in uploads] == [2, 2, 2, 2, 1]
    assert {m.operator for m in uploads} == {fingerprint(TOKEN)}
    assert (await mall.get(f"/mall/items/{item_id}")).json()["stock"] == 9


async def test_bad_code_uploads_change_nothing(mall: AdminClient) -> None:
    coupon = await create(mall, kind="coupon", stock=0)
    cup = await create(mall)
    item_id = coupon["id"]
    not_coupon = await post_codes(mall, cup["id"], b"X1", "text/plain")
    assert not_coupon[0] == 400 and not_coupon[1]["error"]["field"] == "item"
    form = aiohttp.FormData(default_to_multipart=True)
    form.add_field("note", "only a field")
    for data, content_type, field in (
            (b"\n \n", "text/plain", "codes"), (b'{"codes": "A1"}', "application/json", "codes"),
            (b'{"codes": ["A1"], "x": 1}', "application/json", "x"),
            (b'["A1"]', "application/json", "body"), (b"{", "application/json", "body"),
            (b"\xff\xfe", "text/plain", "body"), (("Z" * 129).encode(), "text/plain",
                                                  "codes[0]"),
            (b"A1", "application/x-www-form-urlencoded", "Content-Type"), (form, None, "body")):
        status, answer = await post_codes(mall, item_id, data, content_type)
        assert (status, answer["error"]["field"]) == (400, field), data
    huge = io.BytesIO(b"A" * (8 * 1024 * 1024 + 1))
    status, answer = await post_codes(mall, item_id, huge, "text/plain")
    assert (status, answer["error"]["code"]) == (413, "body_too_large")
    assert (await post_codes(mall, 987654, b"A1", "text/plain"))[0] == 404
    assert await CouponCode.all().count() == 0
    assert (await mall.get(f"/mall/items/{item_id}")).json()["stock"] == 0
