"""The 安心码 catalogue routes over HTTP against the WeCom sandbox: products come with
their anxin_code channel, batches and events are refused by field, events arrive one at
a time, as a list or as a CSV file and are stored once, a lot shared by products needs
its GTIN, a batch is recalled once, and a shopper who scans a code and adds the guide
arrives tagged with the product."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from bot.settings import Settings
from models.channels import Attribution, Channel, ChannelKind
from models.events import EventStatus, InboxEvent
from models.trace import Batch, Product, TraceCode, TraceEvent
from tests.admin_api.conftest import GUIDES, NOT_A_GUIDE, AdminClient, admin_client, contact_way
from tests.apphost import wait_for
from tests.bot.sandbox.wecom_api import WeComApi
from tests.handlers.points_world import T0
from tests.handlers.trace_world import make_codes
from tests.sandbox_fixtures import SandboxConsole

ADD_WAY = "externalcontact/add_contact_way"
MILK = "09520123456788"  # valid GTIN-14s (GS1 check digit)
TEA = "06920123450015"
RICE = "06920123450022"
CSV_HEADER = "event_time,biz_step,disposition,location,party,temperature\n"
MISSING = object()  # a field left out of a body


class Clock:
    """The app's clock, at T0 until a test moves it."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now.timestamp()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def trace(settings: Settings, corp: SandboxConsole,
                clock: Clock) -> AsyncIterator[AdminClient]:
    """The admin API (its clock: `clock`) with the sandbox's guides."""
    async with admin_client(settings, clock=clock) as client:
        yield client


async def new_product(trace: AdminClient, gtin: str, **fields: Any) -> dict[str, Any]:
    body = {"gtin": gtin, "name": "安心奶粉 900g", "tags": [], "guides": [GUIDES[0]],
            **fields}
    reply = await trace.post("/trace/products", body)
    assert reply.status == 201, reply.body
    return dict(reply.json())


async def new_batch(trace: AdminClient, gtin: str, lot: str, **fields: Any) -> dict[str, Any]:
    reply = await trace.post("/trace/batches", {"gtin": gtin, "lot": lot,
                                                "production_date": "2025-02-01", **fields})
    assert reply.status == 201, reply.body
    return dict(reply.json())


async def post_csv(trace: AdminClient, lot: str, body: str) -> tuple[int, Any]:
    reply = await trace.request("POST", f"/trace/batches/{lot}/events", data=body.encode(),
                                headers={"Content-Type": "text/csv"})
    return reply.status, reply.json()


def event(**fields: Any) -> dict[str, Any]:
    return {"event_time": "2025-02-01T08:00:00+08:00", "biz_step": "commissioning",
            "disposition": "active", "location": "上海工厂", **fields}


async def test_a_product_comes_with_its_anxin_code_channel(
        trace: AdminClient, corp: SandboxConsole, wecom_api: WeComApi) -> None:
    reply = await trace.post("/trace/products", {
        "gtin": MILK, "name": " 安心奶粉 900g ", "sku": "NF-900",
        "images": ["https://cdn.example.com/milk.png"], "guides": list(GUIDES),
        "tags": [{"group": "安心码", "name": "奶粉"}], "create_missing_tags": True,
        "welcome_text": "感谢选购安心奶粉"})
    assert reply.status == 201, reply.body
    product = reply.json()
    channel = product.pop("channel")
    assert product == {"id": product["id"], "gtin": MILK, "name": "安心奶粉 900g",
                       "sku": "NF-900", "images": ["https://cdn.example.com/milk.png"],
                       "tags": [{"group": "安心码", "name": "奶粉"}]}
    assert channel["state"] == f"ax{MILK}" and channel["qr_code"].startswith("http")

    stored = await Channel.get(id=channel["id"])
    assert (stored.kind, stored.state, stored.guides) == (ChannelKind.ANXIN_CODE,
                                                          f"ax{MILK}", list(GUIDES))
    assert stored.welcome_text == "感谢选购安心奶粉" and len(stored.tag_ids) == 1
    assert stored.config_id is not None
    way = await contact_way(wecom_api, stored.config_id)
    assert way["errcode"] == 0, way
    assert way["contact_way"]["state"] == f"ax{MILK}"
    assert way["contact_way"]["user"] == list(GUIDES)
    assert await corp.call_count(ADD_WAY) == 1

    fetched = await trace.get(f"/trace/products/{MILK}")
    assert fetched.status == 200
    assert fetched.json() == {**product, "channel": channel}
    listed = (await trace.get("/trace/products")).json()
    assert (listed["total"], listed["items"]) == (1, [{**product, "channel": channel}])
    missing = await trace.get(f"/trace/products/{TEA}")
    assert (missing.status, missing.error["code"]) == (404, "not_found")


