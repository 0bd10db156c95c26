"""Declared config keys and the reader that fetches them with provenance.

A family declares each key it reads as a `Field`: the output name moecfg reports it under, the
Hugging Face key, its aliases, its type and the family's transformers default. `Reader.get`
is the only way adapters read the raw dict, so every value carries how it was found and every
bad value fails with the key named. Because the declarations are data, `moecfg families`
lists them and cannot drift from what the adapters do.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from moecfg.errors import ConfigError
from moecfg.loading.jsonparse import NonFinite, json_type_name


class _Required:
    def __repr__(self) -> str:
        return "required"


#: Default for a key the config must carry: its absence is an error, never a guess.
REQUIRED: Any = _Required()

#: The kinds a Field can hold, with the words error messages use for them.
KIND_NAMES = {
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "str": "a string",
    "int_list": "an array of integers",
    "str_list": "an array of strings",
    "int_or_int_list": "an integer or an array of integers",
    "int_or_str": "an integer or a string",
    "bool_or_str": "a boolean or a string",
    "object": "an object",
}


@dataclass(frozen=True, slots=True)
class Field:
    """One config key as a family reads it."""

    name: str  #: where moecfg reports it, e.g. "moe.num_experts"
    key: str  #: the Hugging Face key, e.g. "num_local_experts"; dots walk into nested objects
    kind: str = "int"
    default: Any = REQUIRED
    aliases: tuple[str, ...] = ()
    #: Smallest allowed value for numbers (1 for sizes, 0 for counts that may be zero).
    minimum: float | None = None
    #: Whether JSON null is accepted (it then reads as None, as transformers would see it).
    nullable: bool = False
    #: Read from the config's top level even when the family's keys sit under `text_config`
    #: (Qwen3-VL-MoE ties its embeddings by the outer `tie_word_embeddings`).
    top_level: bool = False

    def with_default(self, default: Any) -> Field:
        return Field(
            self.name, self.key, self.kind, default, self.aliases, self.minimum, self.nullable,
            self.top_level,
        )


def size(name: str, key: str, default: Any = REQUIRED, aliases: tuple[str, ...] = ()) -> Field:
    """A positive integer dimension."""
    return Field(name, key, "int", default, aliases, minimum=1)


def count(name: str, key: str, default: Any = REQUIRED, aliases: tuple[str, ...] = ()) -> Field:
    """A non-negative integer count."""
    return Field(name, key, "int", default, aliases, minimum=0)


def flag(name: str, key: str, default: Any = REQUIRED, aliases: tuple[str, ...] = ()) -> Field:
    return Field(name, key, "bool", default, aliases)


_MISSING = object()


def lookup(data: Mapping[str, Any], dotted: str) -> Any:
    """Fetch `a.b.c` from nested objects, or _MISSING."""
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def has_key(data: Mapping[str, Any], dotted: str) -> bool:
    """Whether `a.b.c` is present in nested objects (Field keys may walk into objects)."""
    return lookup(data, dotted) is not _MISSING


def describe(value: Any) -> str:
    """A value as a message shows it: its JSON type and a short rendering."""
    if isinstance(value, NonFinite):
        return repr(value)
    if isinstance(value, (dict, list)):
        return json_type_name(value)
    shown = repr(value) if not isinstance(value, str) else '"' + value[:40] + '"'
    if isinstance(value, bool):
        shown = "true" if value else "false"
    if value is None:
        return "null"
    return f"{json_type_name(value)} ({shown})"


#: No real model has a dimension or count near these; past them a value is a typo or hostile,
#: and would only make the arithmetic and per-layer tables huge (bounded time and memory).
MAX_INTEGER = 2**40
MAX_LAYERS = 100_000


def _check_number(key: str, value: Any, kind: str, minimum: float | None) -> Any:
    if isinstance(value, NonFinite) or (isinstance(value, float) and not math.isfinite(value)):
        raise ConfigError(
            f"invalid value for '{key}': {describe(value)} is not a finite number",
            key=key,
            code="non_finite",
        )
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(
                f"wrong type for '{key}': expected an integer, got {describe(value)}",
                key=key,
                code="wrong_type",
            )
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(
            f"wrong type for '{key}': expected a number, got {describe(value)}",
            key=key,
            code="wrong_type",
        )
    if minimum is not None and value < minimum:
        need = "positive" if minimum == 1 else f"at least {minimum:g}"
        raise ConfigError(
            f"invalid value for '{key}': must be {need}, got {value}", key=key, code="out_of_range"
        )
    if kind == "int" and abs(value) > MAX_INTEGER:
        raise ConfigError(
            f"invalid value for '{key}': {value} is beyond any real model (at most {MAX_INTEGER:,})",
            key=key,
            code="out_of_range",
        )
    return value


def check_layer_count(key: str, layers: int) -> None:
    """Per-layer tables are built for every layer, so the count is bounded like a size."""
    if layers > MAX_LAYERS:
        raise ConfigError(
            f"invalid value for '{key}': {layers} layers is beyond any real model "
            f"(at most {MAX_LAYERS:,})",
            key=key,
            code="out_of_range",
        )


def check_value(key: str, value: Any, kind: str, minimum: float | None = None) -> Any:
    """Validate one value against a Field kind; lists come back as tuples."""
    if kind in ("int", "float"):
        return _check_number(key, value, kind, minimum)
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(
                f"wrong type for '{key}': expected a boolean, got {describe(value)}",
                key=key,
                code="wrong_type",
            )
        return value
    if kind == "str":
        if not isinstance(value, str):
            raise ConfigError(
                f"wrong type for '{key}': expected a string, got {describe(value)}",
                key=key,
                code="wrong_type",
            )
        return value
    if kind == "object":
        if not isinstance(value, Mapping):
            raise ConfigError(
                f"wrong type for '{key}': expected an object, got {describe(value)}",
                key=key,
                code="wrong_type",
            )
        return value
    if kind == "bool_or_str":
        # A switch that may also name its mode (Laguna's `gating`: true or "per-element").
        if not isinstance(value, (bool, str)):
            raise ConfigError(
                f"wrong type for '{key}': expected {KIND_NAMES[kind]}, got {describe(value)}",
                key=key,
                code="wrong_type",
            )
        return value
    if kind == "int_or_str":
        # A size that may also be a word such as "auto" (Jamba's mamba_dt_rank).
        return value if isinstance(value, str) else _check_number(key, value, "int", minimum)
    if kind == "int_or_int_list" and not isinstance(value, list):
        return _check_number(key, value, "int", minimum)
    if kind in ("int_list", "int_or_int_list", "str_list"):
        if not isinstance(value, list):
            raise ConfigError(
                f"wrong type for '{key}': expected {KIND_NAMES[kind]}, got {describe(value)}",
                key=key,
                code="wrong_type",
            )
        item_kind = "str" if kind == "str_list" else "int"
        return tuple(
            check_value(f"{key}[{i}]", item, item_kind, minimum) for i, item in enumerate(value)
        )
    raise AssertionError(f"unknown field kind {kind!r}")


class Reader:
    """Reads declared Fields from one config object, recording how each value was found."""

    def __init__(
        self,
        data: Mapping[str, Any],
        fields: Mapping[str, Field],
        *,
        scope: str = "",
        root: Mapping[str, Any] | None = None,
    ) -> None:
        self.data = data
        self.fields = fields
        self.scope = scope  #: prefix for key names in messages, e.g. "text_config."
        #: The whole config, where `top_level` fields are read; `data` when nothing is nested.
        self.root = data if root is None else root
        self.provenance: dict[str, str] = {}
        #: Output field → the config key its value was read from (scoped, e.g. text_config.x).
        self.keys: dict[str, str] = {}
        self.warnings: list[str] = []

    def key_name(self, key: str) -> str:
        return self.scope + key

    def _source(self, spec: Field) -> tuple[Mapping[str, Any], str]:
        """The object a field is read from, and the prefix its key names get in messages."""
        return (self.root, "") if spec.top_level else (self.data, self.scope)

    def has(self, name: str) -> bool:
        """Whether the config carries the field under its key or any alias."""
        spec = self.fields[name]
        data, _ = self._source(spec)
        return any(has_key(data, k) for k in (spec.key, *spec.aliases))

    def get(self, name: str) -> Any:
        """The field's value: from the key, an alias, or the family default; else an error."""
        spec = self.fields[name]
        data, scope = self._source(spec)
        found: list[tuple[str, Any]] = []
        for key in (spec.key, *spec.aliases):
            value = lookup(data, key)
            if value is not _MISSING:
                found.append((key, value))
        if not found:
            if spec.default is REQUIRED:
                raise ConfigError(
                    f"missing required key '{scope + spec.key}'",
                    key=scope + spec.key,
                    code="missing_key",
                )
            self.provenance[name] = "default"
            return spec.default
        key, value = found[0]
        for other_key, other_value in found[1:]:
            if other_value != value or type(other_value) is not type(value):
                raise ConfigError(
                    f"conflicting values for '{scope + key}' ({describe(value)}) and its "
                    f"alias '{scope + other_key}' ({describe(other_value)})",
                    key=scope + key,
                    code="alias_conflict",
                )
        self.provenance[name] = "present" if key == spec.key else f"alias:{scope + key}"
        self.keys[name] = scope + key
        if value is None:
            if spec.nullable:
                return None
            raise ConfigError(
                f"wrong type for '{scope + key}': expected {KIND_NAMES[spec.kind]}, got null",
                key=scope + key,
                code="wrong_type",
            )
        checked = check_value(scope + key, value, spec.kind, spec.minimum)
        if name == "base.num_hidden_layers":
            check_layer_count(scope + key, checked)
        return checked

    def derived(self, name: str, value: Any) -> Any:
        """Record a value computed from other fields (e.g. head_dim = hidden / heads)."""
        self.provenance[name] = "derived"
        return value

    def defaulted(self, name: str, value: Any) -> Any:
        """Record a value filled from the family's transformers behaviour."""
        self.provenance[name] = "default"
        return value

    def invalid(self, key: str, message: str) -> ConfigError:
        """An impossible value, named by its key."""
        return ConfigError(
            f"invalid value for '{self.key_name(key)}': {message}",
            key=self.key_name(key),
            code="invalid_value",
        )
