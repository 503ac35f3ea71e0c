"""Welcome codes: valid 20 s by the sandbox clock, single use (wecom-protocol.md §3.7).
Checked directly: send_welcome_msg, the API that redeems them, is not served yet."""

from __future__ import annotations

import pytest

from bot.sandbox.clock import SandboxClock
from bot.sandbox.errors import ApiError
from bot.sandbox.tokens import WelcomeCodes


def errcode_of(codes: WelcomeCodes, code: str, now: float) -> int:
    with pytest.raises(ApiError) as failed:
        codes.redeem(code, now)
    return failed.value.errcode


def test_welcome_code_works_once_within_twenty_seconds() -> None:
    clock, codes = SandboxClock(lambda: 1000.0), WelcomeCodes()
    code = codes.issue("zhangsan", "wmX", clock.now())
    clock.advance(19.9)
    assert codes.redeem(code, clock.now()).external_userid == "wmX"
    assert errcode_of(codes, code, clock.now()) == 41051


def test_welcome_code_expires_and_unknown_or_missing_codes_fail() -> None:
    clock, codes = SandboxClock(lambda: 1000.0), WelcomeCodes()
    code = codes.issue("zhangsan", "wmX", clock.now())
    clock.advance(20)
    assert errcode_of(codes, code, clock.now()) == 41050
    assert errcode_of(codes, "forged", clock.now()) == 41050
    assert errcode_of(codes, "", clock.now()) == 41049
