"""LINE's OpenAPI 3.0 schemas, rewritten as JSON Schema 2020-12 that jsonschema fully enforces.

Three OpenAPI specifics need rewriting:
- `$ref: "#/components/schemas/X"` points into the OpenAPI document; the rewritten schemas live
  under `$defs`, so refs become `#/$defs/X`.
- `nullable: true` is OpenAPI-only; JSON Schema says `type: [T, "null"]`.
- `discriminator` is only a note to JSON-schema validators, so a Flex message with a wrong
  `type` or without `altText` would pass. Each discriminator with a `mapping` becomes an
  explicit dispatch on the tag (see `_enforce_discriminator`).

Loading and compiling is cached per process: the spec is read once per path.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from .limits import Problem

_OPENAPI_REF = "#/components/schemas/"
_DEFS_REF = "#/$defs/"
_MAX_MESSAGE = 300  # jsonschema quotes the offending instance; a 30 KB bubble is no help


@functools.cache
def definitions(spec_path: Path) -> dict[str, Any]:
    """The spec's `components.schemas` as JSON Schema `$defs`, discriminators enforced."""
    with spec_path.open(encoding="utf-8") as spec_file:
        spec = yaml.load(spec_file, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    schemas = {
        name: _to_json_schema(schema) for name, schema in spec["components"]["schemas"].items()
    }
    for name in [name for name, schema in schemas.items() if _mapping(schema)]:
        _enforce_discriminator(schemas, name)
    return schemas


@functools.cache
def validator(spec_path: Path, name: str) -> Draft202012Validator:
    """A compiled validator for the spec's schema `name`, e.g. `PushMessageRequest`."""
    return Draft202012Validator({"$defs": definitions(spec_path), "$ref": _DEFS_REF + name})


def problems(spec_path: Path, name: str, instance: Any) -> list[Problem]:
    """Every way `instance` breaks the schema `name`, with LINE-style property paths."""
    found = [
        Problem(property_path(error.absolute_path), _shorten(error.message))
        for error in validator(spec_path, name).iter_errors(instance)
    ]
    return sorted(found)


def property_path(parts: Iterable[str | int]) -> str:
    """`["messages", 0, "text"]` -> `messages[0].text`, as LINE writes `details[].property`."""
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path


def _to_json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """One OpenAPI schema object as JSON Schema; walks only the keywords that hold schemas."""
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "nullable":
            continue
        if key == "$ref":
            out[key] = _DEFS_REF + value.removeprefix(_OPENAPI_REF)
        elif key == "properties":
            out[key] = {prop: _to_json_schema(sub) for prop, sub in value.items()}
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [_to_json_schema(sub) for sub in value]
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = _to_json_schema(value)
        else:
            out[key] = value
    if schema.get("nullable") is True and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


def _mapping(schema: dict[str, Any]) -> dict[str, str]:
    return schema.get("discriminator", {}).get("mapping", {})


def _enforce_discriminator(schemas: dict[str, Any], name: str) -> None:
    """Make the parent `name` dispatch on its tag to the mapped schema, which must then hold.

    Equivalent to a `oneOf` over the mapped schemas each forced to its own tag value, but
    written as `if tag == value then $ref child`: jsonschema checks only the matching branch
    (a `oneOf` re-validates every branch at every level of a nested Flex message) and reports
    the child's own errors instead of "not valid under any of the given schemas".

    The mapped schemas extend the parent with `allOf: [{$ref: parent}, ...]`. Pointing them
    at the dispatcher would loop forever, so the parent's own properties move to `<name>__base`
    and the children extend that.
    """
    parent = schemas[name]
    tag = parent["discriminator"]["propertyName"]
    mapping = _mapping(parent)
    base_name = f"{name}__base"
    schemas[base_name] = {key: value for key, value in parent.items() if key != "discriminator"}
    branches = []
    for value, ref in mapping.items():
        child_name = ref.removeprefix(_OPENAPI_REF)
        child = schemas[child_name]
        child["allOf"] = [
            {"$ref": _DEFS_REF + base_name} if sub.get("$ref") == _DEFS_REF + name else sub
            for sub in child.get("allOf", [])
        ]
        # Also pin the tag in the child itself: some schemas refer to a child directly
        # (a carousel's `contents` are FlexBubble), and those must refuse another type too.
        child["required"] = sorted({*child.get("required", []), tag})
        child["properties"] = {**child.get("properties", {}), tag: {"const": value}}
        branches.append(
            {
                "if": {"required": [tag], "properties": {tag: {"const": value}}},
                "then": {"$ref": _DEFS_REF + child_name},
            }
        )
    schemas[name] = {
        "type": "object",
        "required": [tag],
        "properties": {tag: {"enum": list(mapping)}},
        "allOf": branches,
    }


def _shorten(message: str) -> str:
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 3] + "..."
