"""App messages over real HTTP: gettoken with the app's own secret, message/send to
staff with invalid users answered, its errcodes, and the console's record."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bot.sandbox.wecom_api import WeComApi
from tests.sandbox_fixtures import SandboxConsole

SEND = "message/send"


@pytest.fixture
async def app_token(api: WeComApi, sandbox: SandboxConsole) -> str:
    await sandbox.add_staff("zhangsan")
    await sandbox.add_staff("lisi")
    answer = await api.gettoken(corpsecret=api.settings.wecom.agent_secret)
    assert answer["errcode"] == 0 and answer["expires_in"] == 7200
    return str(answer["access_token"])


def message(api: WeComApi, touser: str, content: str = "请手动发送：周一好",
            **fields: Any) -> dict[str, Any]:
    return {"touser": touser, "msgtype": "text", "agentid": api.settings.wecom.agent_id,
            "text": {"content": content}, **fields}


async def test_send_reaches_known_staff_and_names_the_others(
    api: WeComApi, sandbox: SandboxConsole, app_token: str
) -> None:
    answer = await api.post(SEND, app_token, message(api, "zhangsan|nobody|zhangsan|x2"))
    assert (answer["errcode"], answer["invaliduser"]) == (0, "nobody|x2")
    assert answer["msgid"]
    [sent] = await sandbox.app_messages("zhangsan")
    assert (sent["msgid"], sent["touser"], sent["invaliduser"], sent["content"],
            sent["agentid"]) == (answer["msgid"], ["zhangsan"], ["nobody", "x2"],
                                 "请手动发送：周一好", api.settings.wecom.agent_id)
    assert await sandbox.app_messages("lisi") == []

    everyone = await api.post(SEND, app_token, message(api, "@all", "字" * 700))
    assert everyone["invaliduser"] == ""
    latest = (await sandbox.app_messages())[-1]
    assert latest["touser"] == ["zhangsan", "lisi"]
    assert latest["content"] == "字" * 682  # cut to 2,048 bytes on a character boundary
    assert (await sandbox.state())["app_messages"] == 2


@pytest.mark.parametrize(("fields", "errcode"), [
    ({"agentid": 1}, 40056),
    ({"agentid": None}, 40056),
    ({"msgtype": "image"}, 40008),
    ({"text": {"content": ""}}, 44004),
    ({"touser": ""}, 40058),
    ({"touser": "||"}, 40058),
], ids=["wrong-agent", "no-agent", "image", "empty-content", "no-users", "only-bars"])
async def test_send_refuses_bad_messages(
    api: WeComApi, sandbox: SandboxConsole, app_token: str, fields: dict[str, Any],
    errcode: int
) -> None:
    assert (await api.post(SEND, app_token, {**message(api, "zhangsan"), **fields})
            )["errcode"] == errcode
    assert await sandbox.app_messages() == []


async def test_only_the_apps_own_token_may_send(
    api: WeComApi, sandbox: SandboxConsole, app_token: str
) -> None:
    contact_token = await api.token()
    assert await api.post(SEND, contact_token, message(api, "zhangsan")) == {
        "errcode": 48002, "errmsg": "api forbidden"}
    # The app is listed for customer contact: its token reads customer data too.
    answer = await api.post("externalcontact/groupchat/list", app_token, {"limit": 10})
    assert answer["errcode"] == 0
    assert (await api.gettoken(corpsecret="wrong"))["errcode"] == 40001
