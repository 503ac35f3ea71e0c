"""The 安心码 catalogue's rules: GTIN-14 with ASCII digits and a right check digit, lots
in GS1 CSET 82, a recall that keeps its first time, and events stored once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.runtime import open_runtime
from bot.settings import Settings
from handlers.trace_catalog import (
    EventSpec,
    TraceInputError,
    add_events,
    recall_batch,
    timeline,
    valid_gtin,
    valid_lot,
    zone_offset,
)
from models.trace import Batch, BatchStatus, BizStep
from tests.handlers.points_world import T0
from tests.handlers.trace_world import new_batch

SHANGHAI = timezone(timedelta(hours=8))


@pytest.mark.parametrize("text", ["09520123456789", "9520123456788", "０９５２０１２３４５６７８８",
                                  "٠٩٥٢٠١٢٣٤٥٦٧٨٨", "0952012345678X"])
def test_a_gtin_needs_14_ascii_digits_and_its_check_digit(text: str) -> None:
    with pytest.raises(TraceInputError) as refused:
        valid_gtin(text)
    assert refused.value.field == "gtin"
    assert valid_gtin("09520123456788") == "09520123456788"


@pytest.mark.parametrize("text", ["", "A B", "LOTé", "X" * 21, "L#1"])
def test_a_lot_is_up_to_20_characters_of_cset82(text: str) -> None:
    with pytest.raises(TraceInputError):
        valid_lot(text)
    assert valid_lot("L2025/03-A_1") == "L2025/03-A_1"


async def test_recall_keeps_its_first_time_and_events_are_stored_once(
        settings: Settings) -> None:
    async with open_runtime(settings):
        batch = await new_batch()
        first = await recall_batch(batch, now=T0)
        again = await recall_batch(batch, now=T0 + timedelta(days=3))
        assert first.status is again.status is BatchStatus.RECALLED
        assert again.recalled_at == first.recalled_at == T0
        shipped = EventSpec(datetime(2025, 3, 2, 9, 30, tzinfo=SHANGHAI), BizStep.SHIPPING,
                            "in_transit", "上海一厂", "安心物流", {"truck": "沪A12345"})
        packed = EventSpec(datetime(2025, 3, 1, 18, 0, tzinfo=SHANGHAI), BizStep.PACKING)
        assert await add_events(batch, [shipped, packed], now=T0) == 2
        assert await add_events(batch, [shipped], now=T0) == 0
        steps = [(e.biz_step, e.time_zone_offset) for e in await timeline(batch.id)]
        assert steps == [(BizStep.PACKING, "+08:00"), (BizStep.SHIPPING, "+08:00")]
        assert zone_offset(datetime(2025, 3, 1, tzinfo=UTC)) == "+00:00"
        assert await Batch.filter(id=batch.id, status=BatchStatus.RECALLED).exists()
