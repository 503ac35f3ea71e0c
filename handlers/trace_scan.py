"""A scan of a 安心码: `scan(text, …)` reads the code, judges it (handlers/trace_verdicts.py),
records it, verifies it and awards the first verifier's points. The mini-program API
(`POST /miniapp/api/trace/scan`) and the public page at the code's own URL
(bot/scan_page.py) both answer with it.

The order of work keeps forgers and enumerators away from the database:
1. a client over its limit of failed verifications (trace.failed_scans_per_minute, a
   fixed minute window counted in Redis under a keyed hash of the client address) is
   refused with `RateLimited` before anything else;
2. the text must be a GS1 Digital Link of ours (`read_code`), and the serial's HMAC
   tag must match its GTIN and lot (`check_serial`): pure computation;
3. the code's row by its serial, and its batch with the product, guide channel and
   timeline (kept per process for a few seconds), the GTIN equal and the lot equal but
   for case (a scanner may uppercase the whole URL); under load the lookups of
   concurrent scans share one statement (handlers/trace_groups.py), and the reads and
   writes are plain SQL in handlers/trace_records.py.
A failure at 2 or 3 is the verdict `not_genuine` and counts against the client; so do
wrong PINs. A failure past the limit is itself refused, so however many arrive at
once, a client learns at most the limit's worth of answers a minute.

Crawlers and link previews (`is_crawler`: a User-Agent naming a bot, spider, crawler,
preview, a chat app's link fetcher, a headless browser, curl or Wget) get the same
answer computed without recording anything: no scan, no verification, no points. Their
failures still count against their address (a User-Agent is the client's to choose).

A person's scan is recorded atomically: `scans` + 1 and a `CodeScan` row, and when the
verdict lets it verify (genuine or already_verified, the scratch PIN given when the
batch wants one), `verifications` + 1; the first verification's time, city and member
are set only while `verified_at` is NULL, so of any number of concurrent first scans
exactly one is `genuine`. A member's scan is recorded in a transaction of its own with
the first verifier's points (`award_scan`, ledger key `scan:<serial>`); scans without
a member are recorded together, one statement for many (PostgreSQL).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from redis.asyncio import Redis

from bot.settings import Settings, TraceSettings
from handlers.ledger import UnknownMember
from handlers.member_cache import announcing_transaction
from handlers.points_rules import award_scan
from handlers.trace_codes import pin_of
from handlers.trace_groups import Found, Record, find, record
from handlers.trace_links import BadLink, read_code
from handlers.trace_records import (
    BatchFacts,
    CodeState,
    cities_since,
    count_pin_failure,
    count_scan,
    insert_scan,
)
from handlers.trace_serials import ForgedSerial, check_serial
from handlers.trace_verdicts import (
    NOT_A_CODE,
    UNKNOWN_CODE,
    VERIFYING,
    Verdict,
    judge,
    warning_of,
)
from models.trace import Batch

log = logging.getLogger("scrm.trace")

WINDOW_SECONDS = 60
MAX_CITY_CHARS = 64
CLIENT_HASH_CHARS = 16
# Word-final "bot"/"Bot" after a letter (Googlebot, Slackbot, TelegramBot, YandexBot),
# case-sensitive so a phone model such as "CUBOT" is not taken for one.
_CRAWLER = re.compile(
    r"[A-Za-z](?:bot|Bot)\b|[Ss]pider|[Cc]rawl|[Pp]review|facebookexternalhit|WhatsApp"
    r"|HeadlessChrome|^curl/|^Wget/")


class RateLimited(Exception):
    """The client made trace.failed_scans_per_minute failed verifications this minute;
    `retry_after` is the seconds until its window ends."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed verifications; retry in {retry_after} s")
        self.retry_after = retry_after


class WrongPin(Exception):
    """The scratch PIN does not match; `attempts_left` before the code locks (0: locked)."""

    def __init__(self, attempts_left: int) -> None:
        super().__init__(f"wrong PIN; {attempts_left} attempts left")
        self.attempts_left = attempts_left


