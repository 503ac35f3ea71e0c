"""Scanning 安心码 (handlers/trace_scan.py): every verdict and their precedence, forged,
tampered, misplaced and never-issued codes refused without a trace, the per-client
limit on failures, crawlers that record nothing, the first verification exactly once
under concurrency, scratch PINs and the lock, points once per code, and the answer's
JSON."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot.runtime import Runtime, open_runtime
from bot.settings import Settings
from handlers.trace_catalog import EventSpec, add_events, recall_batch
from handlers.trace_codes import pin_of
from handlers.trace_links import CodeRef, code_uri
from handlers.trace_records import forget_batch
from handlers.trace_scan import (
    RateLimited,
    ScanResult,
    WrongPin,
    client_key,
    is_crawler,
    scan,
)
from handlers.trace_serials import make_serial
from handlers.trace_verdicts import (
    LOCKED,
    MANY_CITIES,
    NOT_A_CODE,
    NOT_SHIPPED,
    OUTSIDE_REGION,
    UNKNOWN_CODE,
    Verdict,
)
from handlers.trace_view import scan_body, scan_json
from models.points import PointsEntry
from models.trace import Batch, BatchStatus, BizStep, CodeScan, TraceCode
from tests.handlers.points_world import T0, assert_ledger_consistent, balance, new_member
from tests.handlers.scan_world import CRAWLER_UAS, GUIDE_QR, PHONE_UA, with_guide
from tests.handlers.trace_world import GTIN, make_codes, new_batch

NOW = T0 + timedelta(days=1, seconds=10)  # 2025-03-02 10:00:10 in Asia/Shanghai
OTHER_GTIN = "12312312312333"


@pytest.fixture
async def rt(settings: Settings) -> AsyncIterator[Runtime]:
    async with open_runtime(settings) as runtime:
        yield runtime


def tuned(settings: Settings, **trace: Any) -> Settings:
    return dataclasses.replace(settings, trace=dataclasses.replace(settings.trace, **trace))


async def scan_as(rt: Runtime, text: str, *, settings: Settings | None = None,
                  member_id: int | None = None, city: str = "上海市",
                  client: str = "10.0.0.1", user_agent: str = PHONE_UA,
                  pin: str | None = None, now: datetime = NOW) -> ScanResult:
    return await scan(text, member_id=member_id, city=city, client=client,
                      user_agent=user_agent, pin=pin, settings=settings or rt.settings,
                      redis=rt.redis, now=now)


async def one_code(rt: Runtime, lot: str = "L2025A", **batch: Any) -> tuple[Batch, str, str]:
    """A batch with one code: the batch, the code's URL and its serial."""
    made = await new_batch(lot, **batch)
    row = (await make_codes(made, 1, rt.settings))[0]
    return made, row["url"], row["serial"]


async def stored(serial: str) -> TraceCode:
    return await TraceCode.get(serial=serial)


async def test_first_scan_is_genuine_then_already_verified_with_a_warning(rt: Runtime) -> None:
    batch, url, serial = await one_code(rt)
    await with_guide()
    member = await new_member()
    first = await scan_as(rt, url, member_id=member)
    assert (first.verdict, first.reasons, first.warning) == (Verdict.GENUINE, (), None)
    assert first.recorded and first.points_awarded == rt.settings.points.scan_first_verification
    code = await stored(serial)
    assert (code.verified_at, code.verified_city, code.verified_member_id) == (
        NOW, "上海市", member)
    assert (code.verifications, code.scans) == (1, 1)

    answer = scan_json(first, rt.settings.trace)
    assert answer["code"] == {"gtin": GTIN, "lot": "L2025A", "serial": serial,
                              "uri": code_uri(rt.settings.trace.base_url,
                                              CodeRef(GTIN, "L2025A", serial))}
    assert answer["product"] == {"gtin": GTIN, "name": "安心牛奶", "sku": "", "images": []}
    assert answer["batch"]["expiry_date"] == "2026-02-20"
    assert answer["batch"]["factory"] == "上海一厂" and answer["batch"]["qa_report"] is None
    assert answer["history"] == {"scans": 1, "verifications": 1,
                                 "first_verified_at": NOW.isoformat(),
                                 "first_verified_city": "上海市"}
    assert answer["guide"] == {"qr_url": GUIDE_QR, "channel_state": f"ax{GTIN}"}
    assert (answer["pin_required"], answer["points_awarded"]) == (False, 10)
    assert json.loads(scan_body(first, rt.settings.trace)) == answer

    warn_after = rt.settings.trace.warn_after_verifications
    later = [await scan_as(rt, url, city="北京市", now=NOW + timedelta(days=2 + i))
             for i in range(warn_after)]
    assert {r.verdict for r in later} == {Verdict.ALREADY_VERIFIED}
    assert [r.warning is not None for r in later] == [False] * (warn_after - 1) + [True]
    assert f"{warn_after + 1} 次" in (later[-1].warning or "")
    history = scan_json(later[-1], rt.settings.trace)["history"]
    # The API's body: the batch's shared part encoded once, this scan's part anew.
    assert json.loads(scan_body(later[-1], rt.settings.trace)) == scan_json(
        later[-1], rt.settings.trace)
    assert history["first_verified_city"] == "上海市" and history["verifications"] == 4
    scans = await CodeScan.filter(serial=serial).order_by("id")
    assert [s.verdict for s in scans] == ["genuine"] + ["already_verified"] * warn_after
    assert scans[0].client == client_key(rt.settings.trace, "10.0.0.1") != "10.0.0.1"
    assert len(scans[0].client) == 16


