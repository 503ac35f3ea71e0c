"""The fixed-rate (open-loop) load generator: request i is sent at start + i/rate
whatever happened to the earlier ones, and its latency is measured from that scheduled
time, so a stalled server is charged for every request queued behind the stall (no
coordinated omission).

It speaks HTTP/1.1 over plain asyncio connections with the requests encoded
beforehand: an aiohttp client spends a few hundred µs of CPU per request, which on a
2-core box sharing the load generator with the server under test was enough to
saturate the machine at 2,000 requests/s and measure the generator's own queue.
Here a request costs the generator one write and one parse of the answer's head.
Each connection carries one request at a time (no pipelining); a request due while
every connection is busy opens another, up to `connections`, then waits (its wait
counts in its latency). The garbage collector is off while it runs: its pauses in the
generator would count as the server's latency.
"""

from __future__ import annotations

import asyncio
import gc
from collections import Counter, deque
from collections.abc import Sequence
from urllib.parse import urlsplit

from bench.loadgen import LoadResult, Request, percentile

FAILED = -1
ANSWER_TIMEOUT_SECONDS = 30.0  # after the last send; then what is unanswered failed


def encode(host: str, request: Request) -> bytes:
    head = [f"{request.method} {request.target} HTTP/1.1", f"Host: {host}"]
    head += [f"{name}: {value}" for name, value in request.headers.items()]
    if request.body or request.method != "GET":
        head.append(f"Content-Length: {len(request.body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + request.body


class _Connection(asyncio.Protocol):
    """One keep-alive connection; it tells its generator when an answer is complete,
    and when it closed."""

    def __init__(self, generator: _Generator) -> None:
        self.generator = generator
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def send(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).split(b"\r\n")
        length = next((int(line.split(b":", 1)[1]) for line in head[1:]
                       if line[:15].lower() == b"content-length:"), None)
        if length is None:  # chunked or close-delimited: not what our servers answer
            self.generator.answered(self, FAILED)
            return
        if len(self.buffer) < end + 4 + length:
            return
        status = int(head[0].split(b" ", 2)[1])
        del self.buffer[:end + 4 + length]
        self.generator.answered(self, status)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.generator.lost(self)


class _Generator:
    def __init__(self, base_url: str, requests: Sequence[Request], rate: float,
                 connections: int) -> None:
        parts = urlsplit(base_url)
        self.address = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.payloads = [encode(parts.netloc, r) for r in requests]
        self.rate = rate
        self.limit = connections
        self.loop = asyncio.get_running_loop()
        self.idle: list[_Connection] = []
        self.opened = 0
        self.waiting: deque[int] = deque()  # due, no connection free yet
        self.in_flight: dict[_Connection, int] = {}
        self.latencies = [0.0] * len(requests)
        self.statuses = [0] * len(requests)
        self.start = 0.0
        self.left = len(requests)
        self.finished = self.loop.create_future()

    def scheduled(self, i: int) -> float:
        return self.start + i / self.rate

    def done(self, i: int, status: int) -> None:
        self.latencies[i] = self.loop.time() - self.scheduled(i)
        self.statuses[i] = status
        self.left -= 1
        if self.left == 0 and not self.finished.done():
            self.finished.set_result(None)

    def answered(self, conn: _Connection, status: int) -> None:
        self.done(self.in_flight.pop(conn), status)
        if not conn.closed:
            self.idle.append(conn)
        if self.waiting:
            self.dispatch(self.waiting.popleft())

    def lost(self, conn: _Connection) -> None:
        """A connection closed: its place may be opened again, and a request it carried
        failed."""
        self.opened -= 1
        if conn in self.in_flight:
            self.done(self.in_flight.pop(conn), FAILED)
        if self.waiting:
            self.dispatch(self.waiting.popleft())

    def dispatch(self, i: int) -> None:
        while self.idle:
            conn = self.idle.pop()
            if not conn.closed:
                self.in_flight[conn] = i
                conn.send(self.payloads[i])
                return
        if self.opened < self.limit:
            self.opened += 1
            self.loop.create_task(self.open_and_send(i))
        else:
            self.waiting.append(i)

    async def open_and_send(self, i: int) -> None:
        try:
            _, conn = await self.loop.create_connection(lambda: _Connection(self),
                                                        *self.address)
        except OSError:
            self.opened -= 1
            self.done(i, FAILED)
            return
        self.in_flight[conn] = i
        conn.send(self.payloads[i])

    async def run(self) -> float:
        self.start = self.loop.time() + 0.05
        n = len(self.payloads)
        i = 0
        while i < n:
            now = self.loop.time()
            while i < n and self.scheduled(i) <= now:
                self.dispatch(i)
                i += 1
            if i < n:
                await asyncio.sleep(max(0.0, self.scheduled(i) - self.loop.time()))
        if n:
            try:
                await asyncio.wait_for(asyncio.shield(self.finished), ANSWER_TIMEOUT_SECONDS)
            except TimeoutError:
                for j in [*self.in_flight.values(), *self.waiting]:
                    self.statuses[j] = FAILED
                    self.latencies[j] = self.loop.time() - self.scheduled(j)
        connections = [*self.idle, *self.in_flight]
        self.waiting.clear()  # what is left was counted failed: closing sends nothing
        self.in_flight.clear()
        for conn in connections:
            if conn.transport is not None:
                conn.transport.close()
        return self.loop.time() - self.start


async def open_loop(base_url: str, requests: Sequence[Request], *, rate: float,
                    warmup: int = 0, connections: int = 512) -> LoadResult:
    """Send `requests` at `rate` per second (see the module docstring); the first
    `warmup` (opening connections) are sent but not counted."""
    generator = _Generator(base_url, requests, rate, connections)
    # The instrument's own collector pauses would be charged to the server under test.
    gc.collect()
    gc.disable()
    try:
        seconds = await generator.run()
    finally:
        gc.enable()
    counted = sorted(generator.latencies[warmup:])
    statuses = Counter(generator.statuses[warmup:])
    ok = statuses[200]
    total = len(requests) - warmup
    return LoadResult("python-open-loop", total, seconds, ok, total - ok, 0,
                      percentile(counted, 50) * 1000, percentile(counted, 99) * 1000,
                      statuses)