@pytest.mark.parametrize(("change", "field"), [
    ({"gtin": "09520123456789"}, "gtin"),  # check digit 9, expected 8
    ({"gtin": "9520123456788"}, "gtin"),  # a GTIN-13 not padded
    ({"guides": []}, "guides"),  # none given, and no trace.default_guides
    ({"guides": [NOT_A_GUIDE]}, "guides"),  # no customer contact
    ({"tags": [{"group": "安心码", "name": "没有的标签"}]}, "tags"),
    ({"name": ""}, "name"),
    ({"images": ["ftp://cdn.example.com/a.png"]}, "images[0]"),
    ({"tags": None}, "tags"),
    ({"tags": MISSING}, "tags"),
    ({"colour": "red"}, "colour"),
])
async def test_a_refused_product_names_its_field_and_makes_nothing(
        trace: AdminClient, corp: SandboxConsole, change: dict[str, Any], field: str) -> None:
    body = {name: value for name, value in {"gtin": MILK, "name": "安心奶粉", "tags": [],
                                             "guides": [GUIDES[0]], **change}.items()
            if value is not MISSING}
    reply = await trace.post("/trace/products", body)
    assert reply.status == 400, reply.body
    assert (reply.error["code"], reply.error["field"]) == ("invalid_input", field)
    assert await Product.all().count() == 0
    assert await corp.call_count(ADD_WAY) == 0


async def test_a_product_exists_once(trace: AdminClient, corp: SandboxConsole) -> None:
    await new_product(trace, MILK)
    again = await trace.post("/trace/products", {"gtin": MILK, "name": "另一个",
                                                 "tags": [], "guides": [GUIDES[1]]})
    assert again.status == 400
    assert again.error["field"] == "gtin"
    assert await corp.call_count(ADD_WAY) == 1 and await Product.all().count() == 1


