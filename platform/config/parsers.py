"""Request body parsers of the API: DRF's, with JSON nesting bounded and numbers finite."""

from __future__ import annotations

import math

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def non_finite_number_in(document) -> bool:
    """Whether a parsed JSON document holds an infinite float anywhere (iteratively: no recursion)."""
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return True
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, answering with a 400 two bodies that got past it and failed later as 500s.

    Nesting: ``json.loads`` recurses once per level and raises RecursionError (not the ValueError DRF
    turns into a 400) about a thousand levels down; ``"[" * 5000`` is a 5 kB body, under every size
    limit. Numbers: ``1e999`` parses as an infinite float (NaN and Infinity are refused by DRF's strict
    mode, this is not), which a primary-key or integer field then fails to convert with OverflowError.
    No request of this API nests more than a few levels or needs a number beyond a float's range.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            document = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - the body is nested too deeply.") from exc
        if non_finite_number_in(document):
            raise ParseError("JSON parse error - a number is out of range.")
        return document
