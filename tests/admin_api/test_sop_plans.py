"""SOP plan routes: the issue's contract body, every refusal, editing that keeps step
identity, the dry run under a controlled clock, the report and the task rows."""

from __future__ import annotations

import copy
import csv
import dataclasses
import io
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.settings import Settings
from handlers.sop_report import REPORT_CSV_COLUMNS, STATUS_COLUMNS, TASK_COLUMNS
from models.groups import GroupChat, GroupStatus
from models.sop import SopStep, SopTask, TaskStatus
from tests.admin_api.conftest import AdminClient, admin_client
from tests.sandbox_fixtures import SandboxConsole

# The app's clock: Monday 2030-01-07 10:00 in Shanghai.
NOW = datetime(2030, 1, 7, 2, 0, tzinfo=UTC)
IMAGE = {"msgtype": "image", "image": {"media_id": "MEDIA_1"}}
LINK = {"msgtype": "link", "link": {"title": "新品", "url": "https://example.com/new"}}
CARD = {"msgtype": "miniprogram", "miniprogram": {"title": "会员中心", "pic_media_id": "M2",
                                                  "appid": "wx8bd80126147dfAAA",
                                                  "page": "/pages/index"}}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No scheduler tick during these tests: the tasks here are the tests' own."""
    return dataclasses.replace(settings, sop=dataclasses.replace(settings.sop,
                                                                 tick_seconds=3600))


@pytest.fixture
async def sop(settings: Settings, sandbox: SandboxConsole) -> AsyncIterator[AdminClient]:
    async with admin_client(settings, clock=NOW.timestamp) as client:
        yield client


def plan_body(**fields: Any) -> dict[str, Any]:
    """The body of the issue's contract."""
    body: dict[str, Any] = {
        "name": "新群 7 天 SOP",
        "target": {"owners": ["zhangsan"], "name_contains": "", "labels": [], "chat_ids": []},
        "timezone": "Asia/Shanghai",
        "steps": [
            {"day_offset": 0, "time": "11:00", "text": "欢迎加入{group_name}！", "attachments": []},
            {"day_offset": 3, "time": "20:00", "text": "{owner_name} 为您准备了福利",
             "attachments": [IMAGE, LINK, CARD]},
        ],
        "enabled": True,
    }
    body.update(fields)
    return body


async def create(sop: AdminClient, body: dict[str, Any] | None = None) -> dict[str, Any]:
    reply = await sop.post("/sop/plans", body or plan_body())
    assert reply.status == 201, reply.body
    return dict(reply.json())


async def group(chat_id: str, created_at: datetime, *, owner: str = "zhangsan",
                status: GroupStatus = GroupStatus.ACTIVE) -> None:
    await GroupChat.create(chat_id=chat_id, name=f"{chat_id} 群", owner=owner,
                           created_at=created_at, status=status)


async def task(plan_id: int, step_id: int, chat_id: str, status: TaskStatus, *,
               msgid: str = "", occurrence: str = "once") -> None:
    # Due after the app's clock: no dispatcher would take them.
    await SopTask.create(plan_id=plan_id, step_id=step_id, chat_id=chat_id,
                         occurrence=occurrence, due_at=NOW + timedelta(days=1),
                         owner="zhangsan", status=status, msgid=msgid,
                         error="refused" if status == TaskStatus.FAILED else "")


async def test_the_contract_body_creates_a_plan(sop: AdminClient) -> None:
    created = await create(sop)
    assert isinstance(created["id"], int)
    assert created["name"] == "新群 7 天 SOP" and created["enabled"] is True
    assert created["timezone"] == "Asia/Shanghai"
    assert created["target"] == {"owners": ["zhangsan"], "name_contains": "", "labels": [],
                                 "chat_ids": [], "created_from": None, "created_until": None}
    first, second = created["steps"]
    assert first == {"id": first["id"], "anchor": "created", "day_offset": 0, "time": "11:00",
                     "text": "欢迎加入{group_name}！", "attachments": []}
    assert second["attachments"] == [IMAGE, LINK, CARD]
    assert created["created_at"] == NOW.isoformat()  # the app's clock
    read = await sop.get(f"/sop/plans/{created['id']}")
    assert read.status == 200 and read.json() == created
    listed = (await sop.get("/sop/plans")).json()
    assert (listed["total"], [p["id"] for p in listed["items"]]) == (1, [created["id"]])


