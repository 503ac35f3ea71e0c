"""Opaque cursors for paged API answers (`cursor` in, `next_cursor` out).

A cursor encodes the offset into a listing whose order is stable (insertion order of
the sandbox's indexes), so paging through an unchanged corp is deterministic. An empty
`next_cursor` means the listing is done; a cursor the sandbox did not issue answers
40058.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import TypeVar

from bot.sandbox.errors import INVALID_PARAMETER, ApiError

T = TypeVar("T")
_MARK = "offset:"


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_MARK}{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if text.startswith(_MARK) and text[len(_MARK):].isdigit():
            return int(text[len(_MARK):])
    except (binascii.Error, ValueError):
        pass
    raise ApiError(INVALID_PARAMETER)


def page(items: Sequence[T], cursor: str, limit: int) -> tuple[list[T], str]:
    """The items from the cursor on (at most `limit`) and the cursor for the next page."""
    start = decode_cursor(cursor)
    chunk = list(items[start:start + limit])
    end = start + len(chunk)
    return chunk, encode_cursor(end) if end < len(items) else ""
