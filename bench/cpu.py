"""CPU time during a measurement: per process (/proc/<pid>/stat) and for the whole machine
(/proc/stat), so a missed target can say where the time went in the same run.

The machine's busy time covers what no process of ours accounts for: the PostgreSQL server's
backends, the kernel's network and disk work, and anything else running on the machine (which
is why a run also records the load average)."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

TICKS = os.sysconf("SC_CLK_TCK")


def process_seconds(pid: int) -> float:
    """User + system CPU seconds a running process has used so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def machine_seconds() -> tuple[float, float]:
    """(busy, all) CPU seconds of every core since boot: busy is all but idle and I/O wait."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICKS, sum(values) / TICKS


def children_seconds() -> float:
    """User + system CPU seconds of this process's finished (waited-for) children."""
    times = os.times()
    return times.children_user + times.children_system


@dataclass
class CpuUsage:
    """CPU seconds used while a measurement ran: by each named process, and by the machine."""

    processes: dict[str, float] = field(default_factory=dict)
    machine_busy: float = 0.0
    machine_all: float = 0.0
    cores: int = os.cpu_count() or 1
    restart: Callable[[], None] = field(default=lambda: None, repr=False, compare=False)
    """Start counting again from now (e.g. once a load's warm-up is over: `drive(on_start=)`)."""

    @property
    def busy_share(self) -> float:
        """How busy the machine's cores were (0..1; the two sums are read as floats, so a fully
        busy machine may come out a hair above 1)."""
        return min(1.0, self.machine_busy / self.machine_all) if self.machine_all else 0.0

    def per(self, work: int) -> dict[str, float]:
        """Milliseconds of CPU per unit of work (a command, an event): each process, the rest
        of the machine (`other`: the database server, the kernel, other programs) and `all`."""
        if work <= 0:
            return {}
        ours = sum(self.processes.values())
        shares = {name: seconds * 1000 / work for name, seconds in self.processes.items()}
        shares["other"] = max(0.0, self.machine_busy - ours) * 1000 / work
        shares["all"] = max(self.machine_busy, ours) * 1000 / work
        return shares

    def summary(self, work: int) -> dict[str, float]:
        return {"busy_share": round(self.busy_share, 3), "cores": self.cores,
                **{f"{name}_ms_per_unit": round(ms, 3) for name, ms in self.per(work).items()}}


@contextmanager
def measured(pids: dict[str, int | None], children: str | None = None) -> Iterator[CpuUsage]:
    """Measure the CPU the named running processes (and, as `children`, the child processes
    this one waits for meanwhile) and the whole machine use inside the block."""
    usage = CpuUsage()
    running = {name: pid for name, pid in pids.items() if pid is not None}
    before: dict[str, float] = {}
    marks: dict[str, Any] = {}

    def mark() -> None:
        before.update({name: process_seconds(pid) for name, pid in running.items()})
        marks.update(children=children_seconds(), machine=machine_seconds())

    mark()
    usage.restart = mark
    try:
        yield usage
    finally:
        for name, pid in running.items():
            try:
                usage.processes[name] = process_seconds(pid) - before[name]
            except OSError:  # the process ended inside the block: its time is unknown
                pass
        if children is not None:
            usage.processes[children] = children_seconds() - marks["children"]
        busy_after, every_after = machine_seconds()
        busy, every = marks["machine"]
        usage.machine_busy, usage.machine_all = busy_after - busy, every_after - every


def wait_until_idle(pid: int, share: float = 0.05, timeout: float = 1800.0, interval: float = 1.0) -> float:
    """Wait until a process uses less than `share` of a core over `interval` seconds (e.g. a
    projector that has finished replaying the store on start); the seconds waited."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        before = process_seconds(pid)
        time.sleep(interval)
        if process_seconds(pid) - before < share * interval:
            break
    return time.monotonic() - began
