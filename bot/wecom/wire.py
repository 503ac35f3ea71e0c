"""One HTTP round trip to WeCom and the reading of its JSON envelope.

Shared by the token cache (gettoken) and the transport (every other API), so both turn
transport failures into `WeComUnavailable` and nonzero errcodes into typed errors the
same way. Nothing here retries or logs; nothing here lets a token or secret through
(aiohttp's messages can carry the URL with its query string).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aiohttp

from bot.wecom.errors import WeComUnavailable, error_for, redact


async def call_json(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    api: str,
    params: Mapping[str, str],
    body: Any = None,
    timeout: float,
    sensitive: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Send the request and return the response object when `errcode` is 0 (or absent).

    Raises `WeComUnavailable` without an answer, the `error_for` class otherwise.
    `sensitive` values are masked in every message.
    """
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
        raise WeComUnavailable(api, f"no answer within {timeout:g} s") from None
    except aiohttp.ClientError as exc:
        reason = redact(f"{type(exc).__name__}: {exc}", *sensitive)
        raise WeComUnavailable(api, reason) from None
    if status >= 500:
        raise WeComUnavailable(api, f"HTTP {status}")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise WeComUnavailable(api, f"HTTP {status} with a body that is not a JSON object")
    errcode = data.get("errcode", 0)
    if not isinstance(errcode, int):
        raise WeComUnavailable(api, f"HTTP {status} with errcode that is not an integer")
    if errcode:
        raise error_for(errcode, redact(str(data.get("errmsg", "")), *sensitive), api)
    return data

