"""Load generators for the benchmarks (bench/callback_ingest.py, bench/onboarding.py,
bench/member_api.py).

- `run_wrk`: closed loop with wrk (Debian package `wrk`) and bench/wrk_requests.lua,
  which sends a prepared list of requests (`write_request_file`) in turn; the fastest
  way to saturate a server from the same 2-core box.
- `closed_loop`: the same in Python (aiohttp client), used when wrk is not installed.
  It needs a core of its own, so it understates the fast servers.
- a fixed arrival rate: bench/open_loop.py.
- `send_all`: send a fixed list of requests over N connections (the burst).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import aiohttp

XML = {"Content-Type": "text/xml"}
JSON = {"Content-Type": "application/json"}
HERE = os.path.dirname(os.path.abspath(__file__))
WRK_SCRIPT = os.path.join(HERE, "wrk_requests.lua")


class Request(NamedTuple):
    """One HTTP request of a prepared load: a WeCom callback by default (POST, XML)."""

    target: str  # path and query
    body: bytes = b""
    method: str = "POST"
    headers: Mapping[str, str] = XML


def write_request_file(path: str, requests: Sequence[Request]) -> None:
    """One request per line for bench/wrk_requests.lua:
    `METHOD<TAB>target<TAB>body[<TAB>Name: value ...]`."""
    with open(path, "wb") as out:
        for r in requests:
            fields = [r.method, r.target, r.body.decode(),
                      *(f"{name}: {value}" for name, value in r.headers.items())]
            if any("\t" in f or "\n" in f for f in fields):
                raise ValueError(f"a tab or newline in a request for wrk: {r.target}")
            out.write("\t".join(fields).encode() + b"\n")


@dataclass
class LoadResult:
    tool: str
    requests: int
    seconds: float
    ok: int
    errors: int
    wraps: int = 0
    p50_ms: float | None = None
    p99_ms: float | None = None
    statuses: Counter[int] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def answered_rate(self) -> float:
        """Answers of any status per second."""
        return (self.requests - self.statuses[-1]) / self.seconds if self.seconds else 0.0


def fmt_rate(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def fmt_ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(base_url: str, request_file: str, *, connections: int, duration: float,
            threads: int = 2, count_statuses: bool = False) -> LoadResult:
    """`count_statuses`: tally every answer's status (wrk then hands each response to
    Lua, which costs it some speed); otherwise only non-2xx/3xx answers are counted."""
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(duration))}s",
           "--timeout", "10s", "-s", WRK_SCRIPT, base_url, "--", request_file, str(threads)]
    env = {**os.environ, "WRK_COUNT_STATUSES": "1" if count_statuses else ""}
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 120, env=env)
    line = next((x for x in out.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if out.returncode != 0 or line is None:
        detail = out.stderr.strip() or out.stdout[-500:]
        raise RuntimeError(f"wrk failed ({out.returncode}): {detail}")
    data = json.loads(line.removeprefix("WRK_JSON "))
    errors = sum(data[k] for k in ("connect_errors", "read_errors", "write_errors",
                                   "status_errors", "timeouts"))
    return LoadResult(
        tool="wrk", requests=data["requests"], seconds=data["duration_us"] / 1e6,
        ok=data["requests"] - data["status_errors"], errors=errors, wraps=data["wraps"],
        p50_ms=data["p50_us"] / 1000, p99_ms=data["p99_us"] / 1000,
        statuses=Counter({int(k): v for k, v in data["statuses"].items()}),
    )


def percentile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


async def _send(session: aiohttp.ClientSession, base_url: str, request: Request) -> int:
    try:
        async with session.request(request.method, base_url + request.target,
                                   data=request.body or None,
                                   headers=request.headers) as response:
            await response.read()
            return response.status
    except (aiohttp.ClientError, TimeoutError, OSError):
        return -1


def _session(connections: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections),
        timeout=aiohttp.ClientTimeout(total=30),
    )


async def closed_loop(base_url: str, requests: Sequence[Request], *, connections: int,
                      duration: float) -> LoadResult:
    """`connections` clients, each sending its next request when the last one is answered,
    for `duration` seconds (wrapping around the request list if it runs out)."""
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    wraps = 0
    next_index = 0
    async with _session(connections) as session:
        start = time.perf_counter()
        deadline = start + duration

        async def client() -> None:
            nonlocal next_index, wraps
            while time.perf_counter() < deadline:
                if next_index >= len(requests):
                    next_index, wraps = 0, wraps + 1
                request = requests[next_index]
                next_index += 1
                sent = time.perf_counter()
                statuses[await _send(session, base_url, request)] += 1
                latencies.append(time.perf_counter() - sent)

        await asyncio.gather(*(client() for _ in range(connections)))
        seconds = time.perf_counter() - start
    latencies.sort()
    ok = statuses[200]
    return LoadResult("python", sum(statuses.values()), seconds, ok,
                      sum(statuses.values()) - ok, wraps,
                      percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000,
                      statuses)


async def send_all(base_url: str, requests: Sequence[Request], *,
                   connections: int) -> LoadResult:
    """Send every request once, `connections` at a time, as fast as they are answered."""
    statuses: Counter[int] = Counter()
    iterator = iter(requests)
    async with _session(connections) as session:
        start = time.perf_counter()

        async def client() -> None:
            for request in iterator:
                statuses[await _send(session, base_url, request)] += 1

        await asyncio.gather(*(client() for _ in range(connections)))
        seconds = time.perf_counter() - start
    ok = statuses[200]
    total = sum(statuses.values())
    return LoadResult("python", total, seconds, ok, total - ok, 0, statuses=statuses)
