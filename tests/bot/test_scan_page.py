"""The public 安心码 page (bot/scan_page.py) over real HTTP: the verdict in words with
the product, batch, trace, history and guide QR, everything escaped; forged codes,
PIN entry, the failure limit, crawlers and the base URL's path prefix; a printed
code's QR read back by a real decoder and scanned through the API; and the page as
headless Chromium renders it, with the network out of its reach."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import struct
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
import pytest

from bot.sandbox.clock import SandboxClock
from bot.settings import Settings
from handlers.qr_render import qr_png
from handlers.trace_catalog import EventSpec, add_events
from handlers.trace_codes import pin_of
from handlers.trace_serials import make_serial
from models.trace import BizStep, CodeScan, Product, TraceCode
from tests.apphost import serve_app
from tests.handlers.points_world import T0
from tests.handlers.scan_world import PHONE_UA, with_guide
from tests.handlers.trace_world import GTIN, make_codes, new_batch
from tests.qr_decode import decoded, read_png

NOW = 1_740_999_970.0  # 2025-03-03, 10 s into a minute
CHROMIUM = Path("/usr/bin/chromium")
BROWSER_SECONDS = 90
GENUINE_GREEN = (0x15, 0x80, 0x3D)


@dataclasses.dataclass
class Page:
    status: int
    headers: Any
    text: str


@dataclasses.dataclass
class Site:
    url: str
    session: aiohttp.ClientSession
    settings: Settings

    async def get(self, path: str, **headers: str) -> Page:
        async with self.session.get(self.url + path, headers={"User-Agent": PHONE_UA,
                                                              **headers}) as response:
            return Page(response.status, response.headers, await response.text())

    async def post(self, path: str, form: dict[str, str]) -> Page:
        async with self.session.post(self.url + path, data=form,
                                     headers={"User-Agent": PHONE_UA}) as response:
            return Page(response.status, response.headers, await response.text())


@asynccontextmanager
async def site(settings: Settings, **trace: Any) -> AsyncIterator[Site]:
    """The app with `trace` settings changed, on a clock that stands still."""
    tuned = dataclasses.replace(settings, trace=dataclasses.replace(settings.trace, **trace))
    async with serve_app(tuned, SandboxClock(lambda: NOW).now) as url, \
            aiohttp.ClientSession() as session:
        yield Site(url, session, tuned)


def path_of(url: str) -> str:
    return urlsplit(url).path


async def test_the_page_shows_the_verdict_product_batch_trace_and_guide(
    settings: Settings
) -> None:
    async with site(settings) as web:
        batch = await new_batch(qa_report_url="https://qa.example.com/r/1.pdf?a=1&b=2",
                                qa_report_hash="sha256:0f1e")
        await add_events(batch, [EventSpec(T0, BizStep.COMMISSIONING, location="上海一厂"),
                                 EventSpec(T0, BizStep.SHIPPING, location="上海仓")], now=T0)
        await Product.filter(gtin=GTIN).update(name='安心<牛奶> & "鲜"')
        await with_guide()
        (row,) = await make_codes(batch, 1, web.settings)
        city = {"X-Client-City": quote("上海市")}
        page = await web.get(path_of(row["url"]), **city)
        assert page.status == 200
        assert page.headers["Content-Type"] == "text/html; charset=utf-8"
        assert page.headers["Cache-Control"] == "no-store"
        assert "default-src 'none'" in page.headers["Content-Security-Policy"]
        assert '<html lang="zh-CN">' in page.text and 'name="viewport"' in page.text
        assert "正品" in page.text and "已验证过" not in page.text
        assert "安心&lt;牛奶&gt; &amp; &quot;鲜&quot;" in page.text and "<牛奶>" not in page.text
        assert "L2025A" in page.text and "2026-02-20" in page.text and "上海一厂" in page.text
        assert "生产" in page.text and "发货" in page.text and "上海仓" in page.text
        assert 'href="https://qa.example.com/r/1.pdf?a=1&amp;b=2"' in page.text
        assert "<svg" in page.text and "长按识别二维码" in page.text
        assert not any(tag in page.text for tag in ("src=", "<script", "<link", "<img"))
        assert row["serial"] in page.text

        again = await web.get(path_of(row["url"]), **city)
        assert "已验证过" in again.text and "上海市" in again.text
        assert "2025-03-03 19:06" in again.text  # the first verification, Shanghai time
        code = await TraceCode.get(serial=row["serial"])
        assert (code.scans, code.verifications, code.verified_city) == (2, 2, "上海市")


async def test_forged_codes_and_crawlers(settings: Settings) -> None:
    async with site(settings, failed_scans_per_minute=2) as web:
        (row,) = await make_codes(await new_batch(), 1, web.settings)
        forged = row["url"].replace(row["serial"], make_serial(
            web.settings.trace.code_keys, "1", GTIN, "L2025A"))
        bot = await web.get(path_of(row["url"]), **{"User-Agent": "Googlebot/2.1"})
        assert bot.status == 200 and "正品" in bot.text
        assert await CodeScan.all().count() == 0
        for _ in range(2):
            page = await web.get(path_of(forged))
            assert page.status == 200 and "非正品" in page.text
            assert "安心牛奶" not in page.text and "L2025A" not in page.text
        refused = await web.get(path_of(row["url"]))
        assert refused.status == 429 and refused.headers["Retry-After"] == "50"
        assert refused.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "50 秒后再试" in refused.text
        assert (await TraceCode.get(serial=row["serial"])).scans == 0


async def test_a_scratch_pin_is_entered_on_the_page(settings: Settings) -> None:
    async with site(settings) as web:
        (row,) = await make_codes(await new_batch("PIN-1", pin_required=True), 1, web.settings)
        path = path_of(row["url"])
        asked = await web.get(path)
        assert asked.status == 200 and '<form method="post">' in asked.text
        wrong = await web.post(path, {"pin": "00000000"})
        assert wrong.status == 400 and "还可尝试 4 次" in wrong.text
        right = await web.post(path, {"pin": pin_of(web.settings.trace.pin_key, row["serial"])})
        assert right.status == 200 and "正品" in right.text and "<form" not in right.text
        assert (await TraceCode.get(serial=row["serial"])).verifications == 1


async def test_the_page_answers_under_the_base_urls_prefix_in_any_case(
    settings: Settings
) -> None:
    async with site(settings, base_url="https://anxin.example.com/ax") as web:
        (row,) = await make_codes(await new_batch("lot-a1"), 1, web.settings)
        path = path_of(row["url"])
        assert path.startswith("/ax/01/")
        for variant in (path, path.upper(), path.removeprefix("/ax")):
            page = await web.get(variant)
            assert page.status == 200 and "非正品" not in page.text, variant
        assert (await TraceCode.get(serial=row["serial"])).verifications == 3
        assert (await web.get("/xy" + path.removeprefix("/ax"))).status == 404


async def test_a_printed_qr_reads_back_and_scans_through_the_api(settings: Settings) -> None:
    async with site(settings) as web:
        rows = await make_codes(await new_batch(), 3, web.settings)
        text = decoded(read_png(qr_png(rows[1]["url"], 8)))
        assert text == rows[1]["url"]
        async with web.session.post(f"{web.url}/miniapp/api/trace/scan",
                                    json={"code": text, "city": "杭州市"}) as reply:
            assert reply.status == 200
            answer = await reply.json()
        assert (answer["verdict"], answer["code"]["serial"]) == ("genuine", rows[1]["serial"])
        page = await web.get(path_of(text))
        assert "已验证过" in page.text and "杭州市" in page.text


async def browser(*args: str, profile: Path) -> bytes:
    """Run headless Chromium kept off the network (no proxy, no name but the loopback
    resolves, no background services); its stdout."""
    proc = await asyncio.create_subprocess_exec(
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--disable-dev-shm-usage", "--no-proxy-server",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        f"--user-data-dir={profile}", "--window-size=390,844", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "HOME": str(profile)})
    try:
        out, err = await asyncio.wait_for(proc.communicate(), BROWSER_SECONDS)
    except TimeoutError:
        proc.kill()
        await proc.communicate()
        raise AssertionError(f"chromium took over {BROWSER_SECONDS} s") from None
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    return out


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and RGB(A) rows of an 8-bit truecolour PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6)
    bpp = 3 if colour == 2 else 4
    raw, stride, rows = zlib.decompress(idat), width * bpp, []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                near = min((abs(p - left), 0, left), (abs(p - up), 1, up),
                           (abs(p - corner), 2, corner))[2]
                line[i] = (line[i] + near) & 255
        rows.append(bytes(line) if bpp == 3 else bytes(
            b for px in range(width) for b in line[px * 4:px * 4 + 3]))
        previous = line
    return width, height, rows


async def test_the_page_in_headless_chromium(settings: Settings, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if os.environ.get("SCRM_TEST_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    async with site(settings) as web:
        (row,) = await make_codes(await new_batch(), 1, web.settings)
        await with_guide()
        url = web.url + path_of(row["url"])
        # Headless Chromium's own User-Agent is a crawler's: its scan is not recorded.
        shot = tmp_path / "page.png"
        await browser(f"--screenshot={shot}", url, profile=tmp_path / "shot")
        assert await CodeScan.all().count() == 0
        dom = (await browser(f"--user-agent={PHONE_UA}", "--dump-dom", url,
                             profile=tmp_path / "dom")).decode()
        assert "正品" in dom and "安心牛奶" in dom and "长按识别二维码" in dom
        assert "非正品" not in dom and "<svg" in dom
        assert (await TraceCode.get(serial=row["serial"])).scans == 1

    assert shot.stat().st_size > 5_000
    width, height, rows = png_pixels(shot.read_bytes())
    assert (width, height) == (390, 844)
    green = sum(row[x:x + 3] == bytes(GENUINE_GREEN)
                for row in rows[:300] for x in range(0, width * 3, 3))
    assert green > 390 * 40, green  # the verdict's block, in the genuine colour
