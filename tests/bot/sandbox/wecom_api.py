"""A minimal WeCom API client for the sandbox tests: /cgi-bin/ calls over real HTTP."""

from __future__ import annotations

from typing import Any

import aiohttp

from bot.settings import Settings


class WeComApi:
    """Calls the sandbox's /cgi-bin/ API like a WeCom client would."""

    def __init__(self, base_url: str, settings: Settings, session: aiohttp.ClientSession) -> None:
        self.base_url = base_url
        self.settings = settings
        self._session = session

    async def call(self, method: str, name: str, *, params: dict[str, str] | None = None,
                   body: Any = None, data: bytes | None = None) -> dict[str, Any]:
        async with self._session.request(method, f"{self.base_url}/cgi-bin/{name}",
                                         params=params, json=body, data=data) as response:
            assert response.status == 200
            return dict(await response.json())

    async def gettoken(self, corpid: str | None = None,
                       corpsecret: str | None = None) -> dict[str, Any]:
        wecom = self.settings.wecom
        return await self.call("GET", "gettoken", params={
            "corpid": wecom.corp_id if corpid is None else corpid,
            "corpsecret": wecom.contact_secret if corpsecret is None else corpsecret,
        })

    async def token(self) -> str:
        answer = await self.gettoken()
        assert answer["errcode"] == 0, answer
        return str(answer["access_token"])

    async def get(self, name: str, token: str, **params: str) -> dict[str, Any]:
        return await self.call("GET", name, params={"access_token": token, **params})

    async def post(self, name: str, token: str, body: Any) -> dict[str, Any]:
        return await self.call("POST", name, params={"access_token": token}, body=body)
