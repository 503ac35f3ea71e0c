"""Opaque cursors: pages cover a listing exactly once; foreign cursors are 40058."""

from __future__ import annotations

import pytest

from bot.sandbox.errors import ApiError
from bot.sandbox.paging import page


def test_pages_cover_the_listing_once_in_order() -> None:
    items, seen, cursor = list(range(1201)), [], ""
    while True:
        chunk, cursor = page(items, cursor, 500)
        seen.append(chunk)
        if not cursor:
            break
    assert [len(c) for c in seen] == [500, 500, 201]
    assert [i for c in seen for i in c] == items


@pytest.mark.parametrize("cursor", ["garbage!", "b2Zmc2V0Oi0x", "Zm9vOjE"])
def test_foreign_cursor_is_rejected(cursor: str) -> None:
    with pytest.raises(ApiError) as failed:
        page([1, 2, 3], cursor, 2)
    assert failed.value.errcode == 40058
