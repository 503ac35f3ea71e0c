"""The log of every /cgi-bin/ call: which API, when (sandbox clock) and the errcode
answered. Tests and benchmarks read it to count calls, retries and failures."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Call:
    api: str
    at: float
    errcode: int


class CallLog:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._counts: Counter[str] = Counter()

    def record(self, api: str, at: float, errcode: int) -> None:
        self.calls.append(Call(api, at, errcode))
        self._counts[api] += 1

    def to_json(self, api: str | None = None) -> dict[str, Any]:
        """The calls of one API (all when `api` is None) and the per-API counts."""
        selected = [asdict(c) for c in self.calls if api is None or c.api == api]
        return {"calls": selected, "counts": dict(self._counts), "total": len(self.calls)}

    def __len__(self) -> int:
        return len(self.calls)
