"""The custody chain's first hash (version 1), frozen: the migrations that wrote it (0005) and replaced it
(0010) need it as it was. Version 1 hashed an event's whole content with its predecessor's hash, so a
redacted link could not be recomputed without its content (issue 28); ``audit.verify`` defines version 2.
"""

from __future__ import annotations

import hashlib
from typing import Any

from audit.verify import EXPORT_FORMAT, canonical_json

VERSION = 1
CONTENT_FIELDS = (
    "chain",
    "seq",
    "prev_hash",
    "created_at",
    "actor_id",
    "actor_name",
    "action",
    "team_id",
    "object_type",
    "object_id",
    "sha256",
    "ip",
    "detail",
)


def entry_hash(content: dict[str, Any]) -> str:
    """sha256 of an event's content (``CONTENT_FIELDS``), which includes its predecessor's hash."""
    body = {field: content[field] for field in CONTENT_FIELDS}
    payload = f"{EXPORT_FORMAT}/{VERSION}\n{canonical_json(body)}"
    return hashlib.sha256(payload.encode("ascii")).hexdigest()
