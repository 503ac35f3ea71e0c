"""Identifiers shaped like WeCom's: 32 characters with the prefix WeCom uses for the kind.

`wm…` WeChat-user customers, `wo…` WeCom-user customers (wecom-protocol.md §3.2), `et…`
corp tags and tag groups, `wr…` customer groups. The random part is hex, so ids are
URL- and XML-safe.
"""

from __future__ import annotations

import secrets

WECHAT_CUSTOMER = "wm"
WECOM_CUSTOMER = "wo"
CUSTOMER_PREFIXES = (WECHAT_CUSTOMER, WECOM_CUSTOMER)
TAG = "et"
GROUP_CHAT = "wr"
ID_LENGTH = 32


def new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(ID_LENGTH)[: ID_LENGTH - len(prefix)]


def new_external_userid(customer_type: int) -> str:
    """A customer id: type 1 (WeChat user) → `wm…`, type 2 (WeCom user) → `wo…`."""
    return new_id(WECOM_CUSTOMER if customer_type == 2 else WECHAT_CUSTOMER)


def is_external_userid(value: str) -> bool:
    return value.startswith(CUSTOMER_PREFIXES) and len(value) > len(WECHAT_CUSTOMER)


def new_secret(nbytes: int = 48) -> str:
    """An unguessable opaque string for access tokens and welcome codes."""
    return secrets.token_urlsafe(nbytes)
