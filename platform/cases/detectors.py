"""The shipped detectors as people choose them: what each looks for and how its model card says it did.

Workers record them (they have the weights and the cards; the web process has neither): at start-up the whole
catalogue (``detector.ensemble.shipped_catalogue``), and with each result the cards of the detectors that ran.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction

from cases.models import DetectorCard
from detector import contract

CATALOGUE_FIELDS = ("kind", "kind_name", "default_for", "sha256", "card")


def record_catalogue(entries: list[dict[str, Any]]) -> None:
    """Upsert each entry (``name`` plus ``CATALOGUE_FIELDS``): the newest recording of a name wins."""
    with transaction.atomic():
        for entry in entries:
            defaults = {key: entry[key] for key in CATALOGUE_FIELDS if entry.get(key) is not None}
            DetectorCard.objects.update_or_create(name=entry["name"], defaults=defaults)


def record_ran(detectors: list[contract.DetectorInfo]) -> None:
    """The cards of the trained detectors a result names: the weights that really ran, with their card."""
    record_catalogue(
        [
            {
                "name": d.name,
                "kind": d.kind,
                "kind_name": contract.KIND_NAMES[contract.ManipulationKind(d.kind)],
                "default_for": [m for m in ("video", "image") if d.name in contract.default_detectors(m)],
                "sha256": d.sha256 or "",
                "card": d.card,
            }
            for d in detectors
            if d.trained
        ]
    )


def choosable_detectors() -> list[dict[str, Any]]:
    """Every detector a job may name (settings.ANALYSIS_DETECTORS), in that order, with what a worker recorded
    about it; one no worker has described yet is listed by name, with ``recorded`` false."""
    known = {card.name: card for card in DetectorCard.objects.filter(name__in=settings.ANALYSIS_DETECTORS)}
    out = []
    for name in settings.ANALYSIS_DETECTORS:
        card = known.get(name)
        out.append(
            {
                "name": name,
                "recorded": card is not None,
                "kind": card.kind if card else "",
                "kind_name": card.kind_name if card else "",
                "default_for": card.default_for
                if card
                else [m for m in ("video", "image") if name in contract.default_detectors(m)],
                "sha256": card.sha256 if card else "",
                "card": card.card if card else {},
            }
        )
    return out
