"""The 安心码 verdicts and the rules that choose one, as pure functions of what was read
(the code, its batch and trace events, the cities it was scanned in lately), so each
rule can be read and tested on its own; handlers/trace_scan.py reads and records.

Exactly one verdict per scan, by precedence: not_genuine > recalled > expired >
suspicious > already_verified > genuine. There is no "probably genuine": a code either
verifies (signature, stored, its batch) or is `not_genuine`. A suspicious code names
every reason that applies (docs/anxin-code.md, "How one-item-one-code systems judge a
scan"):

- `many_cities`: scanned in trace.suspicious_cities distinct cities or more within
  trace.suspicious_window_hours, this scan included (a cloned label);
- `not_shipped`: the batch has trace events, none of them a shipping at or before now
  (a leaked overrun);
- `outside_region`: the city is known, the batch's region is not empty, and no region
  entry names the city (diversion, 窜货). "上海" and "上海市" name the same place: an
  entry matches when one contains the other;
- `locked`: too many wrong scratch PINs were entered for the code.

A not_genuine verdict's reason is `not_a_code` (the text is not a 安心码 URI at all) or
`unknown_code` (forged, tampered, of another batch, or never issued: one reason for all
of them, so an answer never tells a forger which part was wrong).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.settings import TraceSettings
from handlers.points_rules import local_day
from handlers.trace_records import CodeState
from models.trace import Batch, BatchStatus, BizStep, TraceEvent


class Verdict(StrEnum):
    GENUINE = "genuine"
    ALREADY_VERIFIED = "already_verified"
    SUSPICIOUS = "suspicious"
    RECALLED = "recalled"
    EXPIRED = "expired"
    NOT_GENUINE = "not_genuine"


# Verdicts under which a person's scan verifies the code (given its PIN if one is needed).
VERIFYING = frozenset({Verdict.GENUINE, Verdict.ALREADY_VERIFIED})

NOT_A_CODE = "not_a_code"
UNKNOWN_CODE = "unknown_code"
MANY_CITIES = "many_cities"
NOT_SHIPPED = "not_shipped"
OUTSIDE_REGION = "outside_region"
LOCKED = "locked"


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    reasons: tuple[str, ...] = ()


def place_key(city: str) -> str:
    """A city as compared: case-folded, without a trailing 市 ("上海市" is "上海")."""
    return city.strip().casefold().removesuffix("市")


def in_region(city: str, region: Sequence[str]) -> bool:
    """Whether the batch may be sold in `city`: an empty region is everywhere; otherwise
    some entry must contain the city's name or be contained in it."""
    if not region:
        return True
    here = place_key(city)
    return any(place and (place in here or here in place)
               for place in (place_key(entry) for entry in region))


def was_shipped(events: Iterable[TraceEvent], now: datetime) -> bool:
    """A batch without events is not judged; one with events needs a shipping by now."""
    listed = list(events)
    return not listed or any(e.biz_step == BizStep.SHIPPING and e.event_time <= now
                             for e in listed)


def is_expired(batch: Batch, now: datetime) -> bool:
    """Expired the day after its expiry date, by the date in Asia/Shanghai."""
    return batch.expiry_date is not None and batch.expiry_date < local_day(now)


def suspicions(code: CodeState, batch: Batch, events: Sequence[TraceEvent], *, city: str,
               recent_cities: Iterable[str], now: datetime,
               trace: TraceSettings) -> tuple[str, ...]:
    """Every reason to doubt this scan of a stored code (see the module docstring);
    `recent_cities` are those of the code's scans within the window, before this one."""
    reasons: list[str] = []
    places = {place_key(c) for c in recent_cities if c.strip()}
    if city.strip():
        places.add(place_key(city))
    if len(places) >= trace.suspicious_cities:
        reasons.append(MANY_CITIES)
    if not was_shipped(events, now):
        reasons.append(NOT_SHIPPED)
    if city.strip() and not in_region(city, batch.region):
        reasons.append(OUTSIDE_REGION)
    if code.locked_at is not None:
        reasons.append(LOCKED)
    return tuple(reasons)


def judge(code: CodeState, batch: Batch, events: Sequence[TraceEvent], *, city: str,
          recent_cities: Iterable[str], now: datetime, trace: TraceSettings) -> Judgement:
    """The verdict on a stored code of a matching batch, before this scan is recorded:
    genuine while the code was never verified, already_verified after."""
    if batch.status == BatchStatus.RECALLED:
        return Judgement(Verdict.RECALLED)
    if is_expired(batch, now):
        return Judgement(Verdict.EXPIRED)
    reasons = suspicions(code, batch, events, city=city, recent_cities=recent_cities,
                         now=now, trace=trace)
    if reasons:
        return Judgement(Verdict.SUSPICIOUS, reasons)
    if code.verified_at is not None:
        return Judgement(Verdict.ALREADY_VERIFIED)
    return Judgement(Verdict.GENUINE)


def warning_of(verdict: Verdict, verifications: int, trace: TraceSettings) -> str | None:
    """The counterfeit warning of a code verified more than trace.warn_after_verifications
    times."""
    if verdict != Verdict.ALREADY_VERIFIED or verifications <= trace.warn_after_verifications:
        return None
    return (f"此码已被验证 {verifications} 次。若您是第一次验证本商品，"
            "它可能是仿冒品，请联系品牌客服核实。")
