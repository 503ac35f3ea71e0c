"""Fault injection for the /cgi-bin/ API: planned errcodes and added latency.

A fault makes the next `count` calls of one API (or of any API, `"*"`) fail with an
errcode and its documented errmsg, e.g. 45009 to exercise rate-limit backoff. Latency
delays every call of an API by a number of real seconds, to exercise client timeouts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

ANY_API = "*"


@dataclass
class Fault:
    api: str
    errcode: int
    remaining: int


class FaultPlan:
    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self.latency: dict[str, float] = {}

    def add(self, api: str, errcode: int, count: int) -> None:
        """Plan `count` failures; count 0 clears the faults planned for that api."""
        if count == 0:
            self.faults = [f for f in self.faults if f.api != api]
        else:
            self.faults.append(Fault(api, errcode, count))

    def take(self, api: str) -> int | None:
        """The errcode this call of `api` must fail with, if a fault is planned."""
        for fault in self.faults:
            if fault.api in (api, ANY_API):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self.faults.remove(fault)
                return fault.errcode
        return None

    def set_latency(self, api: str, seconds: float) -> None:
        if seconds == 0:
            self.latency.pop(api, None)
        else:
            self.latency[api] = seconds

    def latency_for(self, api: str) -> float:
        return self.latency.get(api, self.latency.get(ANY_API, 0.0))

    def to_json(self) -> dict[str, Any]:
        return {"faults": [asdict(f) for f in self.faults], "latency": dict(self.latency)}