async def test_forged_tampered_misplaced_and_unissued_codes_are_not_genuine(
    rt: Runtime, settings: Settings
) -> None:
    batch, url, serial = await one_code(rt)
    await new_batch("L2025B")
    await new_batch("L2025A", gtin=OTHER_GTIN)
    base = rt.settings.trace.base_url
    flipped = serial[:12] + ("A" if serial[12] != "A" else "B") + serial[13:]
    two_keys = {**rt.settings.trace.code_keys, "2": "a second code key of at least 32 chars"}
    unissued = make_serial(rt.settings.trace.code_keys, "1", GTIN, "L2025A")
    texts = {
        "not a URL": "hello",
        "another site": "https://example.com/products/42",
        "bad GTIN check digit": url.replace(GTIN, "09520123456789"),
        "tampered serial": url.replace(serial, flipped),
        "another lot": code_uri(base, CodeRef(GTIN, "L2025B", serial)),
        "another GTIN": code_uri(base, CodeRef(OTHER_GTIN, "L2025A", serial)),
        "unknown key version": code_uri(base, CodeRef(
            GTIN, "L2025A", make_serial(two_keys, "2", GTIN, "L2025A"))),
        "signed, never issued": code_uri(base, CodeRef(GTIN, "L2025A", unissued)),
        "a query after it": url + "?from=singlemessage",
    }
    for why, text in texts.items():
        result = await scan_as(rt, text)
        assert result.verdict == Verdict.NOT_GENUINE, why
        answer = scan_json(result, rt.settings.trace)
        assert answer == {"verdict": "not_genuine", "reasons": [answer["reasons"][0]],
                          "warning": None, "pin_required": False, "points_awarded": 0,
                          "code": None, "product": None, "batch": None, "trace": [],
                          "history": None, "guide": None}, why
        assert answer["reasons"][0] in {NOT_A_CODE, UNKNOWN_CODE}, why
    assert (await scan_as(rt, "hello", client="10.2.0.1")).reasons == (NOT_A_CODE,)
    assert (await scan_as(rt, texts["signed, never issued"], client="10.2.0.2")
            ).reasons == (UNKNOWN_CODE,)
    assert (await scan_as(rt, texts["tampered serial"], client="10.2.0.3")
            ).reasons == (UNKNOWN_CODE,)
    assert await CodeScan.all().count() == 0
    assert (await stored(serial)).scans == 0
    # The code itself, uppercased by a scanner or with its serial in lower case, is fine.
    assert (await scan_as(rt, url.upper())).verdict == Verdict.GENUINE
    assert (await scan_as(rt, url.replace(serial, serial.lower()))).verdict == (
        Verdict.ALREADY_VERIFIED)


async def test_a_lowercase_lot_verifies_from_an_uppercased_url(rt: Runtime) -> None:
    _, url, serial = await one_code(rt, "lot-a1")
    assert "/10/lot-a1/" in url
    result = await scan_as(rt, url.upper())
    assert result.verdict == Verdict.GENUINE and result.code is not None
    assert result.code.serial == serial and result.batch is not None
    assert result.batch.lot == "lot-a1"


