"""Making 安心码: every code stored and written once to the printer's CSV (a `url`
column first), each URL reading back to a serial that verifies for its batch, PINs
when the batch wants them, QR images a real decoder reads back to the same URL, and
the command line with its summary."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest

from bot.runtime import open_runtime
from bot.settings import Settings
from handlers.trace_codes import generate_codes, pin_of
from handlers.trace_links import read_code
from handlers.trace_serials import check_serial
from models.trace import TraceCode
from tests.apphost import run_cli
from tests.handlers.points_world import T0
from tests.handlers.trace_world import GTIN, make_codes, new_batch
from tests.qr_decode import decoded, read_png


async def test_codes_are_stored_and_written_once_and_verify(settings: Settings) -> None:
    async with open_runtime(settings):
        batch = await new_batch()
        rows = await make_codes(batch, 1500, settings)
        assert list(rows[0]) == ["url", "serial", "gtin", "lot"]
        serials = [row["serial"] for row in rows]
        assert len(set(serials)) == 1500
        stored = {c.serial for c in await TraceCode.filter(batch_id=batch.id)}
        assert stored == set(serials)
        for row in rows:
            ref = read_code(row["url"])
            assert (ref.gtin, ref.lot, ref.serial) == (GTIN, batch.lot, row["serial"])
            assert row["url"].startswith(settings.trace.base_url + "/01/")
            check_serial(settings.trace.code_keys, ref.gtin, ref.lot, ref.serial)
        # A second run adds as many new codes, none of the first run's.
        more = await make_codes(batch, 10, settings)
        assert not {row["serial"] for row in more} & set(serials)
        assert await TraceCode.filter(batch_id=batch.id).count() == 1510


async def test_pins_and_qr_images_read_back(settings: Settings) -> None:
    async with open_runtime(settings):
        batch = await new_batch("PIN-1", pin_required=True)
        out, images = io.StringIO(), io.BytesIO()
        assert await generate_codes(batch, 12, out, trace=settings.trace, now=T0,
                                    qr_zip=images) == 12
        rows = list(csv.DictReader(io.StringIO(out.getvalue())))
        assert all(row["pin"] == pin_of(settings.trace.pin_key, row["serial"])
                   and len(row["pin"]) == 8 for row in rows)
        with zipfile.ZipFile(images) as archive:
            assert sorted(archive.namelist()) == sorted(f"{r['serial']}.png" for r in rows)
            for row in rows:
                image = read_png(archive.read(f"{row['serial']}.png"))
                assert decoded(image) == row["url"]
        with pytest.raises(ValueError):
            await generate_codes(batch, 10_001, io.StringIO(), trace=settings.trace, now=T0,
                                 qr_zip=io.BytesIO())
        assert await TraceCode.filter(batch_id=batch.id).count() == 12


async def test_the_command_line_writes_the_csv(settings: Settings, tmp_path: Path) -> None:
    async with open_runtime(settings):
        batch = await new_batch("CLI-7")
    out = tmp_path / "codes.csv"
    code, printed = await run_cli(settings, "codes", "generate", "--batch", "CLI-7",
                                  "--count", "300", "--out", str(out))
    assert code == 0, printed
    assert f"300 codes of {GTIN} lot CLI-7 stored" in printed
    with out.open(encoding="utf-8-sig", newline="") as text:
        rows = list(csv.DictReader(text))
    assert len(rows) == 300 and not (tmp_path / "codes.csv.partial").exists()
    async with open_runtime(settings):
        assert await TraceCode.filter(batch_id=batch.id).count() == 300
    code, printed = await run_cli(settings, "codes", "generate", "--batch", "NOPE",
                                  "--count", "3", "--out", str(tmp_path / "x.csv"))
    assert code == 1 and "no batch NOPE" in printed
