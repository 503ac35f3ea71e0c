"""One ID across WeCom and the mini-program: a customer who adds a guide in WeCom and the
WeChat user who logs in to the mini-program are one member when their unionids match,
whichever comes first; the first guide add earns points once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.settings import Settings
from models.contacts import FollowRelation
from models.events import EventStatus, InboxEvent
from models.members import IdentityKind, Member, MemberIdentity, MemberMerge, MemberStatus
from models.points import PointsEntry
from tests.apphost import wait_for
from tests.miniapp_api.conftest import MiniApp, miniapp_client
from tests.sandbox_fixtures import SandboxConsole

UNIONID = "oUnionLinkTest000000000001"


@pytest.fixture
async def corp(settings: Settings, sandbox: SandboxConsole) -> AsyncIterator[MiniApp]:
    """Two guides in the sandbox, and the app (with a worker) serving the mini-program."""
    for userid in ("zhangsan", "lisi"):
        await sandbox.add_staff(userid, f"导购 {userid}")
    async with miniapp_client(settings, sandbox, worker=True) as app:
        yield app


async def linked(external_userid: str) -> int:
    """The member the WeCom add linked (waits for the add to be processed)."""
    async def member_id() -> int:
        row = await MemberIdentity.get_or_none(kind=IdentityKind.EXTERNAL_USERID,
                                               value=external_userid)
        return row.member_id if row is not None else 0  # type: ignore[attr-defined]

    found = await wait_for(member_id, what=f"{external_userid} linked to a member")
    await wait_for(events_done, what="the add processed")
    return found


async def events_done() -> bool:
    return not await InboxEvent.filter(
        status__in=[EventStatus.PENDING, EventStatus.PROCESSING]).exists()


async def guide_adds(member_id: int) -> list[int]:
    return [e.delta for e in await PointsEntry.filter(key=f"guide_add:{member_id}")]


async def add_guide(sandbox: SandboxConsole, guide: str, **customer: Any) -> str:
    ext = customer.pop("external_userid", None) or (
        await sandbox.add_customer("李雷", unionid=UNIONID, **customer))["external_userid"]
    await sandbox.add_contact(guide, ext)
    return str(ext)


async def test_a_wecom_add_before_login_makes_the_member_login_finds(
    corp: MiniApp, settings: Settings
) -> None:
    ext = await add_guide(corp.sandbox, "zhangsan")
    member_id = await linked(ext)
    member = await Member.get(id=member_id)
    assert (member.guide_userid, member.points) == ("zhangsan", settings.points.first_guide_add)
    assert await guide_adds(member_id) == [settings.points.first_guide_add]
    ids = await MemberIdentity.filter(member_id=member_id).values_list("kind", flat=True)
    assert sorted(ids) == [IdentityKind.EXTERNAL_USERID, IdentityKind.UNIONID]

    user = await corp.sandbox.miniapp_user(unionid=UNIONID)
    client, me = await corp.log_in(user)
    assert (me["id"], me["guide"], me["points"]) == (
        member_id, "zhangsan", settings.points.first_guide_add)
    assert await Member.all().count() == 1
    assert await MemberIdentity.get(kind=IdentityKind.OPENID, value=user["openid"])


async def test_a_login_before_the_wecom_add_gets_linked_once(
    corp: MiniApp, settings: Settings
) -> None:
    user = await corp.sandbox.miniapp_user(unionid=UNIONID)
    client, me = await corp.log_in(user)
    assert me["guide"] is None

    first = await corp.sandbox.add_customer("李雷", unionid=UNIONID)
    await corp.sandbox.add_contact("zhangsan", first["external_userid"])
    assert await linked(first["external_userid"]) == me["id"]
    now = (await client.get("/me")).json()
    assert (now["guide"], now["points"]) == ("zhangsan", settings.points.first_guide_add)

    # The event again, and the same person adding a second guide: no second award, and
    # the first guide stays theirs.
    [delivery] = [d for d in await corp.sandbox.deliveries()
                  if first["external_userid"] in d["xml"]]
    await corp.sandbox.redeliver(delivery["id"])
    await corp.sandbox.add_contact("lisi", first["external_userid"])
    await wait_for(lambda: FollowRelation.exists(staff_userid="lisi"), what="lisi's add")
    await wait_for(events_done, what="every add processed")
    now = (await client.get("/me")).json()
    assert (now["guide"], now["points"]) == ("zhangsan", settings.points.first_guide_add)
    assert await guide_adds(me["id"]) == [settings.points.first_guide_add]
    assert await Member.all().count() == 1


async def test_a_customer_without_unionid_is_not_a_member(corp: MiniApp) -> None:
    customer = await corp.sandbox.add_customer("王五")
    await corp.sandbox.add_contact("zhangsan", customer["external_userid"])
    await wait_for(lambda: InboxEvent.filter(status=EventStatus.DONE).exists(),
                   what="the add processed")
    assert await Member.all().count() == 0


async def test_an_openid_only_member_merges_with_the_wecom_one_when_the_unionid_arrives(
    corp: MiniApp, settings: Settings
) -> None:
    # Logged in before the mini-program was bound to the open platform: no unionid.
    user = await corp.sandbox.miniapp_user(unionid="")
    client, older = await corp.log_in(user)
    ext = await add_guide(corp.sandbox, "zhangsan")
    wecom_member = await linked(ext)
    assert wecom_member != older["id"]

    bound = await corp.sandbox.miniapp_user(openid=user["openid"], unionid=UNIONID)
    _, me = await corp.log_in(bound)
    assert (me["id"], me["guide"], me["points"]) == (
        older["id"], "zhangsan", settings.points.first_guide_add)
    merged = await Member.get(id=wecom_member)
    assert merged.status == MemberStatus.MERGED
    [audit] = await MemberMerge.all()
    assert (audit.survivor_id, audit.merged_id, audit.reason) == (  # type: ignore[attr-defined]
        older["id"], wecom_member, "unionid")
    identity = await MemberIdentity.get(kind=IdentityKind.EXTERNAL_USERID, value=ext)
    assert identity.member_id == older["id"]  # type: ignore[attr-defined]
    assert (await client.get("/me")).json()["points"] == settings.points.first_guide_add
