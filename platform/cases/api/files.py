"""Serving stored files: originals as attachments, inline playback with HTTP Range, job artefacts.

Every response carries ``X-Content-Type-Options: nosniff`` so a browser never reinterprets
an uploaded file as HTML or script.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse

RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
RANGE_CHUNK_BYTES = 1 << 16


def _iter_range(path: Path, start: int, length: int):
    with open(path, "rb") as fh:
        fh.seek(start)
        remaining = length
        while remaining > 0:
            chunk = fh.read(min(RANGE_CHUNK_BYTES, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk


def serve_file(
    request: HttpRequest, path: Path, content_type: str, filename: str | None = None, attachment: bool = False
) -> HttpResponse:
    if not path.is_file():
        raise Http404("the stored file is missing")
    size = path.stat().st_size
    header = request.headers.get("Range", "")
    match = RANGE_RE.match(header.strip()) if header else None
    if match and not attachment and (match.group(1) or match.group(2)):
        first, last = match.groups()
        if first:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
        else:
            start, end = max(0, size - int(last)), size - 1
        if start >= size or start > end:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        response = StreamingHttpResponse(
            _iter_range(path, start, end - start + 1), status=206, content_type=content_type
        )
        response["Content-Length"] = str(end - start + 1)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    else:
        response = FileResponse(
            open(path, "rb"),
            content_type=content_type,
            as_attachment=attachment,
            filename=filename,
        )
    response["Accept-Ranges"] = "bytes"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


def safe_child(root: Path, relative: str) -> Path:
    """``root / relative`` if it stays inside ``root``; 404 otherwise (no ``..`` escapes)."""
    candidate = (root / relative).resolve()
    if root.resolve() not in candidate.parents:
        raise Http404("no such file")
    return candidate
