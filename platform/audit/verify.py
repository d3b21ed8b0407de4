"""Verify an exported custody log: ``python -m audit.verify export.json`` (or ``export.csv``).

This one file is the whole definition of the custody chain's hashes, and it uses only the Python
standard library, so a third party can copy it and check an export without the platform: every
event's hash is recomputed from its content, every event must name its predecessor's hash, and the
sequence numbers must run 1, 2, 3... without a gap. The platform hashes events with these same
functions (``audit.models``), so what is verified here is what was written.

An export made for one case or job carries the whole chain of its team: the events about that case
in full, every other event as a redacted link (its sequence number, its hash and its predecessor's
hash), so the links can be checked without showing other cases. A chain head printed in an earlier
report pins the log: ``--head SEQ:HASH`` checks that the export still holds that event with that hash.

Exit status: 0 when the chain verifies, 1 when a link is broken (the first one is named), 2 when
the file cannot be read.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXPORT_FORMAT = "forensics-custody-log"
HASH_VERSION = 1
# The first event of every chain names this as its predecessor.
GENESIS_HASH = "0" * 64
# What is hashed, in this order of keys (the JSON is key-sorted anyway; the list documents it).
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
# Columns of a CSV export: the content, the event's own hash, whether it is redacted, the row id.
CSV_COLUMNS = ("id", *CONTENT_FIELDS, "entry_hash", "redacted")
_INT_OR_NULL = ("actor_id", "team_id")


def format_timestamp(moment: dt.datetime) -> str:
    """The one text form of a time that is hashed: UTC, microseconds, a Z."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> str:
    """Key-sorted, no whitespace, ASCII only: the same bytes for the same content everywhere."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def entry_hash(content: dict[str, Any]) -> str:
    """sha256 of an event's content (``CONTENT_FIELDS``), which includes its predecessor's hash."""
    body = {field: content[field] for field in CONTENT_FIELDS}
    payload = f"{EXPORT_FORMAT}/{HASH_VERSION}\n{canonical_json(body)}"
    return hashlib.sha256(payload.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class Break:
    """The first place a chain does not hold."""

    chain: str
    seq: int | None
    event_id: Any
    reason: str

    def __str__(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else "start"
        who = f" (event id {self.event_id})" if self.event_id is not None else ""
        return f"chain {self.chain}: broken at {where}{who}: {self.reason}"


def check_chain(events: Iterable[dict[str, Any]], chain: str = "") -> Iterator[Break]:
    """Every broken link of one chain, given its events in sequence order.

    An event is a dict with ``seq``, ``prev_hash``, ``entry_hash`` and, unless ``redacted`` is true,
    the rest of ``CONTENT_FIELDS``. A missing sequence number is reported as a gap; an event whose
    content no longer hashes to its ``entry_hash`` as edited; one that does not name its
    predecessor's hash as a broken link.
    """
    expected_seq, prev = 1, GENESIS_HASH
    for event in events:
        seq, event_id = event["seq"], event.get("id")
        name = chain or event.get("chain", "")
        if seq != expected_seq:
            if seq > expected_seq:
                missing = f"{expected_seq}" if seq == expected_seq + 1 else f"{expected_seq}..{seq - 1}"
                yield Break(name, seq, event_id, f"gap: events with seq {missing} are missing before it")
            else:
                yield Break(name, seq, event_id, f"seq {seq} repeated or out of order (expected {expected_seq})")
        if event["prev_hash"] != prev:
            yield Break(
                name, seq, event_id, f"prev_hash {event['prev_hash']} does not match the previous event's hash {prev}"
            )
        if not event.get("redacted"):
            if event.get("chain", name) != name:
                yield Break(name, seq, event_id, f"event belongs to chain {event.get('chain')!r}")
            recomputed = entry_hash(event)
            if recomputed != event["entry_hash"]:
                yield Break(
                    name,
                    seq,
                    event_id,
                    f"content was changed after it was written: it hashes to {recomputed}, "
                    f"the log says {event['entry_hash']}",
                )
        expected_seq, prev = seq + 1, event["entry_hash"]


def check_head(events: list[dict[str, Any]], seq: int, digest: str, chain: str = "") -> Break | None:
    """Whether the chain holds event ``seq`` with hash ``digest`` (a head pinned by an earlier report)."""
    for event in events:
        if event["seq"] == seq:
            if event["entry_hash"] == digest:
                return None
            return Break(
                chain, seq, event.get("id"), f"pinned head hash {digest} but the log has {event['entry_hash']}"
            )
    last = events[-1]["seq"] if events else 0
    return Break(chain, seq, None, f"pinned head seq {seq} is not in the log (it ends at seq {last})")


# --- reading exports ---------------------------------------------------------------------------


def read_export(path: Path) -> dict[str, Any]:
    """An export as ``{"chain", "head", "events"}``, from its JSON or CSV form."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".csv" or not text.lstrip().startswith("{"):
        events = [_event_from_csv_row(row) for row in csv.DictReader(text.splitlines())]
        chain = events[0]["chain"] if events else ""
        head = {"seq": events[-1]["seq"], "entry_hash": events[-1]["entry_hash"]} if events else None
        return {"chain": chain, "head": head, "events": events}
    document = json.loads(text)
    if document.get("format") != EXPORT_FORMAT:
        raise ValueError(f"not a custody log export (format {document.get('format')!r})")
    if document.get("version") != HASH_VERSION:
        raise ValueError(f"export version {document.get('version')!r}; this script verifies version {HASH_VERSION}")
    return document


def _event_from_csv_row(row: dict[str, str]) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": int(row["id"]) if row.get("id") else None,
        "chain": row["chain"],
        "seq": int(row["seq"]),
        "prev_hash": row["prev_hash"],
        "entry_hash": row["entry_hash"],
        "redacted": row["redacted"].strip().lower() in ("1", "true", "yes"),
    }
    if event["redacted"]:
        return event
    for field in ("created_at", "actor_name", "action", "object_type", "object_id", "sha256"):
        event[field] = row[field]
    for field in _INT_OR_NULL:
        event[field] = int(row[field]) if row[field] else None
    event["ip"] = row["ip"] or None
    event["detail"] = json.loads(row["detail"]) if row["detail"] else {}
    return event


