"""`POST /me/phone`: the number WeChat verifies is stored sealed with its lookup hash, and
a member whose number another member holds already is merged with them — identities,
sessions, points, growth and history moved to the older one, once, with an audit row."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.settings import Settings
from handlers import ledger
from handlers.member_crypto import phone_lookup_hash, unseal
from handlers.member_phone import PHONE_PURPOSE
from handlers.order_rows import OrderRow
from handlers.orders import import_orders
from models.members import (
    IdentityKind,
    Member,
    MemberIdentity,
    MemberMerge,
    MemberStatus,
)
from models.points import EntryKind, ImportedOrder, OrderStatus, PointsEntry
from tests.miniapp_api.conftest import MiniApp

PHONE = "13800138000"


async def test_a_bound_phone_is_sealed_and_found_by_its_hash(
    miniapp: MiniApp, settings: Settings
) -> None:
    client, member, user = await miniapp.sign_up(phone=PHONE)
    me = await miniapp.bind_phone(client, user)
    assert (me["id"], me["phone_bound"]) == (member["id"], True)
    assert PHONE.encode() not in (await client.get("/me")).body

    stored = await Member.get(id=member["id"])
    lookup = phone_lookup_hash(settings.members, PHONE)
    assert stored.phone_hash == lookup == phone_lookup_hash(settings.members, "+86 138-0013-8000")
    assert stored.phone_cipher and PHONE not in stored.phone_cipher
    assert unseal(settings.members, stored.phone_cipher, PHONE_PURPOSE) == "+86" + PHONE
    [identity] = await MemberIdentity.filter(member_id=member["id"], kind=IdentityKind.PHONE)
    assert identity.value == lookup

    # The same number again changes nothing; another one replaces it.
    cipher = stored.phone_cipher
    await miniapp.bind_phone(client, user)
    assert (await Member.get(id=member["id"])).phone_cipher == cipher
    await miniapp.bind_phone(client, user, "2025550123", country_code="1")
    stored = await Member.get(id=member["id"])
    assert unseal(settings.members, str(stored.phone_cipher), PHONE_PURPOSE) == "+12025550123"
    phones = await MemberIdentity.filter(member_id=member["id"], kind=IdentityKind.PHONE)
    assert [p.value for p in phones] == [phone_lookup_hash(settings.members, "+12025550123")]


async def test_a_bad_phone_code_is_refused_and_changes_nothing(miniapp: MiniApp) -> None:
    client, member = await miniapp.log_in(await miniapp.sandbox.miniapp_user())
    reply = await client.post("/me/phone", {"code": "not-a-code"})
    assert (reply.status, reply.error["code"]) == (400, "invalid_code")
    reply = await client.post("/me/phone", {})
    assert (reply.status, reply.error["field"]) == (400, "code")
    assert (await Member.get(id=member["id"])).phone_hash is None
    assert not await MemberIdentity.filter(kind=IdentityKind.PHONE).exists()


async def ledger_sum(member_id: int) -> tuple[int, int]:
    entries = await PointsEntry.filter(member_id=member_id)
    return sum(e.delta for e in entries), sum(e.growth_delta for e in entries)


async def test_the_same_phone_on_two_members_merges_them_into_the_older(
    miniapp: MiniApp, settings: Settings
) -> None:
    now = datetime.now(UTC)
    first, older, first_user = await miniapp.sign_up(phone=PHONE)
    await first.patch("/me", {"nickname": "老会员", "consents": {"marketing": False}})
    await miniapp.bind_phone(first, first_user)
    await ledger.award(older["id"], 80, key="test:older", reason="订单", now=now,
                       growth=300, settings=settings)

    # The same person on another WeChat account (another unionid), newer.
    second, newer, second_user = await miniapp.sign_up(phone=PHONE)
    await second.patch("/me", {"birthday": "1991-02-03",
                               "consents": {"marketing": True, "sms": True}})
    await ledger.award(newer["id"], 45, key="test:newer", reason="签到", now=now,
                       growth=250, settings=settings)
    assert newer["id"] != older["id"]

    me = await miniapp.bind_phone(second, second_user)
    assert me["id"] == older["id"]
    assert (me["points"], me["growth"], me["level"]) == (125, 550, "V2")
    # Blanks filled from the merged member; the survivor's own answers kept.
    assert (me["nickname"], me["birthday"]) == ("老会员", "1991-02-03")
    assert me["consents"] == {"marketing": False, "sms": True}

    merged = await Member.get(id=newer["id"])
    assert (merged.status, merged.merged_into_id) == (  # type: ignore[attr-defined]
        MemberStatus.MERGED, older["id"])
    assert (merged.points, merged.growth, merged.phone_hash) == (0, 0, None)
    identities = await MemberIdentity.filter(member_id=older["id"]).values_list(
        "kind", "value")
    assert sorted(identities) == sorted([
        (IdentityKind.OPENID, first_user["openid"]), (IdentityKind.UNIONID, first_user["unionid"]),
        (IdentityKind.OPENID, second_user["openid"]),
        (IdentityKind.UNIONID, second_user["unionid"]),
        (IdentityKind.PHONE, phone_lookup_hash(settings.members, PHONE))])
    assert not await MemberIdentity.filter(member_id=newer["id"]).exists()

    # Nothing counted twice: the ledger and the cached totals agree.
    assert await ledger_sum(older["id"]) == (125, 550)
    assert await ledger_sum(newer["id"]) == (0, 0)
    assert await PointsEntry.filter(kind=EntryKind.MERGE).count() == 1
    [audit] = await MemberMerge.all()
    assert (audit.survivor_id, audit.merged_id, audit.reason) == (  # type: ignore[attr-defined]
        older["id"], newer["id"], "phone")
    assert (audit.moved["points"], audit.moved["growth"], audit.moved["identities"]) == (
        45, 250, 2)

    # The merged member's session now belongs to the survivor; so does their next login.
    assert (await second.get("/me")).json()["id"] == older["id"]
    _, again = await miniapp.log_in(second_user)
    assert again["id"] == older["id"]
    # Binding again, from either side, merges nothing more.
    await miniapp.bind_phone(first, first_user)
    assert await MemberMerge.all().count() == 1
    assert (await first.get("/me")).json()["points"] == 125


async def test_the_older_member_survives_whichever_side_binds(
    miniapp: MiniApp, settings: Settings
) -> None:
    older_client, older, older_user = await miniapp.sign_up(phone=PHONE)
    newer_client, newer, newer_user = await miniapp.sign_up(phone=PHONE)
    await miniapp.bind_phone(newer_client, newer_user)  # the newer member holds the number
    me = await miniapp.bind_phone(older_client, older_user)
    assert me["id"] == older["id"] and me["phone_bound"] is True
    assert (await Member.get(id=newer["id"])).status == MemberStatus.MERGED
    survivor = await Member.get(id=older["id"])
    assert survivor.phone_hash == phone_lookup_hash(settings.members, PHONE)
    assert (await newer_client.get("/me")).json()["id"] == older["id"]


async def test_orders_imported_under_the_phone_before_binding_are_credited_on_binding(
    miniapp: MiniApp, settings: Settings
) -> None:
    now = datetime.now(UTC)
    order = OrderRow(channel="tmall", order_id="T9001", identity_kind="phone",
                     identity_value=phone_lookup_hash(settings.members, PHONE),
                     amount_cents=12_000, paid_at=now, status=OrderStatus.PAID)
    assert (await import_orders([order], settings, now)).unmatched == 1
    client, member, user = await miniapp.sign_up(phone=PHONE)
    assert member["points"] == 0
    me = await miniapp.bind_phone(client, user)
    assert (me["points"], me["growth"]) == (120, 120)
    assert (await ImportedOrder.get(order_id="T9001")).member_id == member["id"]
    await miniapp.bind_phone(client, user)  # binding again credits nothing more
    assert (await client.get("/me")).json()["points"] == 120


async def test_a_member_keeps_one_phone_through_a_merge(
    miniapp: MiniApp, settings: Settings
) -> None:
    older_client, older, older_user = await miniapp.sign_up(phone="13600000001")
    newer_client, newer, newer_user = await miniapp.sign_up(phone=PHONE)
    await miniapp.bind_phone(older_client, older_user)
    await miniapp.bind_phone(newer_client, newer_user)
    # The older member shares the newer one's number: it is theirs now, the old one gone.
    me = await miniapp.bind_phone(older_client, older_user, PHONE)
    assert me["id"] == older["id"]
    phones = await MemberIdentity.filter(kind=IdentityKind.PHONE).values_list(
        "member_id", "value")
    assert phones == [(older["id"], phone_lookup_hash(settings.members, PHONE))]
    survivor = await Member.get(id=older["id"])
    assert unseal(settings.members, str(survivor.phone_cipher), PHONE_PURPOSE) == "+86" + PHONE
