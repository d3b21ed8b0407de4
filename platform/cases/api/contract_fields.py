"""OpenAPI shapes of the analysis contract's JSON, derived from detector.contract's dataclasses.

The worker stores parts of an AnalysisResult as JSON (a job's detector set and diagnostics, a
verdict's tracks); these fields describe them in the schema from the dataclasses themselves, so
the generated dashboard types follow the contract without a second copy of its fields.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from enum import Enum
from functools import cache
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

_SCALARS: dict[type, type[serializers.Field]] = {
    bool: serializers.BooleanField,
    int: serializers.IntegerField,
    float: serializers.FloatField,
    str: serializers.CharField,
}


def _field_for(hint: Any, **kwargs: Any) -> serializers.Field:
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        (inner,) = args  # Optional[X] only
        return _field_for(inner, allow_null=True, **kwargs)
    origin = typing.get_origin(hint) or hint
    if origin is list:
        return serializers.ListField(child=_field_for(args[0]), **kwargs)
    if origin is dict:
        value = args[1] if len(args) == 2 else Any
        return serializers.DictField(child=_field_for(value) if value is not Any else serializers.JSONField(), **kwargs)
    if dataclasses.is_dataclass(origin):
        return serializer_for(origin)(**kwargs)
    if isinstance(origin, type) and issubclass(origin, Enum):
        return serializers.ChoiceField(choices=[m.value for m in origin], **kwargs)
    if origin in _SCALARS:
        return _SCALARS[origin](**kwargs)
    return serializers.JSONField(**kwargs)


def _has_no_default(f: dataclasses.Field) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


@cache
def serializer_for(cls: type) -> type[serializers.Serializer]:
    """A Serializer with the dataclass's JSON keys (``JSON_KEYS`` renames a field), for the schema."""
    hints = typing.get_type_hints(cls)
    renamed = getattr(cls, "JSON_KEYS", {})
    # A field with a default may be missing from stored JSON (a job's diagnostics are {} until it ends).
    fields = {
        renamed.get(f.name, f.name): _field_for(hints[f.name], required=_has_no_default(f))
        for f in dataclasses.fields(cls)
    }
    return type(f"{cls.__name__}Serializer", (serializers.Serializer,), fields)


def contract_json_field(cls: type, many: bool = False, **kwargs: Any) -> serializers.JSONField:
    """A model JSONField holding a ``cls`` (or a list of them), documented with its contract shape."""
    shape = serializer_for(cls)(many=many)
    documented = extend_schema_field(shape)(type(f"{cls.__name__}JSONField", (serializers.JSONField,), {}))
    return documented(read_only=True, **kwargs)
