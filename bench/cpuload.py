"""Who used the CPU during a benchmark phase (Linux /proc; empty elsewhere).

The benchmark shares a 2-core machine with whatever else runs there; a busy neighbour
(a test suite, a build) takes cycles from the servers and the load generator and makes
the figures noisy. `CpuWatch` splits the CPU time of a phase into the benchmark's own
process tree (servers, workers, wrk, the generator), the database and Redis, and
everything else, so a run on a busy machine says so.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass

SERVICES = {"postgres", "redis-server"}
# Other processes using this much (cores) during a phase make the figures noisy.
NOISY_CORES = 0.15


def _processes() -> dict[int, tuple[str, int, int]]:
    """pid → (command name, parent pid, user+system ticks)."""
    found: dict[int, tuple[str, int, int]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return found
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                raw = f.read().decode(errors="replace")
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        found[int(name)] = (comm, int(fields[1]), int(fields[11]) + int(fields[12]))
    return found


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """name → CPU seconds (user + system) used so far by each named process."""
    hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    found = _processes()
    return {name: found[pid][2] / hz for name, pid in pids.items() if pid in found}


@dataclass
class CpuShare:
    seconds: float
    bench: float  # cores' worth (1.0 = one core busy the whole phase)
    services: float
    others: float
    top_other: str

    def describe(self) -> str:
        text = (f"CPU: benchmark {self.bench:.2f} cores, PostgreSQL+Redis {self.services:.2f}, "
                f"other processes {self.others:.2f}")
        if self.top_other:
            text += f" (mostly {self.top_other})"
        return text


class CpuWatch:
    def __init__(self) -> None:
        self._root = os.getpid()
        self._start = _processes()
        self._t0 = time.monotonic()

    def stop(self) -> CpuShare:
        end = _processes()
        seconds = max(1e-6, time.monotonic() - self._t0)
        hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

        def ours(pid: int) -> bool:
            seen = 0
            while pid > 1 and seen < 64:
                if pid == self._root:
                    return True
                entry = end.get(pid) or self._start.get(pid)
                if entry is None:
                    return False
                pid, seen = entry[1], seen + 1
            return False

        bench = services = others = 0.0
        by_name: dict[str, float] = {}
        for pid, (comm, ppid, ticks) in end.items():
            if pid == 2 or ppid == 2:  # kernel threads
                continue
            used = (ticks - self._start.get(pid, (comm, ppid, 0))[2]) / hz
            if used <= 0:
                continue
            if ours(pid):
                bench += used
            elif comm in SERVICES:
                services += used
            else:
                others += used
                by_name[comm] = by_name.get(comm, 0.0) + used
        top = max(by_name.items(), key=lambda kv: kv[1])[0] if by_name else ""
        return CpuShare(seconds, bench / seconds, services / seconds, others / seconds,
                        top if others / seconds >= 0.05 else "")


def noisy_note(shares: Iterable[CpuShare | None]) -> list[str]:
    """Report lines saying that other processes took a noticeable share of the CPU in
    some phase (none when the machine was quiet enough)."""
    busiest = max((s for s in shares if s is not None), key=lambda s: s.others, default=None)
    if busiest is None or busiest.others < NOISY_CORES:
        return []
    return ["", f"Other processes used up to {busiest.others:.2f} cores during a phase "
                f"({busiest.top_other or 'several'}): the figures are lower and noisier than "
                "on a quiet machine."]
