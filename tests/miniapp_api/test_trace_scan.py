"""`POST /miniapp/api/trace/scan` over real HTTP: open to everyone, points for a member
who sends their token (and a 401 for a token that is not valid), a forged code is a
200 `not_genuine`, a wrong PIN a 400 `wrong_pin`, and failures past the limit a 429
with Retry-After. The app clock stands still, so the failure limit's minute does too."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from bot.sandbox.clock import SandboxClock
from bot.settings import Settings
from handlers.trace_codes import pin_of
from handlers.trace_serials import make_serial
from models.trace import CodeScan, TraceCode
from tests.handlers.points_world import assert_ledger_consistent
from tests.handlers.trace_world import GTIN, make_codes, new_batch
from tests.miniapp_api.conftest import MiniApp, miniapp_client
from tests.sandbox_fixtures import SandboxConsole

FAILURES_PER_MINUTE = 3
NOW = 1_740_999_970.0  # 10 s into a minute (2025-03-03)


@pytest.fixture
async def app(settings: Settings, sandbox: SandboxConsole) -> AsyncIterator[MiniApp]:
    tuned = dataclasses.replace(settings, trace=dataclasses.replace(
        settings.trace, failed_scans_per_minute=FAILURES_PER_MINUTE))
    async with miniapp_client(tuned, sandbox, clock=SandboxClock(lambda: NOW)) as running:
        yield running


async def codes(settings: Settings, count: int, lot: str = "L2025A",
                pin_required: bool = False) -> list[dict[str, str]]:
    return await make_codes(await new_batch(lot, pin_required=pin_required), count, settings)


async def test_anyone_may_scan_and_a_member_earns_the_points(
    app: MiniApp, settings: Settings
) -> None:
    first, second = await codes(settings, 2)
    reply = await app.api.post("/trace/scan", {"code": first["url"], "city": "上海市"})
    assert reply.status == 200, reply.body
    answer = reply.json()
    assert (answer["verdict"], answer["points_awarded"]) == ("genuine", 0)
    assert answer["code"]["serial"] == first["serial"]
    assert answer["product"]["name"] == "安心牛奶"
    assert answer["history"]["first_verified_city"] == "上海市"
    assert (await TraceCode.get(serial=first["serial"])).verified_member_id is None

    client, member, _ = await app.sign_up()
    earned = (await client.post("/trace/scan", {"code": second["url"]})).json()
    points = settings.points.scan_first_verification
    assert (earned["verdict"], earned["points_awarded"]) == ("genuine", points)
    assert (await client.get("/me/points")).json()["balance"] == points
    ledger = (await client.get("/me/points/ledger")).json()["items"]
    assert [(e["delta"], e["reason"]) for e in ledger] == [(points, "安心码首次验证")]
    again = (await client.post("/trace/scan", {"code": first["url"]})).json()
    assert (again["verdict"], again["points_awarded"]) == ("already_verified", 0)
    assert (await TraceCode.get(serial=second["serial"])).verified_member_id == member["id"]
    await assert_ledger_consistent()


async def test_a_token_that_is_not_valid_is_refused(app: MiniApp, settings: Settings) -> None:
    (row,) = await codes(settings, 1)
    reply = await app.api.post("/trace/scan", {"code": row["url"]}, token="forged-token")
    assert reply.status == 401 and reply.error["code"] == "unauthorized"
    assert (await TraceCode.get(serial=row["serial"])).scans == 0


async def test_bad_input_is_refused(app: MiniApp) -> None:
    for body, field in (({}, "code"), ({"code": ""}, "code"), ({"code": 7}, "code"),
                        ({"code": "x", "city": "市" * 65}, "city"),
                        ({"code": "x", "colour": "red"}, "colour")):
        reply = await app.api.post("/trace/scan", body)
        assert reply.status == 400, body
        assert (reply.error["code"], reply.error["field"]) == ("invalid_input", field)


async def test_a_forged_code_is_an_answer_until_the_limit(
    app: MiniApp, settings: Settings
) -> None:
    (row,) = await codes(settings, 1)
    forged = row["url"].replace(row["serial"], make_serial(
        settings.trace.code_keys, "1", GTIN, "L2025A"))
    for _ in range(FAILURES_PER_MINUTE):
        reply = await app.api.post("/trace/scan", {"code": forged})
        assert reply.status == 200
        answer = reply.json()
        assert (answer["verdict"], answer["product"], answer["batch"], answer["history"]) == (
            "not_genuine", None, None, None)
    for text in (forged, row["url"]):
        refused = await app.api.post("/trace/scan", {"code": text})
        assert refused.status == 429 and refused.error["code"] == "rate_limited"
        assert refused.headers["Retry-After"] == "50" and refused.error["retry_after"] == 50
    assert await CodeScan.all().count() == 0


async def test_a_wrong_pin_is_refused_with_the_attempts_left(
    app: MiniApp, settings: Settings
) -> None:
    (row,) = await codes(settings, 1, "PIN-1", pin_required=True)
    client, _, _ = await app.sign_up()
    asked = (await client.post("/trace/scan", {"code": row["url"]})).json()
    assert (asked["verdict"], asked["pin_required"], asked["points_awarded"]) == (
        "genuine", True, 0)
    wrong = await client.post("/trace/scan", {"code": row["url"], "pin": "12345678"})
    assert wrong.status == 400 and wrong.error["code"] == "wrong_pin"
    assert wrong.error["attempts_left"] == settings.trace.pin_max_attempts - 1
    right = await client.post("/trace/scan", {
        "code": row["url"], "pin": pin_of(settings.trace.pin_key, row["serial"])})
    assert right.status == 200
    assert (right.json()["verdict"], right.json()["pin_required"],
            right.json()["points_awarded"]) == ("genuine", False, 10)
