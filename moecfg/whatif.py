"""What-if overrides: `--set key=value` edits the composed config before metrics are computed.

Keys are the composed config's own field names (`num_experts`, `base.head_dim`, or the
family's Hugging Face key such as `moe_intermediate_size`). Only fields the family's Field
table declares, plus the common sizes in COMMON_SETTABLE, can be set: the composed config also
holds architecture facts the adapter fixed (K/V projections, norms per layer, ...), which are
not knobs of the model. Values are typed and validated with the same `check_value` the family's
reader uses, and the composed config's invariants are checked again afterwards. Values the
family derived from an edited field are derived again (head_dim from hidden_size / heads, every
per-layer fact from num_hidden_layers), so a what-if never leaves the config half-edited.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any

from moecfg.errors import ConfigError, MoecfgError
from moecfg.families.base import Family
from moecfg.families.fields import Field, check_layer_count, check_value
from moecfg.metrics import PER_LAYER_FIELDS
from moecfg.model import FULL_ATTENTION, BaseConfig, ModelConfig, MoeConfig

if TYPE_CHECKING:
    from collections.abc import Callable

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


#: Composed fields every family may edit, declared in its Field table or not, with the least
#: value each takes (None: no bound): the sizes a what-if is usually about. Any other field
#: is settable only when the family declares it.
COMMON_SETTABLE: Mapping[str, int | None] = {
    "base.hidden_size": 1,
    "base.num_hidden_layers": 1,
    "base.num_attention_heads": 1,
    "base.num_key_value_heads": 1,
    "base.head_dim": 1,
    "base.intermediate_size": 1,
    "base.vocab_size": 1,
    "base.tie_word_embeddings": None,
    "moe.num_experts": 1,
    "moe.num_experts_per_tok": 1,
    "moe.expert_intermediate_size": 1,
    "moe.num_shared_experts": 0,
    "moe.shared_expert_intermediate_size": 1,
}


def settable_fields(config: ModelConfig, family: Family) -> dict[str, Settable]:
    """The scalar fields of the composed config the family declares, and COMMON_SETTABLE;
    validated like the family's Field when it declares one."""
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
            if declared is not None:
                out[name] = Settable(name, kind[0], declared.minimum, kind[1])
            elif name in COMMON_SETTABLE:
                out[name] = Settable(name, kind[0], COMMON_SETTABLE[name], kind[1])
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
    names = ", ".join(sorted(name.split(".", 1)[1] for name in settable))
    raise OverrideError(
        f"--set: unknown key '{key}'; {family.model_type} can set: {names}",
        key=key,
        code="unknown_key",
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
        if spec.name == "base.num_hidden_layers":
            check_layer_count(key, checked)
    except ConfigError as error:
        raise OverrideError(f"--set {key}: {error.message}", key=key, code=error.code) from None
    return float(checked) if spec.kind == "float" else checked


def _period(sequence: Sequence[Any]) -> int:
    """The smallest period the second half of a layer schedule repeats with."""
    n = len(sequence)
    for period in range(1, n):
        checked = range(n // 2 + period, n)
        # A period the second half is too short to show is no evidence: the whole repeats.
        if checked and all(sequence[j] == sequence[j - period] for j in checked):
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


#: Families whose last layer is full attention whatever the layer pattern (transformers
#: forces it, or derives layer_types so): that layer stays last when the layer count changes.
_LAST_LAYER_FULL = frozenset({"gemma4", "gemma4_text", "beam", "flint"})


@dataclass(frozen=True, slots=True)
class _Column:
    """One per-layer fact of the composed config, read as one value per layer."""

    name: str  #: the composed field, as provenance names it
    present: Callable[[BaseConfig, MoeConfig | None], bool]
    values: Callable[[BaseConfig, MoeConfig | None], Sequence[Any]]


def _index_set(layers: Sequence[int], count: int) -> list[bool]:
    listed = set(layers)
    return [i in listed for i in range(count)]


def _moe_k(base: BaseConfig, moe: MoeConfig | None) -> list[int]:
    """The layer's k, 0 for a layer without the MoE block."""
    assert moe is not None
    listed = set(moe.moe_layers)
    return [moe.top_k(i) if i in listed else 0 for i in range(base.num_hidden_layers)]


#: Every per-layer fact of the composed config: resized together, row by row, so each layer
#: keeps its kind's shapes, MLP, indexer and norms (model.py: the *_by_layer tuples and the
#: layer index sets).
_COLUMNS: tuple[_Column, ...] = (
    _Column(
        "base.layer_types",
        lambda base, moe: True,
        lambda base, moe: base.layer_types or (FULL_ATTENTION,) * base.num_hidden_layers,
    ),
    _Column("moe.moe_layers", lambda base, moe: moe is not None, _moe_k),
    *(
        _Column(
            f"base.{name}",
            lambda base, moe, name=name: bool(getattr(base, name)),
            lambda base, moe, name=name: getattr(base, name),
        )
        for name in (*(name for _, name in PER_LAYER_FIELDS), "gated_norms_by_layer")
    ),
    _Column(
        "base.mlp_free_layers",
        lambda base, moe: bool(base.mlp_free_layers),
        lambda base, moe: _index_set(base.mlp_free_layers, base.num_hidden_layers),
    ),
    _Column(
        "base.mla.indexer_layers",
        lambda base, moe: base.mla is not None and bool(base.mla.indexer_layers),
        lambda base, moe: _index_set(base.mla.indexer_layers, base.num_hidden_layers),  # type: ignore[union-attr]
    ),
    _Column(
        "base.block_indexer.layers",
        lambda base, moe: base.block_indexer is not None,
        lambda base, moe: _index_set(base.block_indexer.layers, base.num_hidden_layers),  # type: ignore[union-attr]
    ),
)


def _refuse_layers(family: str, field_name: str, reason: str) -> OverrideError:
    return OverrideError(
        f"--set num_hidden_layers: moecfg cannot resize {family}'s {field_name}: {reason}; "
        "edit the config file instead",
        key="num_hidden_layers",
        code="not_resizable",
    )


#: Families whose decoder layers are several of moecfg's layers each: the key counting them,
#: and how many layers each is (LongCat-Flash: two sublayers per `num_layers`).
_LAYERS_PER_DECODER_LAYER = {"longcat_flash": ("num_layers", 2)}


def _resize_rows(
    config: ModelConfig, rows: list[tuple[Any, ...]], layers: int
) -> list[tuple[Any, ...]]:
    """The rows for `layers` layers; refuses what a schedule period cannot say."""
    base = config.base
    key, step = _LAYERS_PER_DECODER_LAYER.get(config.family, ("", 1))
    if layers % step:
        raise _invariant(
            "num_hidden_layers",
            f"{config.family} counts {step} layers per decoder layer ({key}), so the layer "
            f"count must be a multiple of {step}, got {layers}",
        )
    if 0 in base.kv_projections_by_layer:
        raise _refuse_layers(
            config.family,
            "num_kv_shared_layers",
            "the last layers reuse earlier layers' keys and values",
        )
    if (
        config.family == "ernie4_5_moe"
        and layers > len(rows)
        and config.provenance.get("moe.moe_layer_end_index") != "default"
    ):
        # transformers writes the last MoE layer's index (not -1) into every config it saves.
        raise _refuse_layers(
            config.family,
            "moe_layer_end_index",
            "it fixes the last MoE layer by its index in the file",
        )
    if config.family not in _LAST_LAYER_FULL:
        return list(resize_schedule(rows, layers))
    # The last layer is full attention by rule: the pattern runs up to it.
    return [*resize_schedule(rows[:-1] or rows, layers - 1), rows[-1]]


def _resize_layers(
    config: ModelConfig, base: BaseConfig, moe: MoeConfig | None
) -> tuple[BaseConfig, MoeConfig | None, set[str]]:
    """Every per-layer fact (_COLUMNS) for the new num_hidden_layers, and the fields touched."""
    old = config.base
    columns = [column for column in _COLUMNS if column.present(old, config.moe)]
    rows = list(zip(*(column.values(old, config.moe) for column in columns), strict=True))
    resized = dict(
        zip(
            (column.name for column in columns),
            zip(*_resize_rows(config, rows, base.num_hidden_layers), strict=True),
            strict=True,
        )
    )

    def layers_of(name: str) -> tuple[int, ...]:
        return tuple(i for i, flag in enumerate(resized[name]) if flag)

    changes: dict[str, Any] = {"layer_types": resized["base.layer_types"]}
    for name in (*(name for _, name in PER_LAYER_FIELDS), "gated_norms_by_layer"):
        if f"base.{name}" in resized:
            changes[name] = resized[f"base.{name}"]
    if "base.mlp_free_layers" in resized:
        changes["mlp_free_layers"] = layers_of("base.mlp_free_layers")
    if "base.mla.indexer_layers" in resized:
        assert base.mla is not None
        changes["mla"] = replace(base.mla, indexer_layers=layers_of("base.mla.indexer_layers"))
    if "base.block_indexer.layers" in resized:
        assert base.block_indexer is not None
        indexed = layers_of("base.block_indexer.layers")
        # No sparse layer left: no indexer, as the family reads such a file.
        changes["block_indexer"] = replace(base.block_indexer, layers=indexed) if indexed else None
    base = replace(base, **changes)
    if moe is not None:
        top_k = resized["moe.moe_layers"]
        moe = replace(
            moe,
            moe_layers=tuple(i for i, k in enumerate(top_k) if k),
            top_k_by_layer=tuple(k for k in top_k if k) if moe.top_k_by_layer else (),
        )
    return base, moe, set(resized)


def _invariant(key: str, message: str) -> OverrideError:
    return OverrideError(
        f"--set: invalid value for '{key}': {message}", key=key, code="invalid_value"
    )


def _shared_experts(
    old: MoeConfig | None, moe: MoeConfig, edited: set[str], touched: set[str]
) -> MoeConfig:
    """Shared experts are one MLP of their summed width: a new count rescales that width (a
    new width with no shared expert makes it one), so the two never disagree."""
    count, width = "moe.num_shared_experts", "moe.shared_expert_intermediate_size"
    assert old is not None
    if count in edited and width not in edited:
        touched.add(width)
        if not moe.num_shared_experts:
            return replace(moe, shared_expert_intermediate_size=None)
        if not old.num_shared_experts or not old.shared_expert_intermediate_size:
            raise _invariant(
                "num_shared_experts",
                f"the file has no shared expert to size {moe.num_shared_experts} by: set "
                "shared_expert_intermediate_size too",
            )
        per_expert = old.shared_expert_intermediate_size // old.num_shared_experts
        return replace(moe, shared_expert_intermediate_size=per_expert * moe.num_shared_experts)
    if (
        width in edited
        and count not in edited
        and moe.shared_expert_intermediate_size
        and not moe.num_shared_experts
    ):
        touched.add(count)
        return replace(moe, num_shared_experts=1)
    return moe


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
    if moe is not None:
        moe = _shared_experts(config.moe, moe, edited, touched)
    if moe is not None and moe.top_k_by_layer and "moe.num_experts_per_tok" in edited:
        # One k set on the command line replaces the file's per-layer list.
        moe = replace(moe, top_k_by_layer=())
        touched.add("moe.top_k_by_layer")
    if base.num_hidden_layers != old.num_hidden_layers:
        base, moe, resized = _resize_layers(config, base, moe)
        touched.update(resized)
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
    without_dense = {*(moe.moe_layers if moe else ()), *base.mlp_free_layers}
    dense_layers = sum(i not in without_dense for i in range(base.num_hidden_layers))
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
    edited = replace(
        config, base=base, moe=moe, provenance=provenance, warnings=_current_warnings(config)
    )
    return edited, list(applied.values())


def _current_warnings(config: ModelConfig) -> tuple[str, ...]:
    """The file's warnings that still hold once it is edited.

    A warning quoting numbers (a layer count, a parameter total) measured the file as written,
    and an override may change them; those are left out, and one warning says so.
    """
    kept = tuple(w for w in config.warnings if not any(c.isdigit() for c in w))
    dropped = len(config.warnings) - len(kept)
    if not dropped:
        return kept
    plural = dropped > 1
    return (
        *kept,
        f"--set: left out {dropped} warning{'s' if plural else ''} quoting the file's own "
        "numbers, which the overrides may change; inspect without --set to see "
        f"{'them' if plural else 'it'}",
    )


def describe_override(override: Override) -> str:
    """`moe.num_experts = 96 (was 128)`, for warnings and Markdown."""
    return f"{override.field} = {json.dumps(override.value)} (was {json.dumps(override.was)})"
