"""A generated corpus of hostile HTTP requests (seeded, deterministic), beside hostile_corpus.py's media.

Oversized and deeply nested JSON, huge multipart part counts, wrong content types, unicode and NUL in
fields, query strings, file names and headers, and malformed HTTP. Every one must end in a 4xx (or a
2xx where the input is odd but harmless, such as a case titled with an emoji), never in a 5xx, a
dropped connection or a dead process. ``share`` < 1 takes an evenly spread, seeded part of each family
(the suite's run); 1 is the whole corpus (bench/hostile.py).
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass

import numpy as np

MIB = 1024 * 1024
UPLOAD_CAP_BYTES = 2 * 1024**3  # FORENSICS_MAX_UPLOAD_BYTES's default, and nginx's cap for the upload route
FILL = b"@@FILL@@"
BOUNDARY = "hostileBoundary7MA4YWxk"


@dataclass(frozen=True)
class HostileRequest:
    family: str
    what: str
    method: str = "POST"
    path: str = "/api/v1/cases/"  # may name {case} and {job}
    content_type: str | None = "application/json"
    body: bytes = b""
    fill_bytes: int = 0  # FILL in the body stands for this many bytes, made only when sent
    auth: str = "token"  # "token" (a reviewer's in the team that owns {case} and {job}) or "anonymous"
    raw: bytes | None = None  # sent as is over a socket ({token} replaced): HTTP no client library would send

    def payload(self) -> bytes:
        return self.body.replace(FILL, b"x" * self.fill_bytes) if self.fill_bytes else self.body


# Where a JSON body goes, as whom: every route that parses one, anonymous where anyone may call it.
JSON_TARGETS = [
    ("POST", "/api/v1/auth/login/", "anonymous"),
    ("POST", "/api/v1/cases/", "token"),
    ("PATCH", "/api/v1/cases/{case}/", "token"),
    ("POST", "/api/v1/jobs/{job}/review/", "token"),
    ("POST", "/api/v1/tokens/", "token"),
    ("POST", "/api/v1/jobs/", "token"),
]

NASTY_STRINGS = [
    "\x00",
    "a\x00b",
    "\x00" * 300,
    "\u202eevil\u202d",
    "\ufeffbom",
    "\u200b\u200c\u200d",
    "𝕏" * 60,
    "😀" * 500,
    "a" * 10_001,
    "../../../../etc/passwd",
    "%00%ff%2e%2e",
    "<script>alert(1)</script>",
    "'; DROP TABLE cases_case; --",
    "line\r\nX-Injected: 1",
    "\\",
    "${jndi:ldap://127.0.0.1/a}",
    "{{7*7}}",
    " ",
    "",
    "ǅ" * 200,
]
# Strings JSON can carry but Python's str (and Postgres) cannot: lone surrogates, as raw escapes.
SURROGATE_ESCAPES = [b"\\ud800", b"a\\udfffb", b"\\udbff\\udbff", b"\\u0000"]
# Bytes that are not UTF-8 at all.
BAD_BYTES = [b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80", b"\x80" * 10, b"\xf8\x88\x80\x80\x80"]


def _spread(items: list[HostileRequest], share: float) -> list[HostileRequest]:
    if share >= 1 or not items:
        return items
    keep = max(3, round(len(items) * share))
    return [items[int(i * len(items) / keep)] for i in range(keep)]


def _multipart(fields: list[tuple[str, str]], files: list[tuple[str, str, bytes]]) -> bytes:
    parts = []
    for name, value in fields:
        parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, filename, data in files:
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: video/mp4\r\n\r\n"
        )
        parts.append(head.encode("utf-8", "surrogatepass") + data + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def oversized_json(rng: np.random.Generator, count: int) -> list[HostileRequest]:
    """Bodies past the 1 MiB every route but the upload takes; nginx refuses them by their length."""
    items = []
    for i in range(count):
        method, path, auth = JSON_TARGETS[i % 5]  # not the upload route: it takes large bodies
        size = int(rng.integers(MIB + 1, 3 * MIB))
        field = ("username", "title", "notes", "reason", "name")[i % 5]
        body = b'{"' + field.encode() + b'": "' + FILL + b'"}'
        items.append(HostileRequest("oversized-json", f"{size} B of JSON to {path}", method, path,
                                    body=body, fill_bytes=size, auth=auth))  # fmt: skip
    return items


def declared_oversized(count: int) -> list[HostileRequest]:
    """A Content-Length far past every cap, and then almost nothing: refused on the header."""
    items = []
    for i in range(count):
        declared = (2 * MIB, 64 * MIB, 3 * 1024**3, 2**40, 2**62)[i % 5]
        method, path, auth = JSON_TARGETS[i % len(JSON_TARGETS)]
        if path == "/api/v1/jobs/":
            # Within the upload cap nginx rightly waits for the body (a slow client: see slow_loris).
            declared = max(declared, 2 * UPLOAD_CAP_BYTES)
        token = "Authorization: Token {token}\r\n" if auth == "token" else ""
        raw = (
            f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n{token}"
            f'Content-Length: {declared}\r\nConnection: close\r\n\r\n{{"a": "'
        ).encode()
        items.append(HostileRequest("oversized-json", f"declares {declared} B to {path}", raw=raw))
    return items


def deep_json(rng: np.random.Generator, count: int) -> list[HostileRequest]:
    openers = [b"[", b'{"a": ', b'{"title": [', b'[{"x": ', b'{"tags": [[']
    items = []
    for i in range(count):
        method, path, auth = JSON_TARGETS[i % len(JSON_TARGETS)]
        depth = int(rng.choice([900, 1_100, 5_000, 20_000, 100_000, 150_000]))
        opener = openers[i % len(openers)]
        body = opener * depth
        if i % 3 == 0 and opener == b"[":
            body += b"]" * depth  # well-formed, only deep
        items.append(HostileRequest("deep-json", f"{depth} levels of {opener!r} to {path}", method, path,
                                    body=body, auth=auth))  # fmt: skip
    return items


def multipart_counts(rng: np.random.Generator, count: int) -> list[HostileRequest]:
    """Thousands of fields or of file parts in one upload (Django takes 100 fields and one file)."""
    items = []
    for i in range(count):
        kind = i % 4
        if kind == 0:
            n = int(rng.choice([101, 1_000, 10_000, 40_000]))
            body = _multipart([(f"f{k}", "x") for k in range(n)], [("file", "a.mp4", b"\x00" * 64)])
            what = f"{n} fields"
        elif kind == 1:
            n = int(rng.choice([2, 10, 200, 2_000]))
            body = _multipart([], [(f"file{k}", f"{k}.mp4", b"x") for k in range(n)])
            what = f"{n} file parts"
        elif kind == 2:
            n = int(rng.choice([50, 1_000, 5_000]))
            body = _multipart([("file", "x")] * n, [])
            what = f"{n} parts all named file"
        else:
            n = int(rng.choice([1_000, 20_000]))
            body = _multipart([(f"f{k}", "x") for k in range(n)], [])
            what = f"{n} fields to a JSON route"
        path = "/api/v1/cases/" if kind == 3 else "/api/v1/jobs/"
        auth = "anonymous" if i % 7 == 6 else "token"
        items.append(HostileRequest("multipart-parts", f"{what} ({auth})", "POST", path, MULTIPART, body, auth=auth))
    return items


def wrong_content_types(count: int) -> list[HostileRequest]:
    pairs = [
        ("application/xml", b"<case><title>x</title></case>"),
        ("text/plain", b"title=x"),
        ("multipart/form-data", b"--x\r\n"),
        ("multipart/form-data; boundary=" + "b" * 2_000, b"garbage"),
        (f"multipart/form-data; boundary={BOUNDARY}", b'{"title": "x"}'),
        (f"multipart/form-data; boundary={BOUNDARY}", f"--{BOUNDARY}\r\nno headers".encode()),
        ("application/json", b"title=x&notes=y"),
        ("application/json; charset=utf-16", b'{"title": "x"}'),
        ("application/json; charset=bogus-999", b'{"title": "x"}'),
        ("application/json; charset=", b'{"title": "x"}'),
        ("application/x-www-form-urlencoded", bytes(range(256))),
        ("application/x-www-form-urlencoded", b"a=" + b"%" * 1_000),
        ("application/x-www-form-urlencoded", b"&".join(b"k%d=v" % k for k in range(5_000))),
        ("image/png", b"\x89PNG\r\n\x1a\n" + bytes(100)),
        (None, b'{"title": "x"}'),
        ("application/json", b""),
        ("application/json", b"\x00\x01\x02garbage\xff"),
        ("application/json", b'\xef\xbb\xbf{"title": "bom"}'),
        ("application/json", b'{"title": "x"'),
        ("application/json", b'{"title": "x", "title": "y"}'),
        ("application/json", b'{"title": NaN, "team": Infinity}'),
        ("application/json", b'{"title": "t", "team": 1e999}'),
        ("application/json", b'{"title": "t", "team": 1' + b"0" * 4_000 + b"}"),
        ("application/json", b'{"title": "t", "team": 99999999999999999999999}'),
        ("application/json", b'{"title": ["a", {"b": null}], "tags": "not-a-list"}'),
        ("application/json", b"[]"),
        ("application/json", b"null"),
        ("application/json", b'"just a string"'),
        ("application/vnd.api+json", b'{"data": {}}'),
        ("application/json, text/html", b'{"title": "x"}'),
    ]
    items = []
    for i in range(count):
        method, path, auth = JSON_TARGETS[i % len(JSON_TARGETS)]
        content_type, body = pairs[i % len(pairs)]
        items.append(HostileRequest("content-type", f"{content_type!r} {body[:24]!r} to {path}", method, path,
                                    content_type, body, auth=auth))  # fmt: skip
    return items


def unicode_and_nul(rng: np.random.Generator, count: int) -> list[HostileRequest]:
    items = []
    fields = {
        "/api/v1/cases/": ("title", "notes", "tags"),
        "/api/v1/cases/{case}/": ("title", "notes", "tags"),
        "/api/v1/auth/login/": ("username", "password"),
        "/api/v1/jobs/{job}/review/": ("reason", "status", "override_label"),
        "/api/v1/tokens/": ("name",),
    }
    query_params = ["search", "tag", "sha256", "ordering", "page", "case", "state", "verdict", "media", "page_size"]
    for i in range(count):
        kind = i % 5
        nasty = NASTY_STRINGS[int(rng.integers(len(NASTY_STRINGS)))]
        if kind == 0:  # a JSON field
            path = list(fields)[i % len(fields)]
            field = fields[path][int(rng.integers(len(fields[path])))]
            value = [nasty] if field == "tags" else nasty
            doc = {"title": "t", field: value} if path == "/api/v1/cases/" else {field: value}
            method = "PATCH" if path.endswith("{case}/") else "POST"
            auth = "anonymous" if "login" in path else "token"
            body = json.dumps(doc).encode()
            items.append(HostileRequest("unicode-nul", f"{field}={nasty[:12]!r} to {path}", method, path,
                                        body=body, auth=auth))  # fmt: skip
        elif kind == 1:  # escapes JSON allows and UTF-8 does not, or bytes that are not UTF-8
            escape = SURROGATE_ESCAPES[i % len(SURROGATE_ESCAPES)] if i % 2 else BAD_BYTES[i % len(BAD_BYTES)]
            path = ("/api/v1/cases/", "/api/v1/auth/login/", "/api/v1/tokens/")[i % 3]
            field = {"/api/v1/cases/": b"title", "/api/v1/auth/login/": b"username", "/api/v1/tokens/": b"name"}[path]
            body = b'{"' + field + b'": "' + escape + b'", "password": "x", "title": "t' + escape + b'"}'
            auth = "anonymous" if "login" in path else "token"
            items.append(HostileRequest("unicode-nul", f"{escape!r} in {field.decode()} to {path}", "POST", path,
                                        body=body, auth=auth))  # fmt: skip
        elif kind == 2:  # a query string
            param = query_params[i % len(query_params)]
            raw_value = urllib.parse.quote(nasty, safe="") if i % 2 else ("%00", "%ff%fe", "%ed%a0%80", "%")[i % 4]
            path = ("/api/v1/cases/", "/api/v1/jobs/", "/api/v1/audit/")[i % 3] + f"?{param}={raw_value}"
            items.append(HostileRequest("unicode-nul", f"?{param}={raw_value[:20]}", "GET", path, None))
        elif kind == 3:  # an upload's file name
            name = nasty[:300] + ".mp4" if nasty else ".mp4"
            body = _multipart([("frames", "2")], [("file", name, b"\x00\x00\x00\x18ftypmp42" + bytes(32))])
            items.append(HostileRequest("unicode-nul", f"file name {name[:16]!r}", "POST", "/api/v1/jobs/",
                                        MULTIPART, body))  # fmt: skip
        else:  # a header
            token = ("Token \x00", "Token " + "é" * 40, "Token " + "a" * 8_000, "Bearer x", "Token", "Basic Og==")
            value = token[i % len(token)]
            raw = (
                "GET /api/v1/auth/me/ HTTP/1.1\r\nHost: localhost\r\n"
                f"Authorization: {value}\r\nConnection: close\r\n\r\n"
            ).encode("utf-8", "surrogateescape")
            items.append(HostileRequest("unicode-nul", f"Authorization: {value[:16]!r}", raw=raw))
    return items


def malformed_http(count: int) -> list[HostileRequest]:
    """HTTP no well-behaved client sends: nginx must answer (or close) without a 5xx from the API."""
    host = "Host: localhost\r\n"
    templates = [
        f"POST /api/v1/cases/ HTTP/1.1\r\n{host}Content-Length: 5\r\nContent-Length: 50\r\n\r\nhello",
        f"POST /api/v1/cases/ HTTP/1.1\r\n{host}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        f"POST /api/v1/cases/ HTTP/1.1\r\n{host}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        f"POST /api/v1/auth/login/ HTTP/1.1\r\n{host}Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\nx\r\n",
        f"POST /api/v1/auth/login/ HTTP/1.1\r\n{host}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        f"GET /api/v1/cases/ HTTP/1.1\r\n{host}X-Long: {'a' * 20_000}\r\n\r\n",
        f"GET /api/v1/cases/ HTTP/1.1\r\n{host}" + "".join(f"X-H{k}: v\r\n" for k in range(2_000)) + "\r\n",
        f"GET /{'a' * 70_000} HTTP/1.1\r\n{host}\r\n",
        "GET /api/v1/cases/ HTTP/1.1\r\n\r\n",
        f"GET /api/v1/cases/\x00 HTTP/1.1\r\n{host}\r\n",
        f"GET /../../../../etc/passwd HTTP/1.1\r\n{host}\r\n",
        f"GET /api/v1/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\n{host}\r\n",
        f"GET http://169.254.169.254/latest/meta-data/ HTTP/1.1\r\n{host}\r\n",
        f"BREW /api/v1/cases/ HTTP/1.1\r\n{host}\r\n",
        f"GET /api/v1/cases/ HTTP/9.9\r\n{host}\r\n",
        "GET /api/v1/cases/\r\n",
        f"GET /api/v1/cases/ HTTP/1.1\r\nHost: {'h' * 5_000}\r\n\r\n",
        f"GET /api/v1/cases/ HTTP/1.1\r\n{host}Bad Header Line\r\n\r\n",
        f"POST /api/v1/jobs/ HTTP/1.1\r\n{host}Content-Length: -1\r\n\r\n",
        f"POST /api/v1/jobs/ HTTP/1.1\r\n{host}Content-Length: 1e9\r\n\r\n",
    ]
    items = []
    for i in range(count):
        raw = templates[i % len(templates)].encode("utf-8", "surrogateescape")
        # Keep-alive off: one request per connection, so what nginx answers is this request's answer.
        items.append(HostileRequest("malformed-http", repr(raw[:40]), raw=raw))
    return items


def build_requests(seed: int = 12, share: float = 1.0) -> list[HostileRequest]:
    rng = np.random.default_rng(seed)
    families = [
        oversized_json(rng, 90),
        declared_oversized(20),
        deep_json(rng, 120),
        multipart_counts(rng, 100),
        wrong_content_types(120),
        unicode_and_nul(rng, 200),
        malformed_http(60),
    ]
    return [item for family in families for item in _spread(family, share)]
