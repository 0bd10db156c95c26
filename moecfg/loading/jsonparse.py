"""Parse untrusted JSON bytes into a dict, with every failure a one-line ConfigError.

The standard library parser is kept (it is fast and exact) but hardened: non-finite
literals (NaN, Infinity) become markers the key reader rejects by name, duplicate keys
are recorded instead of silently keeping the last one, and deep nesting or huge integers
become errors instead of crashes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from moecfg.errors import ConfigError


class NonFinite(float):
    """A NaN/Infinity literal from the file; the key reader names the key that holds it."""

    def __new__(cls, literal: str) -> NonFinite:
        value = super().__new__(cls, float(literal.replace("Infinity", "inf")))
        value.literal = literal  # type: ignore[attr-defined]
        return value

    def __repr__(self) -> str:
        return self.literal  # type: ignore[attr-defined,no-any-return]


@dataclass(frozen=True, slots=True)
class ParsedJson:
    data: dict[str, Any]
    duplicate_keys: tuple[str, ...]


def parse_json_bytes(payload: bytes) -> ParsedJson:
    """Decode UTF-8 (a BOM is tolerated) and parse one JSON object."""
    try:
        text = payload.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"not UTF-8 text (invalid byte 0x{payload[exc.start]:02x} at offset {exc.start})",
            code="not_utf8",
        ) from None
    duplicates: list[str] = []

    def collect_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        for key, value in pairs:
            if key in obj and key not in duplicates:
                duplicates.append(key)
            obj[key] = value
        return obj

    try:
        data = json.loads(text, object_pairs_hook=collect_pairs, parse_constant=NonFinite)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", code="not_json"
        ) from None
    except RecursionError:
        raise ConfigError("not valid JSON: nested too deeply", code="not_json") from None
    except ValueError as exc:  # e.g. an integer literal beyond Python's digit limit
        raise ConfigError(f"not valid JSON: {exc}", code="not_json") from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"JSON top level is {json_type_name(data)}, expected an object", code="not_object"
        )
    return ParsedJson(data=data, duplicate_keys=tuple(duplicates))


def json_type_name(value: Any) -> str:
    """The JSON name of a parsed value's type, with an article, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