async def test_defaults_and_the_other_schedules(sop: AdminClient) -> None:
    body = plan_body(steps=[
        {"anchor": "enrolled", "day_offset": 1, "time": "09:00", "text": "第二天好"},
        {"at": "2030-02-01T10:00", "text": "local time"},
        {"at": "2030-02-01T10:00:00+00:00", "text": "with its offset"},
        {"every": "monday", "time": "09:30", "text": "周一见"},
        {"every": "day", "time": "21:00", "attachments": [IMAGE]},
    ])
    del body["timezone"], body["enabled"]
    created = await create(sop, body)
    assert (created["timezone"], created["enabled"]) == ("Asia/Shanghai", True)
    steps = created["steps"]
    assert [s.get("anchor") for s in steps] == ["enrolled", None, None, None, None]
    assert steps[1]["at"] == "2030-02-01T10:00:00+08:00"
    assert steps[2]["at"] == "2030-02-01T18:00:00+08:00"  # the same moment, shown locally
    assert (steps[3]["every"], steps[3]["time"]) == ("monday", "09:30")
    assert steps[4]["text"] == ""
    # What was read can be sent back unchanged: same steps, same ids.
    again = await sop.patch(f"/sop/plans/{created['id']}", {"steps": steps})
    assert again.status == 200, again.body
    assert again.json()["steps"] == steps


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Set (or, with value DELETE, remove) a dotted path such as "steps.0.time"."""
    def change(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = body
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        key: Any = int(last) if isinstance(node, list) else last
        if value is DELETE:
            del node[key]
        else:
            node[key] = value
    return change


DELETE = object()
STEP = {"day_offset": 1, "time": "10:00", "text": "hi"}

REFUSED: list[tuple[str, Any, str]] = [
    ("name", DELETE, "name"),
    ("name", "  ", "name"),
    ("name", "x" * 65, "name"),
    ("target", DELETE, "target"),
    ("target", ["zhangsan"], "target"),
    ("target.owner", ["zhangsan"], "target.owner"),
    ("target.owners", "zhangsan", "target.owners"),
    ("target.owners", [1], "target.owners[0]"),
    ("target.owners", [""], "target.owners[0]"),
    ("target.labels", ["x" * 65], "target.labels[0]"),
    ("target.chat_ids", ["wr1"] * 5001, "target.chat_ids"),
    ("target.name_contains", "x" * 129, "target.name_contains"),
    ("target.created_from", "2026-13-01", "target.created_from"),
    ("target.created_from", "2026-01-01T00:00", "target.created_from"),
    ("target.created_until", "2025-12-31", "target.created_until"),
    ("timezone", "Mars/Olympus", "timezone"),
    ("timezone", "Asia", "timezone"),
    ("enabled", "yes", "enabled"),
    ("colour", "red", "colour"),
    ("steps", DELETE, "steps"),
    ("steps", [], "steps"),
    ("steps", [STEP] * 51, "steps"),
    ("steps", ["step"], "steps[0]"),
    ("steps.0.delay", 1, "steps[0].delay"),
    ("steps.0", {"time": "10:00", "text": "no schedule"}, "steps[0]"),
    ("steps.0", {"day_offset": 1, "every": "day", "time": "10:00", "text": "two"}, "steps[0]"),
    ("steps.0.day_offset", -1, "steps[0].day_offset"),
    ("steps.0.day_offset", 3651, "steps[0].day_offset"),
    ("steps.0.day_offset", "3", "steps[0].day_offset"),
    ("steps.0.day_offset", True, "steps[0].day_offset"),
    ("steps.0.time", DELETE, "steps[0].time"),
    ("steps.0.time", "24:00", "steps[0].time"),
    ("steps.0.time", "9:00", "steps[0].time"),
    ("steps.0.anchor", "joined", "steps[0].anchor"),
    ("steps.0", {"anchor": "created", "every": "day", "time": "10:00", "text": "x"},
     "steps[0].anchor"),
    ("steps.0", {"at": "2030-02-01T10:00", "time": "10:00", "text": "x"}, "steps[0].time"),
    ("steps.0", {"at": "next monday", "text": "x"}, "steps[0].at"),
    ("steps.0", {"at": "2030-01-07T09:59", "text": "x"}, "steps[0].at"),  # before now
    ("steps.0", {"every": "weekday", "time": "10:00", "text": "x"}, "steps[0].every"),
    ("steps.0", {"every": "day", "text": "x"}, "steps[0].time"),
    ("steps.0.text", "好" * 1334, "steps[0].text"),  # 4,002 bytes
    ("steps.0.text", "   ", "steps[0].text"),
    ("steps.0.text", 5, "steps[0].text"),
    ("steps.0.text", "你好 {customer_name}", "steps[0].text"),
    ("steps.1.attachments", [IMAGE] * 10, "steps[1].attachments"),
    ("steps.1.attachments", ["pic"], "steps[1].attachments[0]"),
    ("steps.1.attachments", [{"msgtype": "voice", "voice": {}}],
     "steps[1].attachments[0].msgtype"),
    ("steps.1.attachments", [{"msgtype": "image", "image": {}}], "steps[1].attachments[0].image"),
    ("steps.1.attachments", [IMAGE, {"msgtype": "link", "link": {"title": "no url"}}],
     "steps[1].attachments[1].link.url"),
    ("steps.1.attachments", [{"msgtype": "link", "link": {"title": "x" * 129, "url": "u"}}],
     "steps[1].attachments[0].link.title"),
    ("steps.1.attachments", [{"msgtype": "miniprogram", "miniprogram": {
        "title": "t", "appid": "wx1", "page": "/p"}}],
     "steps[1].attachments[0].miniprogram.pic_media_id"),
    ("steps.0.id", 1, "steps[0].id"),  # no step of a new plan has an id yet
]


@pytest.mark.parametrize(("path", "value", "field"), REFUSED,
                         ids=[f"{p}={str(v)[:20]}" for p, v, _ in REFUSED])
async def test_invalid_input_is_refused_naming_the_field(
    sop: AdminClient, path: str, value: Any, field: str
) -> None:
    body = copy.deepcopy(plan_body(target={**plan_body()["target"],
                                           "created_from": "2026-01-01"}))
    _set(path, value)(body)
    reply = await sop.post("/sop/plans", body)
    assert reply.status == 400, reply.body
    assert reply.error["code"] == "invalid_input"
    assert reply.error["field"] == field, reply.error
    assert (await sop.get("/sop/plans")).json()["total"] == 0  # nothing was stored


async def test_refusals_say_what_is_wrong(sop: AdminClient) -> None:
    body = plan_body()
    body["steps"][0]["text"] = "{customer_name} 你好 {guide}，{group_name}"
    error = (await sop.post("/sop/plans", body)).error
    assert "{customer_name}" in error["message"] and "{guide}" in error["message"]
    assert "{group_name}" in error["message"].split("only")[1]
    not_json = await sop.request("POST", "/sop/plans", data=b"{name",
                                 headers={"Content-Type": "application/json"})
    assert (not_json.status, not_json.error["field"]) == (400, "body")
    body = plan_body()
    body["steps"][0]["text"] = "好" * 1333 + "a"  # exactly 4,000 bytes
    assert (await sop.post("/sop/plans", body)).status == 201


async def test_patch_keeps_step_ids_and_retires_the_steps_left_out(sop: AdminClient) -> None:
    body = plan_body(steps=[{"day_offset": d, "time": "10:00", "text": f"day {d}"}
                            for d in (0, 1, 2)])
    plan = await create(sop, body)
    first, second, third = (s["id"] for s in plan["steps"])
    path = f"/sop/plans/{plan['id']}"

    renamed = await sop.patch(path, {"name": "改名"})
    assert renamed.status == 200
    assert [s["id"] for s in renamed.json()["steps"]] == [first, second, third]

    reply = await sop.patch(path, {"steps": [
        {"id": second, "day_offset": 1, "time": "21:30", "text": "day 1, later"},
        {"every": "friday", "time": "18:00", "text": "weekend!"},
    ]})
    assert reply.status == 200, reply.body
    kept, new = reply.json()["steps"]
    assert (kept["id"], kept["time"], kept["text"]) == (second, "21:30", "day 1, later")
    assert new["id"] not in (first, second, third)
    retired = {s.id: s.retired_at for s in await SopStep.filter(plan_id=plan["id"])}
    assert len(retired) == 4  # never deleted
    assert retired[first] == retired[third] == NOW
    assert retired[second] is None and retired[new["id"]] is None
    assert (await sop.get(path)).json()["steps"] == [kept, new]

    for steps, field in (([{"id": first, **STEP}], "steps[0].id"),  # retired
                         ([{"id": 999999, **STEP}], "steps[0].id"),
                         ([{"id": second, **STEP}, {"id": second, **STEP}], "steps[1].id")):
        refused = await sop.patch(path, {"steps": steps})
        assert (refused.status, refused.error["field"]) == (400, field)
    for change, field in (({"timezone": "Nowhere"}, "timezone"), ({"id": 3}, "id"),
                          ({"enabled": None}, "enabled")):
        refused = await sop.patch(path, change)
        assert (refused.status, refused.error["field"]) == (400, field)
    assert (await sop.get(path)).json()["steps"] == [kept, new]  # refusals changed nothing


async def test_target_and_timezone_changes(sop: AdminClient) -> None:
    plan = await create(sop, plan_body(steps=[{"at": "2030-02-01T10:00", "text": "x"}]))
    path = f"/sop/plans/{plan['id']}"
    reply = await sop.patch(path, {"timezone": "Europe/Berlin",
                                   "target": {"labels": ["vip"], "created_from": "2029-01-01"}})
    assert reply.status == 200, reply.body
    changed = reply.json()
    # The target is replaced as a whole; the absolute moment stays, shown in Berlin time.
    assert changed["target"] == {"owners": [], "name_contains": "", "labels": ["vip"],
                                 "chat_ids": [], "created_from": "2029-01-01",
                                 "created_until": None}
    assert changed["steps"][0]["at"] == "2030-02-01T03:00:00+01:00"
    everyone = await sop.patch(path, {"target": {}})
    assert everyone.json()["target"]["labels"] == []


async def test_editing_never_resends_a_step_already_sent(sop: AdminClient) -> None:
    await group("wr-a", NOW - timedelta(hours=1))
    plan = await create(sop, plan_body(steps=[{"day_offset": 0, "time": "11:00", "text": "x"}]))
    step = plan["steps"][0]["id"]
    await task(plan["id"], step, "wr-a", TaskStatus.SENT, msgid="msg-1")
    path = f"/sop/plans/{plan['id']}"
    moved = await sop.patch(path, {"steps": [{"id": step, "day_offset": 0, "time": "15:00",
                                              "text": "x, later"}]})
    assert moved.status == 200
    assert (await sop.get(f"{path}/preview")).json()["items"] == []
    # The same content as a new step is a new step: it would go out.
    fresh = await sop.patch(path, {"steps": [{"day_offset": 0, "time": "15:00", "text": "x"}]})
    new_step = fresh.json()["steps"][0]["id"]
    items = (await sop.get(f"{path}/preview")).json()["items"]
    assert [(i["chat_id"], i["step_id"]) for i in items] == [("wr-a", new_step)]


async def test_preview_with_the_apps_clock(sop: AdminClient) -> None:
    await group("wr-fresh", NOW - timedelta(hours=1))  # 09:00 today, local
    await group("wr-old", NOW - timedelta(days=10))
    await group("wr-elsewhere", NOW - timedelta(hours=1), owner="lisi")
    await group("wr-gone", NOW - timedelta(hours=1), status=GroupStatus.DISMISSED)
    plan = await create(sop, plan_body(steps=[
        {"day_offset": 0, "time": "11:00", "text": "welcome"},
        {"anchor": "enrolled", "day_offset": 1, "time": "09:00", "text": "day 1"},
        {"every": "monday", "time": "09:00", "text": "monday"},
    ]))
    welcome, day1, monday = (s["id"] for s in plan["steps"])
    await task(plan["id"], day1, "wr-old", TaskStatus.PENDING)
    path = f"/sop/plans/{plan['id']}/preview"

    reply = await sop.get(path)
    assert reply.status == 200, reply.body
    answer = reply.json()
    assert (answer["from"], answer["until"]) == ("2030-01-07T10:00:00+08:00",
                                                 "2030-01-14T10:00:00+08:00")
    assert (answer["groups"], answer["truncated"], answer["enabled"]) == (2, False, True)
    assert [(i["chat_id"], i["step_id"], i["occurrence"], i["due_at"])
            for i in answer["items"]] == [
        ("wr-fresh", welcome, "once", "2030-01-07T11:00:00+08:00"),
        ("wr-fresh", day1, "once", "2030-01-08T09:00:00+08:00"),  # wr-old has its task
        ("wr-fresh", monday, "2030-01-14", "2030-01-14T09:00:00+08:00"),
        ("wr-old", monday, "2030-01-14", "2030-01-14T09:00:00+08:00"),
    ]
    assert answer["items"][0]["group_name"] == "wr-fresh 群"
    assert answer["items"][0]["owner"] == "zhangsan"

    one_day = (await sop.get(path, params={"days": "1"})).json()
    assert [i["step_id"] for i in one_day["items"]] == [welcome, day1]
    cut = (await sop.get(path, params={"limit": "3"})).json()
    assert (len(cut["items"]), cut["truncated"]) == (3, True)
    month = (await sop.get(path, params={"days": "31"})).json()
    mondays = sorted({i["occurrence"] for i in month["items"] if i["step_id"] == monday})
    assert mondays == ["2030-01-14", "2030-01-21", "2030-01-28", "2030-02-04"]
    for params in ({"days": "0"}, {"days": "32"}, {"days": "x"}, {"limit": "2001"}):
        refused = await sop.get(path, params=params)
        assert (refused.status, refused.error["field"]) == (400, next(iter(params)))


async def test_disable_and_delete(sop: AdminClient) -> None:
    plan = await create(sop)
    path = f"/sop/plans/{plan['id']}"
    off = await sop.patch(path, {"enabled": False})
    assert off.json()["enabled"] is False
    assert (await sop.get(f"{path}/preview")).json()["enabled"] is False
    assert (await sop.delete(path)).status == 204
    for method, suffix in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("GET", "/preview")):
        gone = await sop.request(method, path + suffix, json={"name": "x"})
        assert (gone.status, gone.error["code"]) == (404, "not_found"), (method, suffix)
    # What it did stays readable.
    assert (await sop.get(f"{path}/report")).status == 200
    assert (await sop.get(f"{path}/tasks")).status == 200
    assert (await sop.get("/sop/plans")).json()["total"] == 0
    listed = (await sop.get("/sop/plans", params={"include_deleted": "true"})).json()
    [deleted] = listed["items"]
    assert (deleted["enabled"], deleted["deleted_at"]) == (False, NOW.isoformat())


async def test_the_report_counts_every_task_status(sop: AdminClient) -> None:
    plan = await create(sop)
    first, second = (s["id"] for s in plan["steps"])
    with_msgid = {TaskStatus.PUSHED, TaskStatus.SENT, TaskStatus.NOT_SENT}
    for status in TaskStatus:
        await task(plan["id"], first, f"wr-{status.value}", status,
                   msgid="msg-1" if status in with_msgid else "")
    await task(plan["id"], first, "wr-failed-after-push", TaskStatus.FAILED, msgid="msg-1")
    for chat_id in ("wr-x", "wr-y"):
        await task(plan["id"], second, chat_id, TaskStatus.SENT, msgid="msg-2")
    # Retiring a step keeps its row in the report.
    await sop.patch(f"/sop/plans/{plan['id']}", {"steps": [plan["steps"][0]]})

    reply = await sop.get(f"/sop/plans/{plan['id']}/report")
    assert reply.status == 200
    report = reply.json()
    row1, row2 = report["steps"]
    assert row1["step_id"] == first and row1["retired_at"] is None
    assert row2["step_id"] == second and row2["retired_at"] == NOW.isoformat()
    assert row1["when"] == "day 0 after created at 11:00"
    for status, column in STATUS_COLUMNS.items():
        expected = 2 if status == TaskStatus.FAILED else 1
        assert row1[column] == expected, column
    assert set(STATUS_COLUMNS) == set(TaskStatus)
    assert (row1["targeted"], row1["pushed"]) == (10, 4)
    assert sum(row1[c] for c in STATUS_COLUMNS.values()) == row1["targeted"]
    assert (row2["targeted"], row2["pushed"], row2["sent"], row2["failed"]) == (2, 2, 2, 0)
    totals = report["totals"]
    assert (totals["targeted"], totals["pushed"], totals["sent"], totals["failed"],
            totals["skipped_limit"], totals["missed"]) == (12, 6, 3, 2, 1, 1)

    for request in ({"params": {"format": "csv"}}, {"headers": {"Accept": "text/csv"}}):
        table = await sop.get(f"/sop/plans/{plan['id']}/report", **request)
        assert table.headers["Content-Type"].startswith("text/csv")
        header, *lines = list(csv.reader(io.StringIO(table.body.decode())))
        assert header == list(REPORT_CSV_COLUMNS)
        rows = [dict(zip(header, line, strict=True)) for line in lines]
        assert [(r["step_id"], r["targeted"], r["pushed"], r["failed"]) for r in rows] == [
            (str(first), "10", "4", "2"), (str(second), "2", "2", "0")]
    refused = await sop.get(f"/sop/plans/{plan['id']}/report", params={"format": "xlsx"})
    assert (refused.status, refused.error["field"]) == (400, "format")


async def test_task_rows_paged_filtered_and_as_csv(sop: AdminClient) -> None:
    await group("wr-a", NOW - timedelta(days=1))
    plan = await create(sop)
    first, second = (s["id"] for s in plan["steps"])
    await task(plan["id"], first, "wr-a", TaskStatus.SENT, msgid="msg-1")
    await task(plan["id"], first, "wr-b", TaskStatus.FAILED)
    for day in range(1, 6):
        await task(plan["id"], second, f"wr-{day}", TaskStatus.PENDING,
                   occurrence=f"2030-01-{day:02d}")
    path = f"/sop/plans/{plan['id']}/tasks"

    page = (await sop.get(path, params={"limit": "2", "offset": "1"})).json()
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (7, 2, 1, 2)
    everything = (await sop.get(path)).json()["items"]
    a = everything[0]
    assert set(a) == set(TASK_COLUMNS)
    assert (a["chat_id"], a["group_name"], a["owner"], a["status"], a["msgid"]) == (
        "wr-a", "wr-a 群", "zhangsan", "sent", "msg-1")
    assert a["due_at"] == "2030-01-08T10:00:00+08:00"
    failed = (await sop.get(path, params={"status": "failed"})).json()
    assert [(t["chat_id"], t["error"]) for t in failed["items"]] == [("wr-b", "refused")]
    by_step = (await sop.get(path, params={"step_id": str(second)})).json()
    assert by_step["total"] == 5
    assert {t["occurrence"] for t in by_step["items"]} == {f"2030-01-0{d}" for d in range(1, 6)}

    table = await sop.get(path, params={"format": "csv", "step_id": str(first)})
    assert "attachment" in table.headers["Content-Disposition"]
    header, *lines = list(csv.reader(io.StringIO(table.body.decode())))
    assert header == list(TASK_COLUMNS)
    assert [line[0] for line in lines] == ["wr-a", "wr-b"]
    for params in ({"status": "done"}, {"step_id": "0"}, {"limit": "0"}):
        refused = await sop.get(path, params=params)
        assert (refused.status, refused.error["field"]) == (400, next(iter(params)))


async def test_unknown_plans_are_404(sop: AdminClient) -> None:
    for method, suffix in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("GET", "/preview"),
                           ("GET", "/report"), ("GET", "/tasks")):
        reply = await sop.request(method, f"/sop/plans/424242{suffix}", json={"name": "x"})
        assert (reply.status, reply.error["code"]) == (404, "not_found"), (method, suffix)


async def test_every_route_needs_the_token(sop: AdminClient) -> None:
    plan = await create(sop)
    path = f"/sop/plans/{plan['id']}"
    for method, route in (("GET", "/sop/plans"), ("POST", "/sop/plans"), ("GET", path),
                          ("PATCH", path), ("DELETE", path), ("GET", f"{path}/preview"),
                          ("GET", f"{path}/report"), ("GET", f"{path}/tasks")):
        for token in (None, "not-a-token"):
            reply = await sop.request(method, route, json=plan_body(), token=token)
            assert (reply.status, reply.error["code"]) == (401, "unauthorized"), route
    assert (await sop.get(path)).json()["name"] == plan["name"]  # nothing changed
