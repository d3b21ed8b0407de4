"""The signature on every webhook delivery, and how a receiver checks it (standard library only).

Header ``X-Forensics-Signature: t=<unix seconds>,v1=<hex>`` where ``hex`` is
HMAC-SHA256(endpoint secret, ``"<t>." + raw request body``). A receiver recomputes it with the
secret it was given, compares in constant time, and refuses a timestamp outside its replay window
(default 5 minutes), so a captured delivery cannot be sent again later.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Forensics-Signature"
REPLAY_WINDOW_S = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, now: float | None = None, window_s: int = REPLAY_WINDOW_S) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and its timestamp is within the window."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > window_s:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), fields.get("v1", ""))
