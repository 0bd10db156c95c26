"""What-if overrides: `--set key=value` edits the composed config before metrics are computed.

Keys are the composed config's own field names (`num_experts`, `base.head_dim`, or the
family's Hugging Face key such as `moe_intermediate_size`). Values are typed and validated
with the same `check_value` the family's reader uses, and the composed config's invariants are
checked again afterwards. Values the family derived from an edited field are derived again
(head_dim from hidden_size / heads, the layer schedule from num_hidden_layers), so a what-if
never leaves the config half-edited.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from moecfg.errors import ConfigError, MoecfgError
from moecfg.families.base import Family
from moecfg.families.fields import Field, check_value
from moecfg.metrics import PER_LAYER_FIELDS
from moecfg.model import FULL_ATTENTION, BaseConfig, ModelConfig, MoeConfig

#: Provenance recorded for a field the user set on the command line.
OVERRIDE = "override"

#: Field annotations a single `key=value` can express, with the kind check_value validates.
_KIND_BY_ANNOTATION = {
    "int": ("int", False),
    "int | None": ("int", True),
    "float": ("float", False),
    "float | None": ("float", True),
    "bool": ("bool", False),
    "bool | None": ("bool", True),
    "str": ("str", False),
    "str | None": ("str", True),
}


class OverrideError(MoecfgError):
    """A `--set` the user gave cannot be applied: a usage problem, so exit 2."""

    code = "override"


@dataclass(frozen=True, slots=True)
class Settable:
    """One field `--set` may edit, with how its value is validated."""

    name: str  #: "moe.num_experts"
    kind: str
    minimum: float | None
    nullable: bool


@dataclass(frozen=True, slots=True)
class Override:
    """One applied `--set`: the field, its new value and the value it replaced."""

    field: str
    value: Any
    was: Any


def settable_fields(config: ModelConfig, family: Family) -> dict[str, Settable]:
    """Every scalar field of the composed config, validated like the family's Field if any."""
    out: dict[str, Settable] = {}
    for part, value in (("base", config.base), ("moe", config.moe)):
        if value is None:
            continue
        for spec in fields(value):
            kind = _KIND_BY_ANNOTATION.get(str(spec.type))
            if kind is None:
                continue  # tuples and mappings (layer schedules, rope scaling) are derived, not set
            name = f"{part}.{spec.name}"
            declared: Field | None = family.fields.get(name)
            minimum = (
                declared.minimum if declared is not None else (0 if kind[0] == "int" else None)
            )
            out[name] = Settable(name, kind[0], minimum, kind[1])
    return out


def _resolve_key(key: str, settable: Mapping[str, Settable], family: Family) -> Settable:
    if key in settable:
        return settable[key]
    for name in settable:
        if name.split(".", 1)[1] == key:
            return settable[name]
    for declared in family.fields.values():
        if key in (declared.key, *declared.aliases) and declared.name in settable:
            return settable[declared.name]
    names = ", ".join(name.split(".", 1)[1] for name in settable)
    raise OverrideError(
        f"--set: unknown key '{key}' (settable: {names})", key=key, code="unknown_key"
    )


