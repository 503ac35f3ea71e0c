"""`GET /admin/api/members/{id}`: a member with identities (the phone masked), level,
points and the latest ledger entries, for customer service."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.settings import Settings
from handlers import ledger
from models.members import Member
from tests.admin_api.conftest import AdminClient
from tests.miniapp_api.conftest import MemberClient, MiniApp
from tests.sandbox_fixtures import SandboxConsole

PHONE = "13700001234"


async def member_with_phone(admin: AdminClient, corp: SandboxConsole) -> tuple[int, dict[str, str]]:
    """A mini-program member (logged in over HTTP) who bound PHONE."""
    app = MiniApp(MemberClient(admin.base_url, admin.session), corp, None)
    client, member, user = await app.sign_up(phone=PHONE)
    await app.bind_phone(client, user)
    return int(member["id"]), user


async def test_a_member_with_identities_level_points_and_ledger(
    admin: AdminClient, corp: SandboxConsole, settings: Settings
) -> None:
    member_id, user = await member_with_phone(admin, corp)
    now = datetime.now(UTC)
    for n in range(25):
        await ledger.award(member_id, 10, key=f"test:order-{n}", reason="订单", now=now,
                           growth=30, settings=settings)
    await Member.filter(id=member_id).update(guide_userid="zhangsan")

    reply = await admin.get(f"/members/{member_id}")
    assert reply.status == 200
    body = reply.json()
    assert (body["id"], body["status"], body["merged_into"]) == (member_id, "active", None)
    assert (body["level"], body["level_number"], body["growth"], body["points"]) == (
        "V2", 2, 750, 250)
    assert (body["phone"], body["guide"]) == ("+86137****1234", "zhangsan")
    assert {(i["kind"], i["value"]) for i in body["identities"]} == {
        ("openid", user["openid"]), ("unionid", user["unionid"]), ("phone", "+86137****1234")}
    assert PHONE not in reply.body.decode()
    assert (len(body["ledger"]), body["ledger_total"]) == (20, 25)
    latest = body["ledger"][0]
    assert (latest["key"], latest["delta"], latest["balance_after"]) == (
        "test:order-24", 10, 250)
    assert [(c["from"], c["to"]) for c in body["level_changes"]] == [(1, 2)]


async def test_unknown_member_is_404_and_a_token_is_needed(
    admin: AdminClient, corp: SandboxConsole
) -> None:
    reply = await admin.get("/members/987654")
    assert (reply.status, reply.error["code"]) == (404, "not_found")
    assert (await admin.get("/members/abc")).status == 404
    member_id, _ = await member_with_phone(admin, corp)
    assert (await admin.get(f"/members/{member_id}", token=None)).status == 401
