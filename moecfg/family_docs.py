"""What `moecfg families` says: every supported family and the keys it reads, from the adapters.

The listing is generated from each `Family` and its `Field` table, the same data the adapters
read configs with, so the documentation cannot drift from the behaviour.
"""

from __future__ import annotations

from typing import Any

from moecfg.families import CORE_FIELDS, FAMILIES
from moecfg.families.base import Family
from moecfg.families.fields import REQUIRED, Field

SCHEMA_VERSION = 1


def _json_value(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def shown_key(family: Family, key: str, field: Field) -> str:
    """The key as a config spells it: nested keys carry the family's `text_config.` prefix."""
    if family.text_config is None or field.top_level:
        return key
    return f"{family.text_config}.{key}"


def field_entry(family: Family, field: Field) -> dict[str, Any]:
    # A core key's class default describes the reference checkpoint: inspect never uses it.
    required = field.default is REQUIRED or field.name in CORE_FIELDS
    return {
        "name": field.name,
        "key": shown_key(family, field.key, field),
        "aliases": [shown_key(family, alias, field) for alias in field.aliases],
        "kind": field.kind,
        "required": required,
        "default": None if required else _json_value(field.default),
    }


def family_entry(family: Family) -> dict[str, Any]:
    return {
        "model_type": family.model_type,
        "summary": family.summary,
        "is_moe": family.is_moe,
        "architectures": list(family.architectures),
        "text_config": family.text_config,
        "excluded": list(family.excluded),
        "fields": [field_entry(family, field) for field in family.fields.values()],
    }


def families_report() -> dict[str, Any]:
    """Every supported family, sorted by model_type, as plain JSON-able data."""
    return {
        "schema_version": SCHEMA_VERSION,
        "families": [family_entry(FAMILIES[name]) for name in sorted(FAMILIES)],
    }


def default_text(entry: dict[str, Any]) -> str:
    """A field's default as the listing shows it."""
    if entry["required"]:
        return "required"
    value = entry["default"]
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