@dataclass(frozen=True)
class ScanResult:
    """The answer to a scan. `code` is as stored after this scan; `code` and `facts`
    (the batch with its product, trace events and guide) are None for `not_genuine`."""

    verdict: Verdict
    reasons: tuple[str, ...] = ()
    warning: str | None = None
    pin_required: bool = False
    points_awarded: int = 0
    recorded: bool = False
    code: CodeState | None = None
    facts: BatchFacts | None = None

    @property
    def batch(self) -> Batch | None:
        return self.facts.batch if self.facts is not None else None


def is_crawler(user_agent: str) -> bool:
    return bool(_CRAWLER.search(user_agent))


def client_key(trace: TraceSettings, address: str) -> str:
    """The keyed hash a client address is known by (rate limits, `CodeScan.client`)."""
    return _client_key(trace.pin_key, address)


@lru_cache(maxsize=65536)
def _client_key(key: str, address: str) -> str:
    digest = hmac.new(key.encode(), f"client|{address}".encode(), hashlib.sha256)
    return digest.hexdigest()[:CLIENT_HASH_CHARS]


def clean_city(city: str) -> str:
    """A city as stored: trimmed, at most MAX_CITY_CHARS, and valid UTF-8 (a header may
    carry bytes that are not)."""
    return city.strip()[:MAX_CITY_CHARS].encode("utf-8", "ignore").decode("utf-8").strip()


# Per Redis (one per app): the minute keys of clients this process saw use up their
# minute, with when that minute's key expires (by `time.monotonic`).
_limited: weakref.WeakKeyDictionary[Redis, dict[str, float]] = weakref.WeakKeyDictionary()


class FailureLimit:
    """A client's failed verifications in the current minute, counted in Redis (every
    process shares the count: each failure past the limit is refused wherever it
    lands). A process that refused a client remembers it for the minute and refuses
    its every scan before any work; a genuine scan asks Redis nothing."""

    def __init__(self, redis: Redis, client: str, now: datetime, limit: int) -> None:
        seconds = int(now.timestamp())
        self.key = f"scrm:trace:failed:{client}:{seconds // WINDOW_SECONDS}"
        self.limit = limit
        self.retry_after = WINDOW_SECONDS - seconds % WINDOW_SECONDS
        self.redis = redis

    def check(self) -> None:
        """Refuse a client this process saw use up its minute."""
        limited = _limited.get(self.redis)
        until = limited.get(self.key) if limited else None
        if until is not None and until > time.monotonic():
            raise RateLimited(self.retry_after)

    async def count(self) -> None:
        """Count a failure; refuse it when it is over the limit (concurrent failures
        that all passed `check`)."""
        count = await self.redis.incr(self.key)
        if count == 1:
            # Not atomic with the INCR, and need not be: the key names its minute, so a
            # counter left without its expiry by a crash is never read again.
            await self.redis.expire(self.key, WINDOW_SECONDS * 2)
        if int(count) >= self.limit:
            limited = _limited.setdefault(self.redis, {})
            now = time.monotonic()
            for key in [k for k, until in limited.items() if until <= now]:
                del limited[key]
            limited[self.key] = now + 2 * WINDOW_SECONDS
        if int(count) > self.limit:
            raise RateLimited(self.retry_after)


