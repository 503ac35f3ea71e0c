"""User against the sandbox: a member's name and avatar."""

from __future__ import annotations

from typing import Any

import pytest

from bot.wecom import WeComClient, WeComError
from bot.wecom.user import StaffInfo


async def test_get_reads_the_member(client: WeComClient, sandbox: Any) -> None:
    await sandbox.add_staff("zhangsan", "张三", avatar="http://wework.qpic.cn/a/0")

    assert await client.user.get("zhangsan") == StaffInfo(
        userid="zhangsan", name="张三", avatar="http://wework.qpic.cn/a/0")
    with pytest.raises(WeComError) as raised:
        await client.user.get("nobody")
    assert (raised.value.errcode, raised.value.api) == (60111, "user/get")
