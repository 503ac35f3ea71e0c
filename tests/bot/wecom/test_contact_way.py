"""ContactWay against the sandbox: a channel QR code created, read, changed and
deleted, and a customer scanning it arriving with the way's state."""

from __future__ import annotations

from typing import Any

import pytest

from bot.wecom import WeComClient, WeComError
from bot.wecom.contact_way import ContactWayInfo


@pytest.fixture
async def guides(sandbox: Any) -> list[str]:
    for userid in ("zhangsan", "lisi"):
        await sandbox.add_staff(userid)
    return ["zhangsan", "lisi"]


async def test_create_get_update_delete(
    client: WeComClient, sandbox: Any, guides: list[str]
) -> None:
    created = await client.contact_way.add(state="shop42", users=guides, remark="门店")
    assert created.qr_code == f"{sandbox.url}/sandbox/qr/{created.config_id}"

    assert await client.contact_way.get(created.config_id) == ContactWayInfo(
        config_id=created.config_id, type=2, scene=2, state="shop42", qr_code=created.qr_code,
        users=("zhangsan", "lisi"), skip_verify=True, remark="门店")

    await client.contact_way.update(created.config_id, users=["lisi"], skip_verify=False)
    way = await client.contact_way.get(created.config_id)
    assert (way.users, way.skip_verify, way.state, way.remark) == (
        ("lisi",), False, "shop42", "门店")

    await client.contact_way.delete(created.config_id)
    with pytest.raises(WeComError) as raised:
        await client.contact_way.get(created.config_id)
    assert raised.value.errcode == 41044


async def test_one_guide_makes_a_single_member_way(
    client: WeComClient, sandbox: Any, guides: list[str]
) -> None:
    created = await client.contact_way.add(state="s1", users=["zhangsan"])
    way = await client.contact_way.get(created.config_id)
    assert (way.type, way.users) == (1, ("zhangsan",))
    with pytest.raises(WeComError) as raised:
        await client.contact_way.update(created.config_id, users=guides)
    assert raised.value.errcode == 40058
    with pytest.raises(ValueError):
        await client.contact_way.add(state="s2", users=[])


async def test_a_scan_of_the_qr_code_carries_the_state(
    client: WeComClient, sandbox: Any, guides: list[str]
) -> None:
    created = await client.contact_way.add(state="shop42", users=["lisi"])
    scanned = await sandbox.scan(created.config_id, name="王五")
    eid = scanned["relation"]["external_userid"]
    [follow] = (await client.external_contact.get(eid)).follow_users
    assert (follow.userid, follow.state, follow.add_way) == ("lisi", "shop42", 1)