def event_as_csv_row(event: dict[str, Any]) -> dict[str, Any]:
    """The CSV form of one exported event (the inverse of reading it back)."""
    row = {column: event.get(column) for column in CSV_COLUMNS}
    row["redacted"] = "1" if event.get("redacted") else "0"
    if not event.get("redacted"):
        row["detail"] = canonical_json(event["detail"])
    return {key: "" if value is None else value for key, value in row.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m audit.verify", description=__doc__.split("\n\n")[0])
    parser.add_argument("export", type=Path, help="a custody log export (.json or .csv)")
    parser.add_argument("--head", help="SEQ:SHA256 of a chain head pinned earlier (e.g. printed in a report)")
    args = parser.parse_args(argv)
    try:
        document = read_export(args.export)
    except (OSError, ValueError, KeyError) as exc:
        print(f"cannot read {args.export}: {exc}", file=sys.stderr)
        return 2
    events, chain = document["events"], document.get("chain", "")
    first = next(check_chain(events, chain), None)
    if first is None and document.get("head"):
        head = document["head"]
        first = check_head(events, head["seq"], head["entry_hash"], chain)
    if first is None and args.head:
        seq, _, digest = args.head.partition(":")
        first = check_head(events, int(seq), digest.strip(), chain)
    if first is not None:
        print(f"FAILED {first}")
        return 1
    redacted = sum(1 for event in events if event.get("redacted"))
    last = events[-1] if events else {"seq": 0, "entry_hash": GENESIS_HASH}
    print(
        f"OK chain {chain}: {len(events)} events ({len(events) - redacted} in full, {redacted} redacted links) "
        f"verify from seq 1 to head seq {last['seq']} {last['entry_hash']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