async def test_batches_are_created_listed_and_refused_by_field(trace: AdminClient) -> None:
    await new_product(trace, MILK)
    await new_product(trace, TEA, name="安心茶")
    batch = await new_batch(
        trace, MILK, "L2025-02/A", expiry_date="2026-02-01", factory="上海工厂",
        region=["上海市", "浙江省"], qa_report_url="https://qa.example.com/L2025.pdf",
        qa_report_hash="sha256:ab12", pin_required=True)
    assert batch == {
        "id": batch["id"], "gtin": MILK, "lot": "L2025-02/A", "production_date": "2025-02-01",
        "expiry_date": "2026-02-01", "factory": "上海工厂", "region": ["上海市", "浙江省"],
        "qa_report_url": "https://qa.example.com/L2025.pdf", "qa_report_hash": "sha256:ab12",
        "status": "active", "pin_required": True, "recalled_at": None,
        "product": {"gtin": MILK, "name": "安心奶粉 900g"}}
    tea = await new_batch(trace, TEA, "T1")
    assert (tea["expiry_date"], tea["region"], tea["pin_required"]) == (None, [], False)

    for change, field in (({"lot": "L 1"}, "lot"), ({"lot": "LOTé"}, "lot"),
                          ({"lot": "L" * 21}, "lot"), ({"lot": ""}, "lot"),
                          ({"expiry_date": "2025-01-31"}, "expiry_date"),
                          ({"expiry_date": "2025-02-01"}, "expiry_date"),
                          ({"gtin": RICE}, "gtin"),  # valid, but no such product
                          ({"gtin": "06920123450016"}, "gtin"),
                          ({"production_date": "2025/02/01"}, "production_date"),
                          ({"qa_report_url": "qa.pdf"}, "qa_report_url"),
                          ({"lot": "L2025-02/A"}, "lot"),  # the product has it already
                          ({"pin_required": "yes"}, "pin_required")):
        body = {"gtin": MILK, "lot": "L2", "production_date": "2025-02-01", **change}
        reply = await trace.post("/trace/batches", body)
        assert reply.status == 400, (change, reply.body)
        assert reply.error["field"] == field, change
    assert await Batch.all().count() == 2

    listed = (await trace.get("/trace/batches")).json()
    assert [b["lot"] for b in listed["items"]] == ["T1", "L2025-02/A"]  # newest first
    assert listed["total"] == 2 and listed["items"][1] == batch
    milk = (await trace.get("/trace/batches", params={"gtin": MILK})).json()
    assert (milk["total"], milk["items"]) == (1, [batch])
    bad = await trace.get("/trace/batches", params={"gtin": "123"})
    assert (bad.status, bad.error["field"]) == (400, "gtin")
    # A lot with "/" is named in a path percent-encoded.
    read = await trace.get("/trace/batches/L2025-02%2FA")
    assert read.status == 200, read.body
    assert read.json()["id"] == batch["id"]


async def test_events_arrive_one_by_one_as_a_list_or_as_csv_and_are_stored_once(
        trace: AdminClient) -> None:
    await new_product(trace, MILK)
    await new_batch(trace, MILK, "L1")
    one = await trace.post("/trace/batches/L1/events", event(details={"line": 3}))
    assert (one.status, one.json()) == (201, {"added": 1, "duplicates": 0})
    again = await trace.post("/trace/batches/L1/events", event(details={"line": 3}))
    assert (again.status, again.json()) == (200, {"added": 0, "duplicates": 1})
    listed = await trace.post("/trace/batches/L1/events", {"events": [
        event(details={"line": 3}),
        event(event_time="2025-02-01T09:30:00+08:00", biz_step="inspecting",
              disposition="", party="质检部")]})
    assert (listed.status, listed.json()) == (201, {"added": 1, "duplicates": 1})

    csv_body = (CSV_HEADER
                + "2025-02-03T10:00:00+08:00,shipping,in_transit,上海仓,顺丰,4C\n"
                + "\n"  # blank lines are skipped
                + "2025-02-04T01:00:00Z,receiving,sellable_accessible,杭州门店,,\n")
    assert await post_csv(trace, "L1", csv_body) == (201, {"added": 2, "duplicates": 0})
    form = aiohttp.FormData()
    form.add_field("file", csv_body.encode(), filename="events.csv", content_type="text/csv")
    upload = await trace.request("POST", "/trace/batches/L1/events", data=form)
    assert (upload.status, upload.json()) == (200, {"added": 0, "duplicates": 2})
    assert await TraceEvent.all().count() == 4

    batch = (await trace.get("/trace/batches/L1")).json()
    assert batch["codes"] == {"total": 0, "verified": 0}
    assert batch["events"] == [
        {"event_time": "2025-02-01T08:00:00+08:00", "time_zone_offset": "+08:00",
         "biz_step": "commissioning", "disposition": "active", "location": "上海工厂",
         "party": "", "details": {"line": 3}},
        {"event_time": "2025-02-01T09:30:00+08:00", "time_zone_offset": "+08:00",
         "biz_step": "inspecting", "disposition": "", "location": "上海工厂",
         "party": "质检部", "details": {}},
        {"event_time": "2025-02-03T10:00:00+08:00", "time_zone_offset": "+08:00",
         "biz_step": "shipping", "disposition": "in_transit", "location": "上海仓",
         "party": "顺丰", "details": {"temperature": "4C"}},
        {"event_time": "2025-02-04T01:00:00+00:00", "time_zone_offset": "+00:00",
         "biz_step": "receiving", "disposition": "sellable_accessible",
         "location": "杭州门店", "party": "", "details": {}},
    ]


