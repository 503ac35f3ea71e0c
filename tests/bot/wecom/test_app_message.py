"""AppMessage against the sandbox: text to staff with the app's own secret, the users
WeCom could not reach, and an app the settings do not configure."""

from __future__ import annotations

from typing import Any

import pytest

from bot.settings import Settings
from bot.wecom import WeComError
from tests.bot.wecom.conftest import MakeClient


async def test_send_text_reaches_staff_with_the_apps_secret(
    make_client: MakeClient, sandbox: Any
) -> None:
    await sandbox.add_staff("owner1")
    client = make_client()
    assert client.app_message.configured
    unreached = await client.app_message.send_text(["owner1", "ghost"], "请手动发送：周一好")
    assert unreached == ["ghost"]
    [sent] = await sandbox.app_messages("owner1")
    assert (sent["touser"], sent["content"]) == (["owner1"], "请手动发送：周一好")

    await client.app_message.send_text(["owner1"], "长" * 1000)
    assert (await sandbox.app_messages())[-1]["content"] == "长" * 682


async def test_a_wrong_agent_or_secret_is_refused(
    make_client: MakeClient, sandbox: Any, settings: Settings
) -> None:
    await sandbox.add_staff("owner1")
    with pytest.raises(WeComError) as wrong_agent:
        await make_client(agent_id=7).app_message.send_text(["owner1"], "x")
    assert wrong_agent.value.errcode == 40056
    with pytest.raises(WeComError) as contact_secret:
        await make_client(agent_secret=settings.wecom.contact_secret).app_message.send_text(
            ["owner1"], "x")
    assert contact_secret.value.errcode == 48002
    assert await sandbox.app_messages() == []


async def test_no_agent_means_not_configured(make_client: MakeClient) -> None:
    assert not make_client(agent_id=0).app_message.configured
    assert not make_client(agent_secret="").app_message.configured
