"""Send the hostile corpora (hostile_requests.py, hostile_corpus.py) through real nginx, gunicorn and a
Celery worker, and tally what came back: the report issue 12 asks for (requests sent, refused with a
4xx by status, 5xx, worker crashes, peak memory of the API and the worker)."""

from __future__ import annotations

import collections
import contextlib
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.integration.hostile_corpus import HostileInput
from tests.integration.hostile_requests import HostileRequest

MALFORMED = "malformed-http"
# What RFC 9110 has nginx answer to HTTP it cannot take, before anything is proxied: a transfer coding
# it does not implement (501) and an HTTP version it does not speak (505). Refusals, not server faults.
NGINX_PROTOCOL_REFUSALS = (501, 505)
# What a failed job may say: the media's own problem, never "internal_error" (a bug or a crash).
MEDIA_ERROR_CODES = {"unreadable_media", "media_too_large", "media_too_small", "media_too_long", "decode_timeout"}
CHEAP_JOB = {"frames": 2, "detectors": "spectral_lr"}


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.add(int(entry))
    return found


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM): no sampling, nothing missed between samples."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Processes:
    """The API's and the worker's processes, to tell afterwards whether any died or was replaced."""

    gunicorn: int
    celery: int
    gunicorn_workers: set[int] = field(default_factory=set)
    celery_pool: set[int] = field(default_factory=set)

    @classmethod
    def of(cls, gunicorn: int, celery: int) -> Processes:
        return cls(gunicorn, celery, children_of(gunicorn), children_of(celery))

    def crashes(self) -> list[str]:
        found = []
        for name, pid in (("gunicorn master", self.gunicorn), ("celery worker", self.celery)):
            if not Path(f"/proc/{pid}").exists():
                found.append(f"{name} {pid} is gone")
        if children_of(self.gunicorn) != self.gunicorn_workers:
            found.append(f"gunicorn workers replaced: {self.gunicorn_workers} -> {children_of(self.gunicorn)}")
        if children_of(self.celery) != self.celery_pool:
            found.append(f"celery pool replaced: {self.celery_pool} -> {children_of(self.celery)}")
        return found

    def peak_rss(self) -> dict[str, float]:
        workers = [peak_rss_mib(p) for p in self.gunicorn_workers if Path(f"/proc/{p}").exists()]
        pool = [peak_rss_mib(p) for p in self.celery_pool if Path(f"/proc/{p}").exists()]
        return {
            "api: gunicorn master": peak_rss_mib(self.gunicorn),
            f"api: largest of {len(workers)} gunicorn workers": max(workers, default=0.0),
            "worker: celery main process": peak_rss_mib(self.celery),
            f"worker: largest of {len(pool)} pool processes": max(pool, default=0.0),
        }


@dataclass
class Report:
    sent: collections.Counter = field(default_factory=collections.Counter)  # family -> requests
    statuses: collections.Counter = field(default_factory=collections.Counter)  # (family, status) -> n
    server_errors: list[str] = field(default_factory=list)
    protocol_refusals: list[str] = field(default_factory=list)
    no_answer: list[str] = field(default_factory=list)
    jobs: collections.Counter = field(default_factory=collections.Counter)  # outcome -> n
    bad_jobs: list[str] = field(default_factory=list)
    slow_loris: dict = field(default_factory=dict)
    crashes: list[str] = field(default_factory=list)
    peak_rss: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    def record(self, family: str, what: str, status: int | None) -> None:
        self.sent[family] += 1
        self.statuses[(family, status)] += 1
        if status is None:
            self.no_answer.append(f"{family}: {what}")
        elif family == MALFORMED and status in NGINX_PROTOCOL_REFUSALS:
            self.protocol_refusals.append(f"{what} -> {status}")
        elif status >= 500:
            self.server_errors.append(f"{family}: {what} -> {status}")

    def table(self) -> str:
        codes = sorted({s for (_, s) in self.statuses if s is not None})
        head = f"{'family':<18}{'sent':>6}" + "".join(f"{c:>6}" for c in codes) + f"{'none':>6}"
        lines = [head, "-" * len(head)]
        for family in self.sent:
            row = f"{family:<18}{self.sent[family]:>6}"
            row += "".join(f"{self.statuses.get((family, c), 0) or '.':>6}" for c in codes)
            lines.append(row + f"{self.statuses.get((family, None), 0) or '.':>6}")
        total = sum(self.sent.values())
        by_status = collections.Counter()
        for (_, status), n in self.statuses.items():
            by_status[status] += n
        lines.append("-" * len(head))
        lines.append(
            f"{'total':<18}{total:>6}" + "".join(f"{by_status[c]:>6}" for c in codes) + f"{by_status[None]:>6}"
        )
        refused = {c: n for c, n in sorted(by_status.items(), key=lambda kv: kv[0] or 0) if c and 400 <= c < 500}
        lines += [
            "",
            f"requests sent: {total} in {self.seconds:.0f} s",
            f"refused with a 4xx: {sum(refused.values())} "
            + "("
            + ", ".join(f"{c}: {n}" for c, n in refused.items())
            + ")",
            f"accepted (2xx/3xx): {sum(n for c, n in by_status.items() if c and c < 400)}",
            f"5xx from the API or the proxy: {len(self.server_errors)}",
            f"nginx's protocol refusals of malformed HTTP (501/505, never proxied): {len(self.protocol_refusals)}",
            f"no HTTP answer (connection closed): {by_status[None]}",
            "jobs of accepted media: " + ", ".join(f"{k}: {v}" for k, v in sorted(self.jobs.items())),
            "slow-loris: " + ", ".join(f"{k}: {v}" for k, v in self.slow_loris.items()),
            f"process crashes or replacements: {len(self.crashes)}",
            "peak RSS (VmHWM): " + ", ".join(f"{k} {v:.0f} MiB" for k, v in self.peak_rss.items()),
        ]
        return "\n".join(lines)