async def test_a_bad_csv_row_refuses_the_whole_file(trace: AdminClient) -> None:
    await new_product(trace, MILK)
    await new_batch(trace, MILK, "L1")
    body = (CSV_HEADER
            + "2025-02-03T10:00:00+08:00,shipping,in_transit,上海仓,顺丰,4C\n"
            + "2025-02-03T11:00:00+08:00,loading,,,,\n"
            + "2025-02-03 12:00:00,packing,,,,\n"
            + "2025-02-03T13:00:00+08:00,packing,,,,\n"
            + f"2025-02-03T14:00:00+08:00,packing,{'x' * 33},,,\n"
            + ",packing,,,,\n"
            + "2025-02-03T15:00:00+08:00,packing,,,,,extra\n")
    status, answer = await post_csv(trace, "L1", body)
    assert status == 400
    error = answer["error"]
    assert (error["code"], error["invalid"]) == ("invalid_rows", 5)
    assert "nothing was imported" in error["message"]
    assert [(r["line"], r["field"]) for r in error["rows"]] == [
        (3, "biz_step"), (4, "event_time"), (6, "disposition"), (7, "event_time"),
        (8, "row")]
    assert "UTC offset" in error["rows"][1]["message"]
    assert await TraceEvent.all().count() == 0

    status, answer = await post_csv(trace, "L1", "when,biz_step\n2025-02-03,packing\n")
    assert status == 400
    assert [(r["line"], r["field"]) for r in answer["error"]["rows"]] == [(1, "header")]
    assert "event_time" in answer["error"]["rows"][0]["message"]
    status, answer = await post_csv(trace, "L1", CSV_HEADER)
    assert (status, answer["error"]["field"]) == (400, "body")

    bad_list = await trace.post("/trace/batches/L1/events", {"events": [
        event(), event(biz_step="loading")]})
    assert (bad_list.status, bad_list.error["field"]) == (400, "events[1].biz_step")
    naive = await trace.post("/trace/batches/L1/events",
                             event(event_time="2025-02-01T08:00:00"))
    assert (naive.status, naive.error["field"]) == (400, "event_time")
    empty = await trace.post("/trace/batches/L1/events", {"events": []})
    assert (empty.status, empty.error["field"]) == (400, "events")
    assert await TraceEvent.all().count() == 0


async def test_a_lot_several_products_share_needs_the_gtin(trace: AdminClient) -> None:
    await new_product(trace, MILK)
    await new_product(trace, TEA, name="安心茶")
    await new_batch(trace, MILK, "L1")
    tea = await new_batch(trace, TEA, "L1")

    for method, path in (("GET", "/trace/batches/L1"), ("POST", "/trace/batches/L1/recall")):
        reply = await trace.request(method, path)
        assert (reply.status, reply.error["code"]) == (409, "ambiguous_lot"), path
    ambiguous = await trace.post("/trace/batches/L1/events", event())
    assert (ambiguous.status, ambiguous.error["code"]) == (409, "ambiguous_lot")
    assert await TraceEvent.all().count() == 0

    added = await trace.post("/trace/batches/L1/events", event(), params={"gtin": TEA})
    assert (added.status, added.json()) == (201, {"added": 1, "duplicates": 0})
    read = (await trace.get("/trace/batches/L1", params={"gtin": TEA})).json()
    assert read["id"] == tea["id"] and read["product"]["gtin"] == TEA
    assert len(read["events"]) == 1
    milk = (await trace.get("/trace/batches/L1", params={"gtin": MILK})).json()
    assert milk["product"]["gtin"] == MILK and milk["events"] == []

    for params in ({}, {"gtin": RICE}):
        unknown = await trace.get("/trace/batches/L9", params=params)
        assert (unknown.status, unknown.error["code"]) == (404, "not_found")
    none_of_rice = await trace.get("/trace/batches/L1", params={"gtin": RICE})
    assert none_of_rice.status == 404
    lost = await trace.post("/trace/batches/L9/events", event())
    assert lost.status == 404