async def scan(text: str, *, member_id: int | None, city: str, client: str, user_agent: str,
               pin: str | None, settings: Settings, redis: Redis, now: datetime) -> ScanResult:
    """Judge the code `text` names and record this scan (see the module docstring).
    Raises RateLimited (the client's failures are used up) and WrongPin."""
    trace = settings.trace
    who = client_key(trace, client)
    limit = FailureLimit(redis, who, now, trace.failed_scans_per_minute)
    limit.check()
    person, city = not is_crawler(user_agent), clean_city(city)
    found = await _find(text, trace)
    if isinstance(found, str):
        await limit.count()
        log.info("trace.scan_refused reason=%s client=%s crawler=%s", found, who, not person)
        return ScanResult(Verdict.NOT_GENUINE, (found,))
    code, batch, events = found.code, found.facts.batch, found.facts.events
    # Only a code scanned often enough before can reach the cities threshold now.
    recent = (await cities_since(code.serial, now - timedelta(
        hours=trace.suspicious_window_hours))
        if code.scans + (1 if city else 0) >= trace.suspicious_cities else [])
    judgement = judge(code, batch, events, city=city, recent_cities=recent, now=now,
                      trace=trace)
    verdict, verifies = judgement.verdict, judgement.verdict in VERIFYING
    pin_required = verifies and batch.pin_required
    if pin_required and person and pin is not None:
        if not _right_pin(trace, code.serial, pin):
            await _pin_failed(code.serial, trace, limit, now)
        pin_required = False
    points = 0
    if person:
        code, verdict, points = await _record(
            code, verdict, verify=verifies and not pin_required, city=city,
            member_id=member_id, client=who, settings=settings, now=now)
    # A recorded scan is its `code_scan` row; the log line is for debugging (-v).
    log.debug("trace.scan serial=%s verdict=%s recorded=%s member=%s client=%s", code.serial,
             verdict.value, person, member_id, who)
    return ScanResult(verdict, judgement.reasons, warning_of(verdict, code.verifications, trace),
                      pin_required, points, person, code, found.facts)


async def _find(text: str, trace: TraceSettings) -> Found | str:
    """The stored code `text` names; else the not_genuine reason. The signature is
    checked before the database is read."""
    try:
        ref = read_code(text)
        serial = check_serial(trace.code_keys, ref.gtin, ref.lot, ref.serial)
    except BadLink:
        return NOT_A_CODE
    except ForgedSerial:
        return UNKNOWN_CODE
    return await find(serial, ref.gtin, ref.lot) or UNKNOWN_CODE


def _right_pin(trace: TraceSettings, serial: str, pin: str) -> bool:
    given = "".join(pin.split()).encode("utf-8", "replace")
    return hmac.compare_digest(given, pin_of(trace.pin_key, serial).encode())


async def _pin_failed(serial: str, trace: TraceSettings, limit: FailureLimit,
                      now: datetime) -> None:
    """Count a wrong PIN on the code (locking it at trace.pin_max_attempts) and against
    the client; raises WrongPin."""
    failures = await count_pin_failure(serial, trace.pin_max_attempts, now)
    log.info("trace.wrong_pin serial=%s failures=%s", serial, failures)
    await limit.count()
    raise WrongPin(max(0, trace.pin_max_attempts - failures))


async def _record(code: CodeState, verdict: Verdict, *, verify: bool, city: str,
                  member_id: int | None, client: str, settings: Settings,
                  now: datetime) -> tuple[CodeState, Verdict, int]:
    """Record a person's scan (verifying the code when `verify`, and awarding the first
    verifier's points): the code as stored after it, the verdict (genuine only for the
    first verification) and the points awarded. Without a member on PostgreSQL, with
    other scans in one statement; else in a transaction of its own."""
    if member_id is None and not settings.database.is_sqlite:
        stored, first = await record(Record(code, verify, city, verdict.value, client, now))
        if verify:
            verdict = Verdict.GENUINE if first else Verdict.ALREADY_VERIFIED
        return stored, verdict, 0
    points = 0
    async with announcing_transaction() as conn:
        stored, first = await count_scan(conn, code, verify=verify, city=city,
                                         member_id=member_id, now=now)
        if verify:
            verdict = Verdict.GENUINE if first else Verdict.ALREADY_VERIFIED
        await insert_scan(conn, code.serial, now=now, city=city, member_id=member_id,
                          verdict=verdict.value, client=client)
        if first and member_id is not None:
            points = await _award(member_id, code.serial, settings, now)
    return stored, verdict, points


async def _award(member_id: int, serial: str, settings: Settings, now: datetime) -> int:
    """The first verifier's points (0 when the key was used before, or the member can no
    longer earn: erased or merged since their session was read)."""
    try:
        awarded = await award_scan(member_id, serial, settings, now)
    except UnknownMember:
        log.info("trace.scan_points_skipped member=%s serial=%s", member_id, serial)
        return 0
    return settings.points.scan_first_verification if awarded else 0