async def test_precedence_recalled_expired_suspicious_then_genuine(rt: Runtime) -> None:
    batch, url, serial = await one_code(rt, region=["北京"], expiry_date=date(2025, 3, 1))
    before = await scan_as(rt, url)
    await recall_batch(batch, now=NOW)
    recalled = await scan_as(rt, url)
    assert (before.verdict, recalled.verdict) == (Verdict.EXPIRED, Verdict.RECALLED)
    bodies = [json.loads(scan_body(r, rt.settings.trace)) for r in (before, recalled)]
    assert [b["batch"]["status"] for b in bodies] == ["active", "recalled"]
    # Changes with no handler yet (un-recall, an expiry edit) forget the scan's
    # per-process batch cache as a handler would.
    await Batch.filter(id=batch.id).update(status=BatchStatus.ACTIVE)
    forget_batch(batch.id)
    assert (await scan_as(rt, url)).verdict == Verdict.EXPIRED
    await Batch.filter(id=batch.id).update(expiry_date=None)
    forget_batch(batch.id)
    doubted = await scan_as(rt, url)
    assert (doubted.verdict, doubted.reasons) == (Verdict.SUSPICIOUS, (OUTSIDE_REGION,))
    code = await stored(serial)
    assert (code.verified_at, code.verifications, code.scans) == (None, 0, 4)
    assert (await scan_as(rt, url, city="北京市")).verdict == Verdict.GENUINE
    assert (await scan_as(rt, url, city="北京市")).verdict == Verdict.ALREADY_VERIFIED
    # A verified code scanned outside the region is suspicious, not already_verified.
    assert (await scan_as(rt, url)).verdict == Verdict.SUSPICIOUS
    assert [s.verdict for s in await CodeScan.filter(serial=serial).order_by("id")] == [
        "expired", "recalled", "expired", "suspicious", "genuine", "already_verified",
        "suspicious"]


