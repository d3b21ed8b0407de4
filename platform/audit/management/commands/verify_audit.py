"""``manage.py verify_audit``: recompute every custody chain from the database and name the first broken link."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditChainHead, AuditEvent
from audit.verify import GENESIS_HASH, Break, check_chain


def chain_events(chain: str):
    """One chain's events in sequence order, as the dicts audit.verify checks."""
    for event in AuditEvent.objects.filter(chain=chain).order_by("seq", "id").iterator(chunk_size=2000):
        yield {"id": event.pk, **event.chain_content(), "entry_hash": event.entry_hash, "redacted": False}


def verify_chain(chain: str) -> tuple[int, Break | None]:
    """How many events the chain has and its first break (None when it verifies), head row included."""
    last = {"count": 0, "seq": 0, "entry_hash": GENESIS_HASH}

    def counted():
        for event in chain_events(chain):
            last.update(count=last["count"] + 1, seq=event["seq"], entry_hash=event["entry_hash"])
            yield event

    first = next(check_chain(counted(), chain), None)
    if first is None:
        head = AuditChainHead.objects.filter(chain=chain).first()
        head_seq, head_hash = (head.seq, head.entry_hash) if head else (0, GENESIS_HASH)
        if (head_seq, head_hash) != (last["seq"], last["entry_hash"]):
            first = Break(
                chain,
                head_seq,
                None,
                f"the chain head says seq {head_seq} {head_hash} but the last event is seq {last['seq']} "
                f"{last['entry_hash']} (events at the end were removed, or the head was rewritten)",
            )
    return last["count"], first


class Command(BaseCommand):
    help = "Recompute the custody log's hash chains; exit 1 naming the first broken link of each broken chain."

    def add_arguments(self, parser):
        parser.add_argument("--chain", action="append", help="only this chain (e.g. team:3); repeatable")

    def handle(self, *args, chain=None, **options):
        chains = chain or sorted(
            set(AuditEvent.objects.values_list("chain", flat=True).distinct())
            | set(AuditChainHead.objects.values_list("chain", flat=True))
        )
        broken = 0
        for name in chains:
            count, first = verify_chain(name)
            if first is None:
                head = AuditChainHead.objects.filter(chain=name).first()
                head = head or AuditChainHead(chain=name)
                self.stdout.write(f"OK {name}: {count} events, head seq {head.seq} {head.entry_hash}")
            else:
                broken += 1
                self.stdout.write(f"BROKEN {first}")
        if broken:
            raise CommandError(f"{broken} of {len(chains)} custody chains do not verify", returncode=1)
        self.stdout.write(f"all {len(chains)} custody chains verify")