def _status_of(answer: bytes) -> int | None:
    parts = answer.split(b" ", 2)
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
        return int(parts[1])
    return None


def send_raw(base_url: str, raw: bytes, timeout_s: float = 20.0) -> int | None:
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout_s) as conn:
        with contextlib.suppress(OSError):  # nginx may answer and close before it read everything
            conn.sendall(raw)
        answer = b""
        with contextlib.suppress(OSError):
            while b"\r\n" not in answer:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                answer += chunk
        return _status_of(answer)


def send(base_url: str, item: HostileRequest, token: str, ids: dict[str, int]) -> int | None:
    if item.raw is not None:
        return send_raw(base_url, item.raw.replace(b"{token}", token.encode()))
    headers = {"Authorization": f"Token {token}"} if item.auth == "token" else {}
    if item.content_type is not None:
        headers["Content-Type"] = item.content_type
    url = base_url + item.path.format(**ids)
    try:
        return requests.request(item.method, url, data=item.payload(), headers=headers, timeout=60).status_code
    except requests.RequestException:
        return None


def send_requests(report: Report, base_url: str, items: list[HostileRequest], token: str, ids: dict) -> None:
    for item in items:
        report.record(item.family, item.what, send(base_url, item, token, ids))


def send_media(report: Report, base_url: str, items: list[HostileInput], token: str, case: int, wait_s: float) -> None:
    """Upload each file through nginx; follow every accepted one to its end on the real worker."""
    headers = {"Authorization": f"Token {token}"}
    accepted: dict[str, str] = {}
    for item in items:
        try:
            response = requests.post(
                f"{base_url}/api/v1/jobs/",
                headers=headers,
                files={"file": (item.name, item.data, "video/mp4")},
                data={"case": case, **CHEAP_JOB},
                timeout=60,
            )
        except requests.RequestException:
            report.record("media", item.name, None)
            continue
        report.record("media", f"{item.name} ({item.what})", response.status_code)
        if response.status_code == 202:
            accepted[item.name] = response.json()["id"]
    deadline = time.monotonic() + wait_s
    pending = dict(accepted)
    while pending and time.monotonic() < deadline:
        for name, job_id in list(pending.items()):
            body = requests.get(f"{base_url}/api/v1/jobs/{job_id}/status/", headers=headers, timeout=30).json()
            if body["state"] in ("queued", "running"):
                continue
            del pending[name]
            if body["state"] == "succeeded":
                report.jobs["succeeded"] += 1
            elif body["state"] == "failed" and body.get("error_code") in MEDIA_ERROR_CODES:
                report.jobs[f"failed {body['error_code']}"] += 1
            else:
                report.jobs[f"{body['state']} {body.get('error_code')}"] += 1
                report.bad_jobs.append(f"{name}: {body['state']} {body.get('error_code')}")
        time.sleep(0.5)
    report.jobs["unfinished"] = len(pending)
    report.bad_jobs += [f"{name}: unfinished after {wait_s:.0f} s" for name in pending]


def slow_loris(report: Report, base_url: str, token: str, connections: int, probes: int) -> None:
    """Hold ``connections`` half-sent requests open on nginx (headers or an upload's body a byte at a
    time) and meanwhile make ``probes`` ordinary requests: with two sync gunicorn workers behind it,
    they are served only if nginx, not gunicorn, is holding the slow clients."""
    host, port = base_url.removeprefix("http://").split(":")
    held = []
    for i in range(connections):
        conn = socket.create_connection((host, int(port)), timeout=10)
        if i % 2:
            conn.sendall(b"GET /api/v1/cases/ HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        else:
            conn.sendall(
                b"POST /api/v1/jobs/ HTTP/1.1\r\nHost: localhost\r\n"
                + f"Authorization: Token {token}\r\n".encode()
                + b"Content-Type: multipart/form-data; boundary=xxxxxxxx\r\n"
                + f"Content-Length: {10 * 1024**2}\r\n\r\n".encode()
                + b"x" * 1024
            )
        held.append(conn)
        report.sent["slow-loris"] += 1
    headers = {"Authorization": f"Token {token}"}
    served, slowest = 0, 0.0
    try:
        for _ in range(probes):
            for conn in held:  # a trickle keeps each one from timing out
                with contextlib.suppress(OSError):
                    conn.sendall(b"x")
            started = time.monotonic()
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{base_url}/api/v1/cases/", headers=headers, timeout=30).status_code == 200:
                    served += 1
            slowest = max(slowest, time.monotonic() - started)
    finally:
        for conn in held:
            conn.close()
    report.slow_loris = {
        "connections held": connections,
        "ordinary requests served meanwhile": f"{served}/{probes}",
        "slowest": f"{slowest * 1000:.0f} ms",
    }
