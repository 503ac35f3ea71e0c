"""A small JSON client for the app's HTTP edges (`/admin/api/`, `/miniapp/api/`) in tests:
it sends the bearer token it holds and reads every answer into a `Reply`."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy

_DEFAULT = object()


@dataclasses.dataclass
class Reply:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error(self) -> dict[str, Any]:
        """The error object, after checking the shape every error has."""
        payload = self.json()
        assert set(payload) == {"error"}, payload
        assert isinstance(payload["error"]["code"], str), payload
        assert isinstance(payload["error"]["message"], str), payload
        return dict(payload["error"])


class ApiClient:
    """HTTP to the edge at `url`, with `Authorization: Bearer <token>` when it holds a
    token (a request's `token=None` sends no header, `token="..."` sends that one)."""

    def __init__(self, url: str, session: aiohttp.ClientSession, token: str | None) -> None:
        self.url = url
        self.session = session
        self.token = token

    async def request(self, method: str, path: str, *, json: Any = _DEFAULT,
                      data: Any = None, params: dict[str, str] | None = None,
                      token: Any = _DEFAULT, headers: dict[str, str] | None = None) -> Reply:
        sent = dict(headers or {})
        token = self.token if token is _DEFAULT else token
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        kwargs: dict[str, Any] = {"params": params, "headers": sent, "data": data}
        if json is not _DEFAULT:
            kwargs["json"] = json
        async with self.session.request(method, self.url + path, **kwargs) as response:
            return Reply(response.status, response.headers, await response.read())

    async def get(self, path: str, **kwargs: Any) -> Reply:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return await self.request("POST", path, json=body, **kwargs)

    async def patch(self, path: str, body: Any, **kwargs: Any) -> Reply:
        return await self.request("PATCH", path, json=body, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> Reply:
        return await self.request("DELETE", path, **kwargs)
