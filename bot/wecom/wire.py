"""One HTTP round trip to a WeChat-family API and the reading of its JSON envelope.

Shared by the token cache (gettoken) and the transport (every other API), so both turn
transport failures into the family's unavailable error (`WeComUnavailable` for WeCom)
and nonzero errcodes into its typed errors the same way. The mini-program client uses
it too (its answers carry no errcode at all on success). Nothing here retries or logs;
nothing here lets a token or secret through (aiohttp's messages can carry the URL with
its query string).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aiohttp

from bot.wecom.errors import redact
from bot.wecom.family import ApiFamily


async def call_json(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    family: ApiFamily,
    api: str,
    params: Mapping[str, str],
    body: Any = None,
    timeout: float,
    sensitive: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Send the request and return the response object when `errcode` is 0 (or absent).

    Raises `family.unavailable` without an answer, the `family.error_for` class
    otherwise. `sensitive` values are masked in every message.
    """
    unavailable = family.unavailable
    try:
        async with session.request(
            method,
            url,
            params=dict(params),
            json=body,
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            status = response.status
            text = await response.text()
    except TimeoutError:
        raise unavailable(api, f"no answer within {timeout:g} s") from None
    except aiohttp.ClientError as exc:
        reason = redact(f"{type(exc).__name__}: {exc}", *sensitive)
        raise unavailable(api, reason) from None
    if status >= 500:
        raise unavailable(api, f"HTTP {status}")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise unavailable(api, f"HTTP {status} with a body that is not a JSON object")
    errcode = data.get("errcode", 0)
    if not isinstance(errcode, int):
        raise unavailable(api, f"HTTP {status} with errcode that is not an integer")
    if errcode:
        raise family.error_for(errcode, redact(str(data.get("errmsg", "")), *sensitive), api)
    return data

