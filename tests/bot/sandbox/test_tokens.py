"""Welcome codes: valid 20 s by the sandbox clock, single use (wecom-protocol.md §3.7),
checked directly; tests/bot/sandbox/test_api_welcome.py covers send_welcome_msg."""

from __future__ import annotations

import pytest

from bot.sandbox.clock import SandboxClock
from bot.sandbox.errors import ApiError
from bot.sandbox.tokens import WelcomeCodes


def errcode_of(codes: WelcomeCodes, code: str, now: float) -> int:
    with pytest.raises(ApiError) as failed:
        codes.check(code, now)
    return failed.value.errcode


def test_welcome_code_works_once_within_twenty_seconds() -> None:
    clock, codes = SandboxClock(lambda: 1000.0), WelcomeCodes()
    code = codes.issue("zhangsan", "wmX", clock.now())
    clock.advance(19.9)
    found = codes.check(code, clock.now())
    assert found.external_userid == "wmX"
    found.used = True
    assert errcode_of(codes, code, clock.now()) == 41051


def test_welcome_code_expires_and_unknown_or_missing_codes_fail() -> None:
    clock, codes = SandboxClock(lambda: 1000.0), WelcomeCodes()
    code = codes.issue("zhangsan", "wmX", clock.now())
    clock.advance(20)
    assert errcode_of(codes, code, clock.now()) == 41050
    assert errcode_of(codes, "forged", clock.now()) == 41050
    assert errcode_of(codes, "", clock.now()) == 41049


def test_expired_codes_are_dropped_as_new_ones_are_issued() -> None:
    clock, codes = SandboxClock(lambda: 1000.0), WelcomeCodes()
    old = [codes.issue("zhangsan", f"wm{n}", clock.now()) for n in range(3)]
    clock.advance(10)
    young = codes.issue("zhangsan", "wmY", clock.now())
    clock.advance(10)
    codes.issue("zhangsan", "wmZ", clock.now())
    assert len(codes) == 2
    assert errcode_of(codes, old[0], clock.now()) == 41050
    assert codes.check(young, clock.now()).external_userid == "wmY"
