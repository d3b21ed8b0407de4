"""Verify an exported custody log: ``python -m audit.verify export.json`` (or ``export.csv``).

This one file is the whole definition of the custody chain's hashes, and it uses only the Python
standard library, so a third party can copy it and check an export without the platform. The platform
hashes events with these same functions (``audit.models``), so what is verified here is what was written.

Hash version 2. Every event is a link of its team's chain, and every link is recomputable whether or
not its content is shown::

    content_hash = sha256("forensics-custody-log/2/content\\n" + canonical JSON of salt + CONTENT_FIELDS)
    entry_hash   = sha256("forensics-custody-log/2/link\\n" + canonical JSON of chain, seq, prev_hash, content_hash)

An export made for one case or job carries the whole chain of its team: the events about that case in
full (their content is hashed here), every other event as a redacted link that carries its content's
digest instead of its content. So each link's ``entry_hash`` is recomputed from its predecessor's hash,
and no link can be changed, dropped, repeated or moved without breaking every later one. The salt (random,
per event, shown only with the content) keeps a redacted event's digest from confirming a guess of it.

What a chain alone cannot prove is that it was not rewritten from the start: pin it with a chain head
quoted earlier (a report prints one): ``--head SEQ:HASH`` checks that the export holds that event with
that hash.

Exit status: 0 when the chain verifies, 1 when a link is broken (the first one is named), 2 when
the file cannot be read (or is not a version 2 export).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXPORT_FORMAT = "forensics-custody-log"
HASH_VERSION = 2
# The first event of every chain names this as its predecessor.
GENESIS_HASH = "0" * 64
# Where a link is: hashed with the content's digest into the link's entry_hash.
LINK_FIELDS = ("chain", "seq", "prev_hash")
# What an event says, hashed (with its salt) into its content_hash; shown only when it is not redacted.
CONTENT_FIELDS = (
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
SALT_FIELD = "salt"
# Columns of a CSV export: the row id, the link, the content, the two hashes, whether it is redacted.
CSV_COLUMNS = ("id", *LINK_FIELDS, SALT_FIELD, *CONTENT_FIELDS, "content_hash", "entry_hash", "redacted")
_INT_OR_NULL = ("actor_id", "team_id")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def format_timestamp(moment: dt.datetime) -> str:
    """The one text form of a time that is hashed: UTC, microseconds, a Z."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> str:
    """Key-sorted, no whitespace, ASCII only: the same bytes for the same content everywhere."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def _sha256(kind: str, body: dict[str, Any]) -> str:
    payload = f"{EXPORT_FORMAT}/{HASH_VERSION}/{kind}\n{canonical_json(body)}"
    return hashlib.sha256(payload.encode("ascii")).hexdigest()


def content_hash(event: dict[str, Any]) -> str:
    """sha256 of what an event says (its salt and ``CONTENT_FIELDS``), without where it is in the chain."""
    return _sha256("content", {field: event[field] for field in (SALT_FIELD, *CONTENT_FIELDS)})


def link_hash(chain: str, seq: int, prev_hash: str, content_digest: str) -> str:
    """sha256 of a link: its chain, its place, its predecessor's hash and its content's digest."""
    return _sha256("link", {"chain": chain, "seq": seq, "prev_hash": prev_hash, "content_hash": content_digest})


def entry_hash(event: dict[str, Any]) -> str:
    """An event's hash from its full content (``LINK_FIELDS``, salt and ``CONTENT_FIELDS``)."""
    return link_hash(event["chain"], event["seq"], event["prev_hash"], content_hash(event))


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


def _malformed(event: dict[str, Any], name: str) -> str | None:
    """Why an exported link cannot be checked at all, or None."""
    if type(event.get("seq")) is not int:
        return f"seq {event.get('seq')!r} is not a whole number"
    if event.get("chain") != name:
        return f"event belongs to chain {event.get('chain')!r}"
    for field in ("prev_hash", "entry_hash"):
        if not isinstance(event.get(field), str) or not _SHA256.fullmatch(event[field]):
            return f"{field} {event.get(field)!r} is not a sha256 in lower-case hex"
    redacted = event.get("redacted")
    if type(redacted) is not bool:
        return f"redacted is {redacted!r}: it must be true or false (in JSON a boolean, in CSV 1 or 0)"
    digest = event.get("content_hash")
    if (redacted or digest is not None) and (not isinstance(digest, str) or not _SHA256.fullmatch(digest)):
        return f"content_hash {digest!r} is not a sha256 in lower-case hex"
    if redacted:
        shown = [field for field in (SALT_FIELD, *CONTENT_FIELDS) if field in event]
        if shown:
            return f"a redacted link carries content ({', '.join(shown)}): its content is not what it hashes"
    else:
        missing = [field for field in (SALT_FIELD, *CONTENT_FIELDS) if field not in event]
        if missing:
            return f"an event shown in full lacks {', '.join(missing)}"
    return None


