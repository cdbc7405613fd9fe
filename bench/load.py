"""Driving work from N concurrent clients and summarising its latencies.

A client does one step at a time (one HTTP request, or one load-and-save of the raw library);
each step is timed with `time.perf_counter`. All clients start together after their warm-up
and stop at the deadline (or after a number of steps); throughput is the successful steps
over the wall time from the common start until the last client stops.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence


class Client(Protocol):
    def step(self) -> None:
        """Do one unit of work; raise when it failed."""

    def close(self) -> None: ...


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank percentile (p in 0..100) of the values; NaN for none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Load:
    """What a load produced: every successful step's latency (seconds), the failures and the wall time."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    timeouts: int = 0
    """Steps that timed out: counted as failures, and kept among the latencies at the time
    they were given up (so the percentiles are lower bounds, never flattered)."""
    first_error: str | None = None
    wall: float = 0.0
    skipped: int = 0
    """Steps not run: after `timed` gave up on a read that kept timing out."""

    @property
    def count(self) -> int:
        """Steps done (timed-out ones included: they are among the latencies)."""
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        return self.count / self.wall if self.wall else math.nan

    def p(self, q: float) -> float:
        return percentile(self.latencies, q)

    def summary(self) -> dict[str, Any]:
        return {"count": self.count, "errors": self.errors, "timeouts": self.timeouts,
                "skipped": self.skipped, "first_error": self.first_error,
                "wall_s": round(self.wall, 4), "throughput_per_s": round(self.throughput, 2),
                "p50_ms": round(self.p(50) * 1000, 3), "p95_ms": round(self.p(95) * 1000, 3),
                "p99_ms": round(self.p(99) * 1000, 3), "max_ms": round(max(self.latencies, default=math.nan) * 1000, 3)}


def drive(clients: Sequence[Client], seconds: float | None = None, steps: int | None = None,
          warmup: int = 0, on_start: Callable[[], None] | None = None) -> Load:
    """Run every client in a thread of its own until `seconds` have passed (or each has done
    `steps` steps); `warmup` steps per client first, not counted; `on_start` is called once
    every client has warmed up, as the counted steps begin."""
    if seconds is None and steps is None:
        raise ValueError("give seconds or steps")
    barrier = threading.Barrier(len(clients) + 1, action=on_start)  # run before any is released
    loads = [Load() for _ in clients]
    ends = [0.0 for _ in clients]
    start = [0.0]

    def run(i: int, client: Client) -> None:
        load = loads[i]
        try:
            for _ in range(warmup):
                client.step()
        except Exception as error:  # noqa: BLE001 - a client that cannot even warm up does nothing more
            load.errors += 1
            load.first_error = f"warm-up: {type(error).__name__}: {error}"[:500]
            barrier.wait()
            ends[i] = time.perf_counter()
            return
        barrier.wait()
        deadline = time.perf_counter() + seconds if seconds is not None else math.inf
        done = 0
        while time.perf_counter() < deadline and (steps is None or done < steps):
            began = time.perf_counter()
            try:
                client.step()
            except Exception as error:  # noqa: BLE001 - a failed step is counted and reported, not fatal
                load.errors += 1
                load.first_error = load.first_error or f"{type(error).__name__}: {error}"[:500]
            else:
                load.latencies.append(time.perf_counter() - began)
            done += 1
        ends[i] = time.perf_counter()

    threads = [threading.Thread(target=run, args=(i, c), daemon=True) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start[0] = time.perf_counter()
    for thread in threads:
        thread.join()
    for client in clients:
        client.close()
    total = Load(wall=max(ends) - start[0])
    for load in loads:
        total.latencies += load.latencies
        total.errors += load.errors
        total.first_error = total.first_error or load.first_error
    return total


def timed(steps: int, step: Callable[[int], None], timeout: type[Exception] = TimeoutError,
          give_up_after: int = 3) -> Load:
    """One client doing `steps` steps in a row (the read benchmarks); a step that raises
    `timeout` is counted as failed and kept at the time it took. After `give_up_after`
    timeouts the remaining steps are skipped (counted): a read that slow has shown it, and
    the server goes on computing each abandoned request, which would slow every later one."""
    load = Load()
    began = time.perf_counter()
    for i in range(steps):
        if load.timeouts >= give_up_after:
            load.skipped = steps - i
            break
        t0 = time.perf_counter()
        try:
            step(i)
        except Exception as error:  # noqa: BLE001 - counted and reported
            load.errors += 1
            load.first_error = load.first_error or f"{type(error).__name__}: {error}"[:500]
            if isinstance(error, timeout):
                load.timeouts += 1
                load.latencies.append(time.perf_counter() - t0)
        else:
            load.latencies.append(time.perf_counter() - t0)
    load.wall = time.perf_counter() - began
    return load