async def test_a_batch_is_recalled_once(trace: AdminClient, clock: Clock) -> None:
    await new_product(trace, MILK)
    created = await new_batch(trace, MILK, "L1")
    for serial, verified in (("1ABCDEFGHJKMNPQRSTVW", True), ("1BCDEFGHJKMNPQRSTVWX", False)):
        await TraceCode.create(serial=serial, batch_id=created["id"], created_at=T0,
                               verified_at=T0 if verified else None)
    assert (await trace.get("/trace/batches/L1")).json()["codes"] == {"total": 2,
                                                                       "verified": 1}
    recalled = await trace.post("/trace/batches/L1/recall")
    assert recalled.status == 200, recalled.body
    assert recalled.json() == {**created, "status": "recalled",
                               "recalled_at": T0.isoformat()}
    clock.now = T0 + timedelta(days=1)
    again = await trace.post("/trace/batches/L1/recall")
    assert (again.status, again.json()) == (200, recalled.json())
    stored = await Batch.get(id=created["id"])
    assert stored.recalled_at == T0
    assert (await trace.get("/trace/batches/L1")).json()["status"] == "recalled"


async def _events_done() -> bool:
    return not await InboxEvent.filter(
        status__in=[EventStatus.PENDING, EventStatus.PROCESSING]).exists()


async def test_a_scanner_who_adds_the_guide_arrives_tagged_with_the_product(
        settings: Settings, corp: SandboxConsole, wecom_api: WeComApi) -> None:
    """The journey from a pack to a guide: an operator makes the product and its batch, a
    shopper scans a code, the answer's QR is the product's channel, and the shopper who
    adds the guide through it is attributed to that channel and carries its tags."""
    async with admin_client(settings, worker=True) as admin:
        product = await new_product(admin, MILK, tags=[{"group": "安心码", "name": "奶粉"}],
                                    create_missing_tags=True)
        await new_batch(admin, MILK, "L2025A")
        batch = await Batch.get(lot="L2025A")
        (row,) = await make_codes(batch, 1, settings)
        async with aiohttp.ClientSession() as http, http.post(
                f"{admin.base_url}/miniapp/api/trace/scan",
                json={"code": row["url"], "city": "上海市"}) as reply:
            assert reply.status == 200
            answer = await reply.json()
        channel = await Channel.get(id=product["channel"]["id"])
        assert answer["verdict"] == "genuine"
        assert answer["guide"] == {"qr_url": channel.qr_code, "channel_state": f"ax{MILK}"}

        assert channel.config_id is not None
        added = await corp.scan(channel.config_id, name="扫码的顾客")
        external_userid = added["relation"]["external_userid"]
        await wait_for(_events_done, what="the add processed")
        detail = await wecom_api.get("externalcontact/get", await wecom_api.token(),
                                     external_userid=external_userid)
        [follow] = detail["follow_user"]
        assert follow["state"] == f"ax{MILK}"
        assert len(channel.tag_ids) == 1
        assert [t["tag_id"] for t in follow["tags"]] == channel.tag_ids
        attribution = await Attribution.get(external_userid=external_userid)
        assert attribution.channel_id == channel.id