def parse_assignment(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise OverrideError(f"--set expects key=value, got '{text}'", code="bad_assignment")
    return key.strip(), value.strip()


def _typed_value(spec: Settable, key: str, text: str) -> Any:
    """JSON spelling (4, 1e6, true, null); a bare word is a string for string fields."""
    try:
        value: Any = json.loads(text)
    except ValueError:
        value = text
    if spec.kind == "str" and not isinstance(value, str) and value is not None:
        value = text
    if value is None:
        if spec.nullable:
            return None
        raise OverrideError(
            f"--set {key}: wrong type for '{key}': expected a value, got null",
            key=key,
            code="wrong_type",
        )
    try:
        checked = check_value(key, value, spec.kind, spec.minimum)
    except ConfigError as error:
        raise OverrideError(f"--set {key}: {error.message}", key=key, code=error.code) from None
    return float(checked) if spec.kind == "float" else checked


def _period(sequence: Sequence[Any]) -> int:
    """The smallest period the second half of a layer schedule repeats with."""
    n = len(sequence)
    for period in range(1, n):
        if all(sequence[j] == sequence[j - period] for j in range(n // 2 + period, n)):
            return period
    return max(n, 1)


def resize_schedule(schedule: Sequence[Any], layers: int) -> tuple[Any, ...]:
    """Per-layer facts for a new layer count: truncated, or extended by the schedule's period.

    Family schedules are functions of the layer index (Qwen's sparse step, DeepSeek's leading
    dense layers, alternating sliding/full attention), so truncation is exact and the period of
    the tail continues the pattern.
    """
    out = list(schedule[:layers])
    period = _period(schedule)
    while len(out) < layers:
        out.append(out[len(out) - period])
    return tuple(out)


def _invariant(key: str, message: str) -> OverrideError:
    return OverrideError(
        f"--set: invalid value for '{key}': {message}", key=key, code="invalid_value"
    )


def _propagate(
    config: ModelConfig, base: BaseConfig, moe: MoeConfig | None, edited: set[str]
) -> tuple[BaseConfig, MoeConfig | None, set[str]]:
    """Re-derive what the family derived from edited fields; returns the fields it touched."""
    old, touched = config.base, set[str]()
    provenance = config.provenance
    if (
        "base.num_key_value_heads" not in edited
        and provenance.get("base.num_key_value_heads") == "derived"
    ):
        base = replace(base, num_key_value_heads=base.num_attention_heads)
        touched.add("base.num_key_value_heads")
    if base.num_attention_heads % base.num_key_value_heads:
        raise _invariant(
            "num_key_value_heads",
            f"num_attention_heads ({base.num_attention_heads}) is not divisible by "
            f"num_key_value_heads ({base.num_key_value_heads})",
        )
    if "base.head_dim" not in edited and provenance.get("base.head_dim") == "derived":
        if base.hidden_size % base.num_attention_heads:
            raise _invariant(
                "head_dim",
                f"derived from hidden_size ({base.hidden_size}) / num_attention_heads "
                f"({base.num_attention_heads}), which do not divide evenly",
            )
        base = replace(base, head_dim=base.hidden_size // base.num_attention_heads)
        touched.add("base.head_dim")
    if moe is not None and moe.top_k_by_layer and "moe.num_experts_per_tok" in edited:
        # One k set on the command line replaces the file's per-layer list.
        moe = replace(moe, top_k_by_layer=())
        touched.add("moe.top_k_by_layer")
    if base.num_hidden_layers != old.num_hidden_layers:
        layers = base.num_hidden_layers
        # Per layer: attention kind, and the layer's k (0 for a dense MLP layer).
        top_k = [
            moe.top_k(i) if moe is not None and i in moe.moe_layers else 0
            for i in range(old.num_hidden_layers)
        ]
        kinds = old.layer_types or (FULL_ATTENTION,) * old.num_hidden_layers
        schedule = resize_schedule(list(zip(kinds, top_k, strict=True)), layers)
        base = replace(base, layer_types=tuple(kind for kind, _ in schedule))
        touched.add("base.layer_types")
        # Shapes given layer by layer (head sizes, KV heads, MLP widths) follow the kinds.
        by_layer = [name for _, name in PER_LAYER_FIELDS if getattr(old, name)]
        if by_layer:
            rows = list(zip(kinds, *(getattr(old, name) for name in by_layer), strict=True))
            resized = resize_schedule(rows, layers)
            base = replace(
                base,
                **{name: tuple(row[1 + i] for row in resized) for i, name in enumerate(by_layer)},
            )
            touched.update(f"base.{name}" for name in by_layer)
        if moe is not None:
            moe = replace(
                moe,
                moe_layers=tuple(i for i, (_, k) in enumerate(schedule) if k),
                top_k_by_layer=tuple(k for _, k in schedule if k) if moe.top_k_by_layer else (),
            )
            touched.add("moe.moe_layers")
    if moe is not None:
        for k in (moe.num_experts_per_tok, *moe.top_k_by_layer):
            if k > moe.num_experts:
                raise _invariant(
                    "num_experts_per_tok", f"{k} exceeds the number of experts ({moe.num_experts})"
                )
        if moe.n_group and moe.num_experts % moe.n_group:
            raise _invariant(
                "n_group",
                f"num_experts ({moe.num_experts}) is not divisible by n_group ({moe.n_group})",
            )
        if moe.n_group and moe.topk_group and moe.topk_group > moe.n_group:
            raise _invariant("topk_group", f"{moe.topk_group} exceeds n_group ({moe.n_group})")
    dense_layers = base.num_hidden_layers - (len(moe.moe_layers) if moe else 0)
    if dense_layers and base.intermediate_size is None:
        raise _invariant("intermediate_size", f"{dense_layers} dense layers need a dense MLP width")
    return base, moe, touched


def apply_overrides(
    config: ModelConfig, family: Family, assignments: Sequence[str]
) -> tuple[ModelConfig, list[Override]]:
    """The config with every `key=value` applied in order, re-validated, and what changed."""
    settable = settable_fields(config, family)
    base, moe = config.base, config.moe
    applied: dict[str, Override] = {}
    for text in assignments:
        key, value_text = parse_assignment(text)
        spec = _resolve_key(key, settable, family)
        value = _typed_value(spec, key, value_text)
        part, name = spec.name.split(".", 1)
        target = base if part == "base" else moe
        was = applied[spec.name].was if spec.name in applied else getattr(target, name)
        applied[spec.name] = Override(field=spec.name, value=value, was=was)
        if part == "base":
            base = replace(base, **{name: value})
        else:
            assert moe is not None
            moe = replace(moe, **{name: value})
    base, moe, touched = _propagate(config, base, moe, set(applied))
    provenance = dict(config.provenance)
    for name in touched:
        provenance[name] = "derived"
    for name in applied:
        provenance[name] = OVERRIDE
    edited = replace(config, base=base, moe=moe, provenance=provenance)
    return edited, list(applied.values())


def describe_override(override: Override) -> str:
    """`moe.num_experts = 96 (was 128)`, for warnings and Markdown."""
    return f"{override.field} = {json.dumps(override.value)} (was {json.dumps(override.was)})"
