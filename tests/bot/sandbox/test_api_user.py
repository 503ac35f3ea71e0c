"""user/get over real HTTP: a member's name and avatar, and the unknown member."""

from __future__ import annotations

from tests.bot.sandbox.wecom_api import WeComApi
from tests.sandbox_fixtures import SandboxConsole

USER_GET = "user/get"


async def test_user_get_answers_name_and_avatar(api: WeComApi, sandbox: SandboxConsole) -> None:
    await sandbox.add_staff("zhangsan", "张三", avatar="http://wework.qpic.cn/a/0")
    token = await api.token()
    answer = await api.get(USER_GET, token, userid="zhangsan")
    assert (answer["errcode"], answer["userid"], answer["name"], answer["avatar"],
            answer["status"]) == (0, "zhangsan", "张三", "http://wework.qpic.cn/a/0", 1)
    assert await api.get(USER_GET, token, userid="nobody") == {
        "errcode": 60111, "errmsg": "userid not found"}
    assert (await api.get(USER_GET, token))["errcode"] == 41009
    assert (await api.get(USER_GET, "bad-token", userid="zhangsan"))["errcode"] == 40014
