"""Why a figure missed its target, in this run's own measurements: where the CPU went (per
process and for the machine, `bench.cpu`), how much the job wrote, and whether the library's
own baseline reaches the target on this machine at all. A reason states measurements, never
an excuse: a miss that none of them explains says so."""

from __future__ import annotations

from typing import Any

from bench.cpu import CpuUsage

UNEXPLAINED = "not explained by a measurement of this run"


def why_missed(figure: Any, measured: dict[str, Any], data: dict[str, Any]) -> str:
    key = figure.key
    if key == "import":
        return _import(figure, measured, data)
    if key == "rebuild":
        return _rebuild(figure, measured, data)
    if key.startswith("http_"):
        return _http(figure, measured)
    if key.startswith("read_") and data.get("dead_rows_at_reads"):
        dead = data["dead_rows_at_reads"]
        return (f"{UNEXPLAINED}; when the reads began, PostgreSQL counted "
                f"{_count(sum(dead.values()))} dead row versions in the read models "
                f"({_count(dead.get('rm_facility_years', 0))} of facility-year rows), left since the projector's last VACUUM")
    return UNEXPLAINED


def _count(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ")


def _rate(value: float) -> str:
    return _count(value) + "/s"


def _import(figure: Any, measured: dict[str, Any], data: dict[str, Any]) -> str:
    usage: CpuUsage | None = measured.get("import_cpu")
    commands = data.get("commands") or 0
    parts = []
    if usage is not None and commands:
        per = usage.per(commands)
        parts.append(f"the import used {per.get('import', 0):.3f} ms of CPU per command "
                     f"({usage.processes.get('import', 0):.0f} s of CPU in {measured['import']:.0f} s)")
        if figure.target:
            parts.append(f"{_rate(figure.target)} leaves {1000 / figure.target:.3f} ms per command")
    batched: CpuUsage | None = measured.get("batched_cpu")
    if batched is not None and measured.get("batched") and measured["batched"][0]:
        parts.append(f"the library's batched appends used {batched.per(measured['batched'][0]).get('library', 0):.3f} "
                     f"ms of CPU per event")
    if figure.baseline is not None and figure.target and figure.baseline < figure.target:
        parts.append(f"the library's own batched appends of ready-made events ran at {_rate(figure.baseline)} "
                     f"here, below the target")
    return "; ".join(parts) or UNEXPLAINED


def _rebuild(figure: Any, measured: dict[str, Any], data: dict[str, Any]) -> str:
    events = data.get("store_events") or 0
    parts = []
    if figure.baseline is not None and figure.target and figure.baseline < figure.target:
        parts.append(f"read + decode alone ran at {_rate(figure.baseline)} here, below {_rate(figure.target)}")
    rows = data.get("read_model_rows") or {}
    if rows and events:
        total = sum(rows.values())
        parts.append(f"the rebuild wrote {_count(total)} read-model row versions, {total / events:.1f} per event "
                     f"(facility-year rows {_count(rows.get('rm_facility_years', 0))})")
    usage: CpuUsage | None = measured.get("rebuild_cpu")
    if usage is not None and events and figure.baseline:
        per_event = usage.processes.get("rebuild", 0) * 1e6 / events
        parts.append(f"{per_event:.0f} µs of the rebuild's CPU per event ({usage.processes.get('rebuild', 0):.0f} s "
                     f"of CPU in {measured['rebuild']:.0f} s; the machine {usage.busy_share:.0%} busy) against "
                     f"{1e6 / figure.baseline:.0f} µs to read and decode one")
    return "; ".join(parts) or UNEXPLAINED


def _http(figure: Any, measured: dict[str, Any]) -> str:
    clients = int(figure.key.split("_")[1])
    load = measured.get(f"http_{clients}")
    usage: CpuUsage | None = measured.get(f"http_{clients}_cpu")
    if load is None or usage is None or not load.count:
        return UNEXPLAINED
    per = usage.per(load.count)
    projector = f"projector {per['projector']:.1f}" if "projector" in per else "projections inside the service"
    spent = (f"per command the machine spent {per['all']:.1f} ms of CPU (service {per.get('service', 0):.1f}, "
             f"{projector}, client {per.get('client', 0):.1f}, database, kernel and the rest {per['other']:.1f})")
    raw: CpuUsage | None = measured.get(f"raw_{clients}_cpu")
    raw_load = measured.get(f"raw_{clients}")
    if raw is not None and raw_load is not None and raw_load.count:
        spent += f" against {raw.per(raw_load.count)['all']:.2f} ms in the library's loop"
    floor: CpuUsage | None = measured.get(f"floor_{clients}_cpu")
    floor_load = measured.get(f"floor_{clients}")
    if figure.key.endswith("_vs_floor") and floor is not None and floor_load is not None and floor_load.count:
        floor_per = floor.per(floor_load.count)
        spent += (f" and {floor_per['all']:.2f} ms in the HTTP + library floor (its server "
                  f"{floor_per.get('floor', 0):.2f}, client {floor_per.get('client', 0):.2f})")
    throughput = "_throughput" in figure.key
    if throughput and clients == 1:
        mean = sum(load.latencies) / load.count * 1000
        raw_mean = f"; the library's loop takes {sum(raw_load.latencies) / raw_load.count * 1000:.2f} ms" \
            if raw_load is not None and raw_load.count else ""
        return (f"one client sends a command when the last one is answered, so the throughput is 1 / the mean "
                f"latency of {mean:.1f} ms{raw_mean}; {spent}")
    if throughput:
        ceiling = usage.cores * 1000 / per["all"] if per["all"] else float("inf")
        asked = (figure.min_ratio or 0) * (figure.baseline or 0)
        return f"{spent}: {usage.cores} cores allow at most {_rate(ceiling)}, the target asks {_rate(asked)}"
    if clients > 1:
        # Little's law: with every client always waiting on a request, the mean latency is the
        # clients over the throughput, and the throughput is at most the cores over the CPU a
        # command costs.
        floor = clients * per["all"] / usage.cores
        return (f"{spent}; with {clients} clients always waiting, the mean latency is {clients} / throughput "
                f"≥ {clients} × {per['all']:.1f} ms / {usage.cores} cores = {floor:.0f} ms (Little's law)")
    return f"{spent}; the cores were {usage.busy_share:.0%} busy"