def check_chain(events: Iterable[dict[str, Any]], chain: str = "") -> Iterator[Break]:
    """Every broken link of one chain, given its events in sequence order.

    An event is a dict with ``LINK_FIELDS``, ``entry_hash`` and ``redacted`` (true or false); a redacted
    one carries ``content_hash`` and nothing of its content, an event in full its salt and every one of
    ``CONTENT_FIELDS``. A missing sequence number is reported as a gap, a repeated or moved one as out of
    order; an event whose content no longer hashes to its hashes as changed; one that does not name its
    predecessor's hash, or whose link does not hash to its ``entry_hash``, as a broken link.
    """
    expected_seq, prev = 1, GENESIS_HASH
    for event in events:
        seq, event_id = event.get("seq"), event.get("id")
        name = chain or str(event.get("chain", ""))
        malformed = _malformed(event, name)
        if malformed is not None:
            yield Break(name, seq if type(seq) is int else None, event_id, malformed)
            # Nothing after it can be checked against it.
            return
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
        if event["redacted"]:
            digest = event["content_hash"]
        else:
            digest = content_hash(event)
            if event.get("content_hash", digest) != digest:
                yield Break(
                    name,
                    seq,
                    event_id,
                    f"content was changed after it was written: it hashes to {digest}, "
                    f"the log says {event['content_hash']}",
                )
        recomputed = link_hash(name, seq, event["prev_hash"], digest)
        if recomputed != event["entry_hash"]:
            what = (
                "its seq, prev_hash or content_hash was changed"
                if event["redacted"]
                else "content was changed after it was written"
            )
            yield Break(
                name, seq, event_id, f"{what}: the link hashes to {recomputed}, the log says {event['entry_hash']}"
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


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        # Readers disagree on which of two values counts; an export never has two.
        raise ValueError(f"the key {repeated[0]!r} appears twice in one object")
    return dict(pairs)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _json(text: str) -> Any:
    return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)


def read_export(path: Path) -> dict[str, Any]:
    """An export as ``{"chain", "head", "events"}``, from its JSON or CSV form."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".csv" or not text.lstrip().startswith("{"):
        reader = csv.DictReader(text.splitlines())
        if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
            raise ValueError(
                f"the columns are not those of a version {HASH_VERSION} export ({', '.join(CSV_COLUMNS)}); "
                "export the log again from the platform"
            )
        events = [_event_from_csv_row(row) for row in reader]
        chain = events[0]["chain"] if events else ""
        head = {"seq": events[-1]["seq"], "entry_hash": events[-1]["entry_hash"]} if events else None
        return {"chain": chain, "head": head, "events": events}
    document = _json(text)
    if document.get("format") != EXPORT_FORMAT:
        raise ValueError(f"not a custody log export (format {document.get('format')!r})")
    if document.get("version") != HASH_VERSION:
        raise ValueError(
            f"export version {document.get('version')!r}; this script verifies version {HASH_VERSION} "
            "(an older export cannot prove its redacted links: export the log again from the platform)"
        )
    if not isinstance(document.get("events"), list) or not all(isinstance(e, dict) for e in document["events"]):
        raise ValueError("the export has no list of events")
    head = document.get("head")
    if head is not None and (
        not isinstance(head, dict) or type(head.get("seq")) is not int or not isinstance(head.get("entry_hash"), str)
    ):
        raise ValueError(f"the export's head {head!r} is not a seq and a hash")
    return document


def _event_from_csv_row(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row as the dict an export's JSON holds; a row that is not well formed is kept as it is, so
    ``check_chain`` names it at its place in the chain."""
    event: dict[str, Any] = {
        "id": int(row["id"]) if row["id"].isdigit() else row["id"] or None,
        "chain": row["chain"],
        "seq": int(row["seq"]) if row["seq"].isdigit() else row["seq"],
        "prev_hash": row["prev_hash"],
        "entry_hash": row["entry_hash"],
        "redacted": {"1": True, "0": False}.get(row["redacted"], row["redacted"]),
    }
    if row["content_hash"]:
        event["content_hash"] = row["content_hash"]
    content = [SALT_FIELD, *CONTENT_FIELDS]
    if event["redacted"] is True:
        # A redacted row has empty content cells; any that is not is carried on (and refused).
        content = [field for field in content if row[field]]
    for field in content:
        value = row[field]
        if field in _INT_OR_NULL:
            event[field] = int(value) if value.isdigit() else value or None
        elif field == "ip":
            event[field] = value or None
        elif field == "detail":
            event[field] = _json(value) if value else {}
        else:
            event[field] = value
    return event


def event_as_csv_row(event: dict[str, Any]) -> dict[str, Any]:
    """The CSV form of one exported event (the inverse of reading it back)."""
    row = {column: event.get(column) for column in CSV_COLUMNS}
    row["redacted"] = "1" if event["redacted"] else "0"
    if not event["redacted"]:
        row["detail"] = canonical_json(event["detail"])
    return {key: "" if value is None else value for key, value in row.items()}


def pinned_head(text: str) -> tuple[int, str]:
    """``SEQ:SHA256`` as given to ``--head``."""
    seq, _, digest = text.partition(":")
    if not seq.strip().isdigit() or not _SHA256.fullmatch(digest.strip().lower()):
        raise argparse.ArgumentTypeError(f"{text!r} is not SEQ:SHA256")
    return int(seq), digest.strip().lower()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m audit.verify", description=__doc__.split("\n\n")[0])
    parser.add_argument("export", type=Path, help="a custody log export (.json or .csv)")
    parser.add_argument(
        "--head", type=pinned_head, help="SEQ:SHA256 of a chain head pinned earlier (e.g. printed in a report)"
    )
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
        first = check_head(events, *args.head, chain)
    if first is not None:
        print(f"FAILED {first}")
        return 1
    redacted = sum(1 for event in events if event["redacted"])
    last = events[-1] if events else {"seq": 0, "entry_hash": GENESIS_HASH}
    pinned = (
        f"; holds the pinned head seq {args.head[0]}"
        if args.head
        else " (not pinned: a log rewritten from its first event verifies too; pin it with --head from a report)"
    )
    print(
        f"OK chain {chain}: {len(events)} events ({len(events) - redacted} in full, {redacted} redacted links) "
        f"verify from seq 1 to head seq {last['seq']} {last['entry_hash']}{pinned}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