async def test_expiry_is_judged_by_the_date_in_shanghai(rt: Runtime) -> None:
    _, url, _ = await one_code(rt, expiry_date=date(2025, 3, 10))
    last_evening = datetime(2025, 3, 10, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    assert (await scan_as(rt, url, now=last_evening)).verdict == Verdict.GENUINE
    next_morning = datetime(2025, 3, 10, 16, 30, tzinfo=UTC)  # 00:30 on the 11th
    assert (await scan_as(rt, url, now=next_morning)).verdict == Verdict.EXPIRED


async def test_scans_in_many_cities_within_the_window_are_suspicious(rt: Runtime) -> None:
    _, url, _ = await one_code(rt)
    assert rt.settings.trace.suspicious_cities == 3
    assert (await scan_as(rt, url, city="上海市")).verdict == Verdict.GENUINE
    assert (await scan_as(rt, url, city="上海", now=NOW + timedelta(hours=1))
            ).verdict == Verdict.ALREADY_VERIFIED  # the same place
    assert (await scan_as(rt, url, city="北京市", now=NOW + timedelta(hours=2))
            ).verdict == Verdict.ALREADY_VERIFIED
    third = await scan_as(rt, url, city="广州市", now=NOW + timedelta(hours=3))
    assert (third.verdict, third.reasons) == (Verdict.SUSPICIOUS, (MANY_CITIES,))
    # A scan with no city adds none; a day after the last, the window holds one city.
    assert (await scan_as(rt, url, city="", now=NOW + timedelta(hours=4))
            ).verdict == Verdict.SUSPICIOUS
    assert (await scan_as(rt, url, city="深圳市", now=NOW + timedelta(hours=29))
            ).verdict == Verdict.ALREADY_VERIFIED


async def test_outside_the_region_is_suspicious(rt: Runtime) -> None:
    _, url, _ = await one_code(rt, region=["上海", "江苏省"])
    for day, city in enumerate(("上海市", "江苏省南京市", "")):  # days apart: one city a day
        assert (await scan_as(rt, url, city=city, now=NOW + timedelta(days=day))).verdict in {
            Verdict.GENUINE, Verdict.ALREADY_VERIFIED}, city
    result = await scan_as(rt, url, city="北京市", now=NOW + timedelta(days=5))
    assert (result.verdict, result.reasons) == (Verdict.SUSPICIOUS, (OUTSIDE_REGION,))


async def test_a_scan_before_the_batch_shipped_is_suspicious(rt: Runtime) -> None:
    batch, url, serial = await one_code(rt, region=["北京"])
    await add_events(batch, [EventSpec(T0 - timedelta(days=5), BizStep.COMMISSIONING)], now=T0)
    result = await scan_as(rt, url)
    assert (result.verdict, result.reasons) == (Verdict.SUSPICIOUS,
                                                (NOT_SHIPPED, OUTSIDE_REGION))
    await add_events(batch, [EventSpec(NOW + timedelta(hours=1), BizStep.SHIPPING,
                                       location="上海仓")], now=T0)
    assert (await scan_as(rt, url, city="北京")).reasons == (NOT_SHIPPED,)
    shipped = await scan_as(rt, url, city="北京", now=NOW + timedelta(hours=2))
    assert shipped.verdict == Verdict.GENUINE
    trace = scan_json(shipped, rt.settings.trace)["trace"]
    assert [e["biz_step"] for e in trace] == ["commissioning", "shipping"]
    assert trace[1]["location"] == "上海仓" and trace[1]["time_zone_offset"] == "+00:00"
    assert (await stored(serial)).verifications == 1


async def test_failed_verifications_are_limited_per_client(rt: Runtime) -> None:
    settings = tuned(rt.settings, failed_scans_per_minute=3)
    _, url, serial = await one_code(rt)
    forged = url.replace(serial, make_serial(settings.trace.code_keys, "1", GTIN, "L2025A"))
    for _ in range(5):  # genuine scans do not count
        assert (await scan_as(rt, url, settings=settings, client="10.9.0.3")).verdict in {
            Verdict.GENUINE, Verdict.ALREADY_VERIFIED}
    for client in ("10.9.0.1", "10.9.0.3"):
        for _ in range(3):
            result = await scan_as(rt, forged, settings=settings, client=client)
            assert result.verdict == Verdict.NOT_GENUINE
    for text in (forged, url, "hello"):  # refused before any work, the genuine code too
        with pytest.raises(RateLimited) as refused:
            await scan_as(rt, text, settings=settings, client="10.9.0.1")
        assert refused.value.retry_after == 50  # NOW is 10 s into its minute
    scans_before = (await stored(serial)).scans
    assert (await scan_as(rt, forged, settings=settings, client="10.9.0.2")).verdict == (
        Verdict.NOT_GENUINE)
    assert (await scan_as(rt, url, settings=settings, client="10.9.0.1",
                          now=NOW + timedelta(seconds=50))).verdict == Verdict.ALREADY_VERIFIED
    assert (await stored(serial)).scans == scans_before + 1


async def test_concurrent_failures_never_pass_the_limit(rt: Runtime) -> None:
    settings = tuned(rt.settings, failed_scans_per_minute=3)
    outcomes = await asyncio.gather(
        *(scan_as(rt, "https://example.com/01/nothing", settings=settings, client="10.8.0.1")
          for _ in range(12)), return_exceptions=True)
    kinds = Counter(type(o).__name__ for o in outcomes)
    assert kinds == {"ScanResult": 3, "RateLimited": 9}, kinds


async def test_crawlers_and_link_previews_record_nothing(rt: Runtime) -> None:
    _, url, serial = await one_code(rt)
    member = await new_member()
    assert not is_crawler(PHONE_UA) and not is_crawler("Python/3.11 aiohttp/3.14")
    for agent in CRAWLER_UAS:
        assert is_crawler(agent), agent
        result = await scan_as(rt, url, member_id=member, user_agent=agent)
        assert (result.verdict, result.recorded, result.points_awarded) == (
            Verdict.GENUINE, False, 0), agent
    code = await stored(serial)
    assert (code.scans, code.verifications, code.verified_at) == (0, 0, None)
    assert await CodeScan.all().count() == 0 and await balance(member) == 0
    person = await scan_as(rt, url, member_id=member)
    assert person.verdict == Verdict.GENUINE and person.recorded and person.points_awarded


async def test_twenty_concurrent_first_scans_verify_once(rt: Runtime) -> None:
    _, url, serial = await one_code(rt)
    members = [await new_member() for _ in range(20)]
    results = await asyncio.gather(*(
        scan_as(rt, url, member_id=m, client=f"10.3.0.{i}") for i, m in enumerate(members)))
    assert Counter(r.verdict for r in results) == {Verdict.GENUINE: 1,
                                                    Verdict.ALREADY_VERIFIED: 19}
    winner = next(m for m, r in zip(members, results, strict=True)
                  if r.verdict == Verdict.GENUINE)
    code = await stored(serial)
    assert (code.verifications, code.scans, code.verified_member_id) == (20, 20, winner)
    entries = await PointsEntry.filter(key=f"scan:{serial}")
    assert [e.member_id for e in entries] == [winner]
    assert sum(r.points_awarded for r in results) == rt.settings.points.scan_first_verification
    assert await CodeScan.filter(serial=serial, verdict="genuine").count() == 1
    await assert_ledger_consistent()


async def test_concurrent_anonymous_scans_of_many_codes_verify_each_once(rt: Runtime) -> None:
    """Scans without a member are looked up and recorded in groups (PostgreSQL): a group
    holding several scans of one code still makes exactly one of them its first
    verification, and every scan is one row, counted on its code."""
    batch = await new_batch()
    serials = [row["serial"] for row in await make_codes(batch, 5, rt.settings)]
    urls = [code_uri(rt.settings.trace.base_url, CodeRef(GTIN, "L2025A", s)) for s in serials]
    asks = [urls[i % 5] for i in range(60)]
    results = await asyncio.gather(*(
        scan_as(rt, url, client=f"10.4.0.{i}", city=f"城市{i % 2}")
        for i, url in enumerate(asks)))
    for url, serial in zip(urls, serials, strict=True):
        verdicts = Counter(r.verdict for r, ask in zip(results, asks, strict=True) if ask == url)
        assert verdicts == {Verdict.GENUINE: 1, Verdict.ALREADY_VERIFIED: 11}, verdicts
        code = await stored(serial)
        assert (code.scans, code.verifications, code.verified_member_id) == (12, 12, None)
        rows = Counter(s.verdict for s in await CodeScan.filter(serial=serial))
        assert rows == {"genuine": 1, "already_verified": 11}
    assert sorted(r.code.scans for r in results if r.code) == sorted(
        n for _ in range(5) for n in range(1, 13))


async def test_scratch_pin_verifies_and_wrong_pins_lock_the_code(rt: Runtime) -> None:
    batch = await new_batch("PIN-1", pin_required=True)
    rows = await make_codes(batch, 2, rt.settings)
    (url, serial), (locked_url, locked_serial) = ((r["url"], r["serial"]) for r in rows)
    member = await new_member()
    bare = await scan_as(rt, url, member_id=member)
    assert (bare.verdict, bare.pin_required, bare.points_awarded) == (Verdict.GENUINE, True, 0)
    assert scan_json(bare, rt.settings.trace)["pin_required"] is True
    with pytest.raises(WrongPin) as wrong:
        await scan_as(rt, url, member_id=member, pin="00000000")
    assert wrong.value.attempts_left == rt.settings.trace.pin_max_attempts - 1
    code = await stored(serial)
    assert (code.verified_at, code.pin_failures, code.scans) == (None, 1, 1)
    right = pin_of(rt.settings.trace.pin_key, serial)
    done = await scan_as(rt, url, member_id=member, pin=f" {right[:4]} {right[4:]} ")
    assert (done.verdict, done.pin_required, done.points_awarded) == (Verdict.GENUINE, False, 10)
    assert (await stored(serial)).verified_member_id == member

    left = [rt.settings.trace.pin_max_attempts - n for n in range(1, 6)]
    for expected in left:
        with pytest.raises(WrongPin) as wrong:
            await scan_as(rt, locked_url, pin="１２３")  # any text, full-width digits too
        assert wrong.value.attempts_left == expected
    assert (await stored(locked_serial)).locked_at == NOW
    right = pin_of(rt.settings.trace.pin_key, locked_serial)
    for pin in (None, right):
        locked = await scan_as(rt, locked_url, pin=pin, member_id=member)
        assert (locked.verdict, locked.reasons, locked.pin_required) == (
            Verdict.SUSPICIOUS, (LOCKED,), False)
    code = await stored(locked_serial)
    assert (code.verified_at, code.pin_failures) == (None, 5)
    assert await balance(member) == 10


async def test_points_once_per_code_to_its_first_verifier(rt: Runtime) -> None:
    batch, url, serial = await one_code(rt)
    other = (await make_codes(batch, 1, rt.settings))[0]
    first, second = await new_member(), await new_member()
    assert (await scan_as(rt, url, member_id=first)).points_awarded == 10
    assert (await scan_as(rt, url, member_id=second)).points_awarded == 0
    assert (await scan_as(rt, url, member_id=first)).points_awarded == 0
    # A code first verified anonymously earns no one anything later.
    assert (await scan_as(rt, other["url"])).verdict == Verdict.GENUINE
    assert (await scan_as(rt, other["url"], member_id=second)).points_awarded == 0
    assert (await balance(first), await balance(second)) == (10, 0)
    assert await PointsEntry.filter(key=f"scan:{serial}").count() == 1
    await assert_ledger_consistent()
