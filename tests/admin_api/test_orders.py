"""`POST /admin/api/orders/import` (CSV body, multipart upload, JSON list) and
`python run.py orders import FILE`: bad rows refuse the whole file, reported by line;
good files import once, whatever the number of runs."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from bot.settings import Settings
from models.members import IdentityKind, Member
from models.points import ImportedOrder, PointsEntry
from tests.admin_api.conftest import AdminClient
from tests.apphost import run_cli
from tests.handlers.points_world import assert_ledger_consistent, balance, new_member

HEADER = "channel,order_id,member,amount,paid_at,status\n"


def csv_of(*lines: str) -> bytes:
    return (HEADER + "".join(f"{line}\n" for line in lines)).encode()


async def post_csv(admin: AdminClient, body: bytes) -> tuple[int, dict[str, object]]:
    reply = await admin.request("POST", "/orders/import", data=body,
                                headers={"Content-Type": "text/csv"})
    return reply.status, reply.json()


async def test_a_csv_with_bad_rows_imports_nothing(admin: AdminClient) -> None:
    member = await new_member((IdentityKind.TMALL, "t-1"))
    body = csv_of("tmall,A1,tmall:t-1,10,2025-03-01T10:00:00+08:00,paid",
                  "tmall,A2,tmall:t-1,ten,2025-03-01T10:00:00+08:00,paid",
                  "tmall,A3,tmall:t-1,10,2025-03-01T10:00:00+08:00,paid",
                  "tmall,A4,tmall:t-1,10,2025-03-01T10:00:00+08:00,lost")
    status, answer = await post_csv(admin, body)
    assert status == 400
    error = answer["error"]
    assert isinstance(error, dict) and error["code"] == "invalid_rows"
    assert error["invalid"] == 2
    assert [(r["line"], r["field"]) for r in error["rows"]] == [(3, "amount"), (5, "status")]
    assert "nothing was imported" in error["message"]
    assert await ImportedOrder.all().count() == 0
    assert await PointsEntry.all().count() == 0 and await balance(member) == 0
    await assert_ledger_consistent()


async def test_a_csv_imports_once_and_a_refund_reverses(admin: AdminClient) -> None:
    member = await new_member((IdentityKind.TMALL, "t-1"))
    body = csv_of("tmall,A1,tmall:t-1,250.50,2025-03-01T10:00:00+08:00,paid",
                  "jd,B1,jd:nobody,99,2025-03-01 11:00:00,paid")
    assert await post_csv(admin, body) == (200, {
        "imported": 2, "matched": 1, "unmatched": 1, "duplicates": 0, "refunded": 0})
    assert await post_csv(admin, body) == (200, {
        "imported": 0, "matched": 0, "unmatched": 0, "duplicates": 2, "refunded": 0})
    stored = await Member.get(id=member)
    assert (stored.points, stored.growth) == (250, 250)

    form = aiohttp.FormData()
    form.add_field("file", csv_of("tmall,A1,tmall:t-1,250.50,2025-03-01T10:00:00+08:00,"
                                  "refunded"), filename="refunds.csv", content_type="text/csv")
    refund = await admin.request("POST", "/orders/import", data=form)
    assert refund.status == 200, refund.body
    assert refund.json()["refunded"] == 1
    stored = await Member.get(id=member)
    assert (stored.points, stored.growth) == (0, 0)
    await assert_ledger_consistent()


async def test_a_json_list_imports(admin: AdminClient) -> None:
    member = await new_member((IdentityKind.DOUYIN, "dy-1"))
    orders: list[dict[str, object]] = [
        {"channel": "douyin", "order_id": "D1", "identity_kind": "douyin",
         "identity_value": "dy-1", "amount": 66.6, "paid_at": "2025-03-01T10:00:00Z",
         "status": "paid"},
        {"channel": "pos", "order_id": "P1", "member": f"member:{member}", "amount": "12",
         "paid_at": "2025-03-01T10:00:00Z", "status": "paid"}]
    reply = await admin.post("/orders/import", orders)
    assert reply.status == 200, reply.body
    assert reply.json()["matched"] == 2
    assert await balance(member) == 66 + 12
    bad = await admin.post("/orders/import", [orders[0], {**orders[1], "colour": "red"}, 7])
    assert bad.status == 400
    assert [(r["index"], r["field"]) for r in bad.error["rows"]] == [(1, "colour"), (2, "row")]
    not_a_list = await admin.post("/orders/import", {"orders": orders})
    assert (not_a_list.status, not_a_list.error["field"]) == (400, "body")
    odd = await admin.request("POST", "/orders/import", data=b"x",
                              headers={"Content-Type": "application/xml"})
    assert (odd.status, odd.error["field"]) == (400, "Content-Type")
    assert await ImportedOrder.all().count() == 2
    await assert_ledger_consistent()


async def test_the_cli_imports_a_file_with_a_summary(settings: Settings, tmp_path: Path) -> None:
    from bot.runtime import open_runtime

    async with open_runtime(settings):
        member = await new_member((IdentityKind.JD, "jd-1"))
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_of("jd,J1,jd:jd-1,1,2025-03-01T10:00:00+08:00,paid",
                           "jd,J2,jd-1,1,2025-03-01T10:00:00+08:00,paid"))
    code, out = await run_cli(settings, "orders", "import", str(bad))
    assert code == 1
    assert "line 3: member:" in out and "nothing was imported" in out
    good = tmp_path / "orders.csv"
    good.write_bytes(csv_of(*(f"jd,J{n},jd:jd-1,10,2025-03-01T10:00:00+08:00,paid"
                              for n in range(1200))))
    code, out = await run_cli(settings, "orders", "import", str(good))
    assert code == 0, out
    assert "imported 1200 orders: matched 1200, unmatched 0, duplicates 0, refunded 0" in out
    assert "1200/1200" in out  # the progress bar
    code, out = await run_cli(settings, "orders", "import", str(good))
    assert "imported 0 orders: matched 0, unmatched 0, duplicates 1200, refunded 0" in out
    async with open_runtime(settings):
        # 10 yuan each, at the level the orders before reached: 50 at V1 (× 1.0), 150 at
        # V2 (× 1.1), 300 at V3 (× 1.2), 500 at V4 (× 1.5), 200 at V5 (× 2.0).
        assert await balance(member) == 50 * 10 + 150 * 11 + 300 * 12 + 500 * 15 + 200 * 20
        assert (await Member.get(id=member)).growth == 12000
        await assert_ledger_consistent()
