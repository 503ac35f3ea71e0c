"""The funnel route's query handling and shapes (JSON and CSV); the numbers themselves
are tested with `handlers.funnel`."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import aiohttp

from bot.settings import Settings
from handlers.funnel import CSV_COLUMNS
from tests.admin_api.conftest import AdminClient, admin_client
from tests.apphost import wait_for
from tests.sandbox_fixtures import SandboxConsole

ROW_KEYS = {"day", "guide", "scans", "adds", "re_adds", "deleted_1d", "deleted_7d",
            "deleted_30d", "net_adds", "tags"}


async def test_defaults_and_empty_report(admin: AdminClient) -> None:
    channel = await admin.create_channel()
    reply = await admin.get(f"/channels/{channel['id']}/funnel")
    assert reply.status == 200
    report = reply.json()
    today = datetime.now(UTC).date()
    assert report == {"channel_id": channel["id"], "by": "day", "rows": [],
                      "from": (today - timedelta(days=29)).isoformat(),
                      "to": today.isoformat()}
    empty_csv = await admin.get(f"/channels/{channel['id']}/funnel", params={"format": "csv"})
    assert empty_csv.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert list(csv.reader(io.StringIO(empty_csv.body.decode()))) == [list(CSV_COLUMNS)]


async def test_bad_queries_are_400(admin: AdminClient) -> None:
    channel = await admin.create_channel()
    for params, field in (({"from": "2025-13-01"}, "from"), ({"to": "yesterday"}, "to"),
                          ({"from": "2025-03-02", "to": "2025-03-01"}, "from"),
                          ({"from": "2024-01-01", "to": "2025-03-01"}, "from"),
                          ({"by": "week"}, "by"), ({"format": "xlsx"}, "format")):
        reply = await admin.get(f"/channels/{channel['id']}/funnel", params=params)
        assert reply.status == 400, params
        assert reply.error["field"] == field, params


async def test_rows_after_a_scan(settings: Settings, corp: SandboxConsole) -> None:
    async with admin_client(settings, worker=True) as admin:
        channel = await admin.create_channel(guides=["zhangsan"])
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{channel['qr_code']}/scan",
                                    json={"name": "王小明"}) as scanned:
                assert scanned.status == 200, await scanned.text()
        path = f"/channels/{channel['id']}/funnel"

        async def rows() -> list[dict[str, object]]:
            return list((await admin.get(path)).json()["rows"])

        [row] = await wait_for(rows, what="the add to be credited to the channel")
        assert set(row) == ROW_KEYS
        assert row["adds"] == 1 and row["day"] == datetime.now(UTC).date().isoformat()
        by_guide = (await admin.get(path, params={"by": "guide"})).json()
        assert by_guide["by"] == "guide"
        assert [(r["guide"], r["day"], r["adds"]) for r in by_guide["rows"]] == [
            ("zhangsan", None, 1)]
        table = await admin.get(path, params={"format": "csv", "by": "guide"})
        assert "attachment" in table.headers["Content-Disposition"]
        header, line = list(csv.reader(io.StringIO(table.body.decode())))
        assert header == list(CSV_COLUMNS)
        assert dict(zip(header, line, strict=True))["guide"] == "zhangsan"
        assert dict(zip(header, line, strict=True))["adds"] == "1"
