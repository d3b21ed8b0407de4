"""Request body parsers of the API: DRF's, with JSON nesting bounded."""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, answering a body nested too deeply for Python's decoder with a 400.

    ``json.loads`` recurses once per nesting level and raises RecursionError (not the ValueError DRF
    turns into a 400) about a thousand levels down: ``"[" * 5000`` is a 5 kB body, well under every size
    limit, that was a 500. No request of this API nests more than a few levels.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - the body is nested too deeply.") from exc
