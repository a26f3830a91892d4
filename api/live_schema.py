"""The live events (``mirror.events``) in the OpenAPI document.

A WebSocket route has no place in OpenAPI 3.1, so the event types ``/api/live`` sends
are added as schema components (``LiveEvent`` and each struct it is one of), converted
from msgspec's own JSON Schema; ``GET /api/live/schema`` answers the same as JSON Schema.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.openapi.spec import Discriminator, OpenAPIType, Reference, Schema

from mirror.events import LiveEvent

REF = "#/components/schemas/{name}"

_KEYS = {
    "title": "title",
    "description": "description",
    "enum": "enum",
    "const": "const",
    "required": "required",
    "default": "default",
    "format": "format",
    "minimum": "minimum",
    "maximum": "maximum",
}


def _schema(node: dict[str, Any]) -> Schema | Reference:
    if "$ref" in node:
        return Reference(ref=node["$ref"])
    fields: dict[str, Any] = {_KEYS[k]: v for k, v in node.items() if k in _KEYS}
    if "type" in node:
        kind = node["type"]
        fields["type"] = (
            [OpenAPIType(t) for t in kind] if isinstance(kind, list) else OpenAPIType(kind)
        )
    for key, name in (("anyOf", "any_of"), ("oneOf", "one_of"), ("allOf", "all_of")):
        if key in node:
            fields[name] = [_schema(n) for n in node[key]]
    if "properties" in node:
        fields["properties"] = {k: _schema(v) for k, v in node["properties"].items()}
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        fields["additional_properties"] = _schema(extra)
    elif isinstance(extra, bool):
        fields["additional_properties"] = extra
    if "items" in node:
        fields["items"] = _schema(node["items"])
    if "discriminator" in node:
        d = node["discriminator"]
        fields["discriminator"] = Discriminator(
            property_name=d["propertyName"], mapping=d.get("mapping")
        )
    return Schema(**fields)


def _definition(node: dict[str, Any]) -> Schema:
    """A component: a definition, never a bare ``$ref``."""
    schema = _schema(node)
    if not isinstance(schema, Schema):
        raise TypeError(f"a component must define a schema, not refer to one: {node}")
    return schema


def live_components() -> dict[str, Schema]:
    """``LiveEvent`` (a discriminated union on ``type``) and the structs it is one of."""
    (union,), found = msgspec.json.schema_components([LiveEvent], ref_template=REF)
    schemas = {name: _definition(node) for name, node in found.items()}
    union = {
        **union,
        "description": "One message of GET /api/live (a WebSocket; ?batch=true: an array).",
    }
    schemas["LiveEvent"] = _definition(union)
    return schemas
