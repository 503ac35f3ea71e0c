"""The sandbox clock: an injectable base clock plus an offset the console can advance.

Tokens and welcome codes expire by this clock, so tests move time forward
(`POST /sandbox/clock/advance`) instead of sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class SandboxClock:
    """`now()` = base clock + offset; `advance` only ever moves time forward."""

    def __init__(self, base: Callable[[], float] | None = None) -> None:
        self._base = base or time.time
        self.offset = 0.0

    def now(self) -> float:
        return self._base() + self.offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the sandbox clock does not go backwards")
        self.offset += seconds

    def reset(self) -> None:
        self.offset = 0.0
