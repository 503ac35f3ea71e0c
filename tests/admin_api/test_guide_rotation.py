"""Guide pools: a one-guide channel grows into a pool, daily caps move routing to the
other guides, the backup takes over when everyone is capped."""

from __future__ import annotations

from typing import Any

import aiohttp

from bot.redis_conn import open_redis
from bot.settings import Settings
from bot.wecom import WeComClient
from handlers.guide_rotation import rotate_guides
from models.channels import Attribution
from tests.admin_api.conftest import GUIDES, admin_client, contact_way
from tests.admin_api.test_onboarding import welcome_body
from tests.apphost import wait_for
from tests.bot.sandbox.wecom_api import WeComApi
from tests.sandbox_fixtures import SandboxConsole


async def _rotate(settings: Settings) -> int:
    redis = open_redis(settings.redis.url)
    try:
        async with aiohttp.ClientSession() as session:
            return await rotate_guides(WeComClient(session, redis, settings))
    finally:
        await redis.aclose()


async def _users(api: WeComApi, channel: dict[str, Any]) -> list[str]:
    return list((await contact_way(api, channel["config_id"]))["contact_way"]["user"])


async def test_caps_reroute_the_pool_and_the_backup_takes_over(
    settings: Settings, corp: SandboxConsole, wecom_api: WeComApi
) -> None:
    await corp.add_staff("backup", "后备导购")
    async with admin_client(settings, worker=True) as admin:
        channel = (await admin.post("/channels", welcome_body())).json()
        grown = await admin.patch(f"/channels/{channel['id']}", {
            "guides": list(GUIDES), "daily_caps": {GUIDES[0]: 1, GUIDES[1]: 1},
            "backup_guide": "backup"})
        assert grown.status == 200, grown.body
        assert sorted(await _users(wecom_api, channel)) == sorted(GUIDES)

        first = await corp.scan(channel["config_id"], name="一号")
        await wait_for(lambda: Attribution.exists(), what="first add credited")
        assert await _rotate(settings) == 1
        other = [g for g in GUIDES if g != first["relation"]["userid"]]
        assert await _users(wecom_api, channel) == other

        await corp.scan(channel["config_id"], name="二号")
        await wait_for(lambda: Attribution.filter(staff_userid=other[0]).exists(),
                       what="second add credited")
        assert await _rotate(settings) == 1
        assert await _users(wecom_api, channel) == ["backup"]
        assert await _rotate(settings) == 0  # nothing changed since
