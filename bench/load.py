"""Open-loop HTTP load at fixed rates: latency percentiles as a client sees them, and what the generator cost.

    python bench/load.py URL --header "Authorization: Token KEY" --rates 50,100,200,400 --seconds 20
    python bench/load.py URL --header ... --if-none-match    # send the ETag of a first GET: the 304 path

Open loop: request ``i`` of a step is sent at ``start + i / rate`` whether or not earlier ones have
answered, and its latency is counted from that scheduled instant. A closed-loop tool (locust's users,
ab, wrk) waits for an answer before a user sends again, so a slow server is offered less load and its
queueing never shows in the percentiles ("coordinated omission"); here a server that falls behind sees
the full rate and its backlog shows up as latency (a request unanswered after 10 s counts as 10 s).
Each request uses a pooled keep-alive connection when the server keeps one open (gthread workers) and
a new one otherwise (sync workers close after each answer).

The generator shares the machine with the server, so each step also reports the CPU seconds the
generator used per wall second (its share of one core), and, with ``--server-pids``, the server
processes' share; both come from /proc, no extra package needed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

# Requests still unanswered this long after their scheduled time count as timeouts.
REQUEST_TIMEOUT_S = 10.0
# Never more connections in flight than this: past it the server is hopelessly behind and the
# generator would only exhaust file descriptors; the overflow is reported as "refused".
MAX_IN_FLIGHT = 1000


@dataclass
class StepResult:
    rate: float
    seconds: float
    sent: int
    ok: int
    not_modified: int
    errors: int
    timeouts: int
    refused: int
    achieved_per_s: float
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    generator_cpu_share: float  # CPU seconds of this process per wall second (1.0 = one full core)
    server_cpu_share: float | None
    statuses: dict[str, int] = field(default_factory=dict)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-len(ordered) * q // 100)))
    return ordered[int(rank) - 1]


def process_cpu_s(pid: int) -> float:
    """utime + stime of ``pid`` and its reaped children, in seconds (0.0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    # Fields after the command: state is [0]; utime, stime, cutime, cstime are [11]..[14].
    return sum(int(v) for v in fields[11:15]) / ticks


def server_pids(roots: list[int]) -> list[int]:
    """The given processes and their children (a gunicorn master and its workers)."""
    pids = set(roots)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid in roots:
                pids.add(int(entry.name))
    return sorted(pids)


class Connections:
    """Idle keep-alive connections to one host; a request takes one or opens a new one."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def take(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while self.idle:
            reader, writer = self.idle.pop()
            if not writer.is_closing() and not reader.at_eof():
                return reader, writer
        return await asyncio.open_connection(self.host, self.port)

    def give_back(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.idle.append((reader, writer))

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()
        self.idle.clear()


async def _exchange(pool: Connections, request: bytes) -> int:
    """Send one request and read the whole answer; return its status code."""
    reader, writer = await pool.take()
    try:
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
    except (ConnectionError, asyncio.IncompleteReadError):
        writer.close()
        # A pooled connection the server closed meanwhile: one retry on a fresh one.
        reader, writer = await asyncio.open_connection(pool.host, pool.port)
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    if length:
        await reader.readexactly(length)
    closes = headers.get("connection", "").lower() == "close" or lines[0].startswith("HTTP/1.0")
    if closes or ("content-length" not in headers and status != 304):
        writer.close()
    else:
        pool.give_back(reader, writer)
    return status


def build_request(url: str, headers: list[str]) -> tuple[str, int, bytes]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    lines = [f"GET {path} HTTP/1.1", f"Host: {parts.netloc}", "Accept: application/json", *headers]
    return host, port, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def run_step(host: str, port: int, request: bytes, rate: float, seconds: float, pids: list[int]) -> StepResult:
    pool = Connections(host, port)
    total = int(rate * seconds)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    counts = {"timeouts": 0, "refused": 0, "errors": 0}
    in_flight = 0
    loop = asyncio.get_running_loop()

    async def one(scheduled: float) -> None:
        nonlocal in_flight
        in_flight += 1
        try:
            status = await asyncio.wait_for(_exchange(pool, request), REQUEST_TIMEOUT_S)
        except TimeoutError:
            # Counted in the percentiles at the timeout (a lower bound): dropping them would hide the backlog.
            counts["timeouts"] += 1
            latencies.append(REQUEST_TIMEOUT_S)
            return
        except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            counts["errors"] += 1
            return
        finally:
            in_flight -= 1
        latencies.append(loop.time() - scheduled)
        statuses[str(status)] = statuses.get(str(status), 0) + 1

    tasks = []
    cpu_before = time.process_time()
    server_before = sum(process_cpu_s(p) for p in pids) if pids else 0.0
    wall_started = time.perf_counter()
    start = loop.time() + 0.05
    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if in_flight >= MAX_IN_FLIGHT:
            counts["refused"] += 1
            continue
        tasks.append(asyncio.ensure_future(one(scheduled)))
    if tasks:
        await asyncio.wait(tasks, timeout=REQUEST_TIMEOUT_S + 1)
    wall = time.perf_counter() - wall_started
    generator_cpu = time.process_time() - cpu_before
    server_cpu = (sum(process_cpu_s(p) for p in pids) - server_before) if pids else None
    pool.close()
    ok = sum(n for s, n in statuses.items() if s.startswith("2"))
    not_modified = statuses.get("304", 0)
    errors = counts["errors"] + sum(n for s, n in statuses.items() if not (s.startswith("2") or s == "304"))
    ms = [v * 1000.0 for v in latencies]
    return StepResult(
        rate=rate,
        seconds=seconds,
        sent=total - counts["refused"],
        ok=ok,
        not_modified=not_modified,
        errors=errors,
        timeouts=counts["timeouts"],
        refused=counts["refused"],
        achieved_per_s=(ok + not_modified) / wall,
        p50_ms=percentile(ms, 50),
        p90_ms=percentile(ms, 90),
        p99_ms=percentile(ms, 99),
        max_ms=max(ms) if ms else None,
        generator_cpu_share=generator_cpu / wall,
        server_cpu_share=server_cpu / wall if server_cpu is not None else None,
        statuses=statuses,
    )


async def first_etag(host: str, port: int, request: bytes) -> str:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(request.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1))
    await writer.drain()
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    writer.close()
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "etag":
            return value.strip()
    raise SystemExit(f"no ETag in the answer:\n{head}")


def run(
    url: str,
    headers: list[str],
    rates: list[float],
    seconds: float,
    if_none_match: bool = False,
    pids: list[int] | None = None,
    warmup_s: float = 2.0,
) -> list[StepResult]:
    host, port, request = build_request(url, headers)
    if if_none_match:
        etag = asyncio.run(first_etag(host, port, request))
        host, port, request = build_request(url, [*headers, f"If-None-Match: {etag}"])
    watched = server_pids(pids) if pids else []
    results = []
    for rate in rates:
        if warmup_s:
            asyncio.run(run_step(host, port, request, min(rate, 50.0), warmup_s, []))
        results.append(asyncio.run(run_step(host, port, request, rate, seconds, watched)))
    return results


def format_table(results: list[StepResult]) -> str:
    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v:.1f}"

    rows = [
        [
            f"{r.rate:.0f}",
            f"{r.achieved_per_s:.0f}",
            ms(r.p50_ms),
            ms(r.p90_ms),
            ms(r.p99_ms),
            ms(r.max_ms),
            str(r.errors + r.timeouts + r.refused),
            f"{100 * r.generator_cpu_share:.0f}%",
            "-" if r.server_cpu_share is None else f"{100 * r.server_cpu_share:.0f}%",
        ]
        for r in results
    ]
    header = ["offered/s", "answered/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "failed"]
    header += ["generator CPU", "server CPU"]
    widths = [max(len(x) for x in col) for col in zip(header, *rows, strict=True)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(x.rjust(w) for x, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--header", action="append", default=[], help="'Name: value', repeatable")
    parser.add_argument("--rates", default="50,100,200,400", help="requests per second, comma-separated")
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each rate step")
    parser.add_argument("--if-none-match", action="store_true", help="send the ETag of a first GET (the 304 path)")
    parser.add_argument("--server-pids", default="", help="comma-separated pids (and their children) to meter")
    parser.add_argument("--json", help="also write the results as JSON to this file")
    args = parser.parse_args(argv)
    rates = [float(r) for r in args.rates.split(",") if r]
    pids = [int(p) for p in args.server_pids.split(",") if p]
    results = run(args.url, args.header, rates, args.seconds, args.if_none_match, pids)
    print(format_table(results))
    cores = os.cpu_count() or 1
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    print(f"\n{cores} cores; CPU shares are per core (100% = one core busy); fd limit {soft}", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in results], indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
