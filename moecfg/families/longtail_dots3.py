"""Dots 3 Note (dots3_note_text, and dots3_note whose language model is under text_config).

DeepSeek-V3.2's decoder with latent attention (MLA) that differs by layer kind:
- "indexed_attention" layers (full attention with a DSA lightning indexer) and, when `use_dsa`
  is false, "full_attention" layers without one; the others are "sliding_attention" layers of
  `sliding_window` tokens. Unlisted, layers 0, 1 and every fourth from layer 1 attend fully and
  the rest slide (all attend fully when `use_sliding_window` is false).
- Each layer builds its attention from its own entry of `per_layer_config` (layer index →
  overrides of the global sizes); transformers requires the layers of one kind to agree. A
  released config without `per_layer_config` gives its sliding layers the `swa_*` sizes.
- Every layer's attention also has a sigmoid output gate per head (`g_proj` h → heads) and an
  RMSNorm on the shared rotary key (`k_rope_only_layernorm`).
- The MLP is dense or sparse per `mlp_layer_types` (else sparse from `first_k_dense_replace`
  on, where `moe_layer_freq`, an integer or a per-layer list, says so); sparse layers carry the
  routed experts, DeepSeek-V3's grouped sigmoid router and a shared MLP of n_shared ·
  `shared_experts_intermediate_size`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from moecfg.families.base import (
    BASE_FIELDS,
    Family,
    Parsed,
    field_table,
    read_base,
    read_dense_intermediate_size,
    read_top_k,
    with_defaults,
)
from moecfg.families.deepseek import MLA_FIELDS, _read_router
from moecfg.families.fields import Field, Reader, check_value, count, flag, size
from moecfg.families.longtail_deepseek import (
    _MLP_KINDS,
    _MLP_LAYER_TYPES,
    _ROUTER_FIELDS,
    _listed,
    _router_variant,
)
from moecfg.model import FULL_ATTENTION, SLIDING_ATTENTION, KindAttention, MlaConfig, MoeConfig

_INDEXED = "indexed_attention"
#: transformers' layer types → moecfg's: an indexed layer caches every token like a full one.
_LAYER_KINDS = {
    _INDEXED: FULL_ATTENTION,
    FULL_ATTENTION: FULL_ATTENTION,
    SLIDING_ATTENTION: SLIDING_ATTENTION,
}

#: The attention sizes a layer may override, and the field each global value is read from.
_SIZES = {
    "num_attention_heads": "base.num_attention_heads",
    "num_key_value_heads": "base.num_key_value_heads",
    "head_dim": "base.head_dim",
    "q_lora_rank": "base.mla.q_lora_rank",
    "kv_lora_rank": "base.mla.kv_lora_rank",
    "qk_nope_head_dim": "base.mla.qk_nope_head_dim",
    "qk_rope_head_dim": "base.mla.qk_rope_head_dim",
    "v_head_dim": "base.mla.v_head_dim",
}
#: Per-layer keys that size no parameter and no cache.
_UNSIZED = frozenset(
    {
        "rope_parameters",
        "rope_theta",
        "partial_rotary_factor",
        "rms_norm_eps",
        "attention_dropout",
        "index_topk",
    }
)
#: transformers' defaults for the sliding layers of a config without `per_layer_config`.
_SWA_DEFAULTS = {
    "num_attention_heads": 64,
    "num_key_value_heads": 64,
    "q_lora_rank": 1024,
    "kv_lora_rank": 1024,
    "head_dim": 256,
    "qk_nope_head_dim": 192,
    "v_head_dim": 128,
}


def _layer_types(reader: Reader, num_layers: int) -> tuple[str, ...]:
    """transformers' layer types: listed or from `use_sliding_window`, then renamed by `use_dsa`
    (true: full → indexed; false: indexed → full; absent: true unless per_layer_config is set)."""
    use_dsa = reader.get("base.use_dsa")
    if use_dsa is None and not reader.has("base.per_layer_config"):
        use_dsa = reader.defaulted("base.use_dsa", True)
    kinds = _listed(reader, "base.layer_types", tuple(_LAYER_KINDS), num_layers)
    if kinds is None:
        sliding = reader.get("base.use_sliding_window")
        full = FULL_ATTENTION if use_dsa is False else _INDEXED
        kinds = tuple(
            full if not sliding or i < 2 or i % 4 == 1 else SLIDING_ATTENTION
            for i in range(num_layers)
        )
    if use_dsa is not None:
        old, new = (FULL_ATTENTION, _INDEXED) if use_dsa else (_INDEXED, FULL_ATTENTION)
        kinds = tuple(new if kind == old else kind for kind in kinds)
    return kinds


def _moe_layers(reader: Reader, num_layers: int) -> tuple[int, ...]:
    kinds = _listed(reader, "moe.mlp_layer_types", _MLP_KINDS, num_layers)
    if kinds is not None:
        return tuple(i for i, kind in enumerate(kinds) if kind == "sparse")
    first_dense = reader.get("moe.first_k_dense_replace")
    freq = reader.get("moe.moe_layer_freq")
    if isinstance(freq, tuple):
        if len(freq) < num_layers:
            raise reader.invalid(
                reader.fields["moe.moe_layer_freq"].key,
                f"lists {len(freq)} layers but num_hidden_layers is {num_layers}",
            )
        return tuple(i for i in range(first_dense, num_layers) if freq[i])
    if freq < 1:
        raise reader.invalid(
            reader.fields["moe.moe_layer_freq"].key, f"{freq} is not a layer step (at least 1)"
        )
    return tuple(i for i in range(first_dense, num_layers) if i % freq == 0)


def _per_layer_overrides(reader: Reader, layer_types: tuple[str, ...]) -> dict[int, dict[str, int]]:
    """Each layer's attention sizes that differ from the global ones: `per_layer_config` (null:
    none), or the `swa_*` sizes on every sliding layer when the key is absent."""
    table = reader.get("base.per_layer_config")
    if table is None and reader.has("base.per_layer_config"):
        return {}
    if table is None:
        swa = {name: reader.get(f"base.swa.{name}") for name in _SWA_DEFAULTS}
        swa["qk_rope_head_dim"] = (
            reader.get("base.swa.qk_rope_head_dim")
            if reader.has("base.swa.qk_rope_head_dim")
            else reader.derived(
                "base.swa.qk_rope_head_dim", swa["head_dim"] - swa["qk_nope_head_dim"]
            )
        )
        return {i: swa for i, kind in enumerate(layer_types) if kind == SLIDING_ATTENTION}
    key = reader.fields["base.per_layer_config"].key
    overrides: dict[int, dict[str, int]] = {}
    unread: set[str] = set()
    for name, entry in table.items():
        layer = int(name) if isinstance(name, str) and name.isdigit() else None
        if layer is None or layer >= len(layer_types):
            raise reader.invalid(
                f"{key}.{name}",
                f"is not a layer index below num_hidden_layers ({len(layer_types)})",
            )
        entry = check_value(reader.key_name(f"{key}.{name}"), entry, "object")
        overrides[layer] = {
            attr: check_value(reader.key_name(f"{key}.{name}.{attr}"), value, "int", 1)
            for attr, value in entry.items()
            if attr in _SIZES
        }
        unread |= {attr for attr in entry if attr not in _SIZES and attr not in _UNSIZED}
    if unread:
        reader.warnings.append(
            f"{reader.key_name(key)} sets {', '.join(sorted(unread))} per layer, which moecfg does "
            f"not read per layer (only the attention sizes: {', '.join(_SIZES)}); counted with the "
            "global values"
        )
    return overrides


def _sizes_by_kind(
    reader: Reader, layer_types: tuple[str, ...], glob: Mapping[str, int]
) -> dict[str, dict[str, int]]:
    """The attention sizes of each moecfg layer kind, which every layer of it must share."""
    overrides = _per_layer_overrides(reader, layer_types)
    sizes: dict[str, tuple[int, dict[str, int]]] = {}
    for layer, kind in enumerate(layer_types):
        mine = {**glob, **overrides.get(layer, {})}
        first, theirs = sizes.setdefault(_LAYER_KINDS[kind], (layer, mine))
        differ = [attr for attr in _SIZES if mine[attr] != theirs[attr]]
        if differ:
            attr = differ[0]
            raise reader.invalid(
                reader.fields["base.per_layer_config"].key,
                f"layers {first} and {layer} are both {_LAYER_KINDS[kind]} layers but differ in "
                f"{attr} ({theirs[attr]} vs {mine[attr]})",
            )
    return {kind: values for kind, (_, values) in sizes.items()}


def _mla(sizes: Mapping[str, int], **indexer: Any) -> MlaConfig:
    return MlaConfig(
        q_lora_rank=sizes["q_lora_rank"],
        kv_lora_rank=sizes["kv_lora_rank"],
        qk_nope_head_dim=sizes["qk_nope_head_dim"],
        qk_rope_head_dim=sizes["qk_rope_head_dim"],
        v_head_dim=sizes["v_head_dim"],
        output_gate_width=1,
        rope_key_norm=True,
        **indexer,
    )


def _parse(reader: Reader) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    moe_layers = _moe_layers(reader, num_layers)
    num_experts = reader.get("moe.num_experts")
    top_k = read_top_k(reader, num_experts)
    num_shared = reader.get("moe.num_shared_experts")
    moe = MoeConfig(
        num_experts=num_experts,
        num_experts_per_tok=top_k,
        expert_intermediate_size=reader.get("moe.expert_intermediate_size"),
        moe_layers=moe_layers,
        num_shared_experts=num_shared,
        shared_expert_intermediate_size=num_shared
        * reader.get("moe.shared_expert_intermediate_size"),
        **_read_router(reader, _ROUTER_VARIANT, num_experts, top_k),
    )
    layer_types = _layer_types(reader, num_layers)
    base = read_base(
        reader,
        intermediate_size=read_dense_intermediate_size(reader, num_layers - len(moe_layers)),
        layer_types=(_LAYER_KINDS[kind] for kind in layer_types),
    )
    glob = {attr: reader.get(name) for attr, name in _SIZES.items()}
    by_kind = _sizes_by_kind(reader, layer_types, glob)
    full = by_kind.get(FULL_ATTENTION, glob)
    mla = _mla(
        full,
        index_n_heads=reader.get("base.mla.index_n_heads"),
        index_head_dim=reader.get("base.mla.index_head_dim"),
        indexer_layers=tuple(i for i, kind in enumerate(layer_types) if kind == _INDEXED),
    )
    overrides = tuple(
        KindAttention(
            kind=kind,
            num_attention_heads=sizes["num_attention_heads"],
            num_key_value_heads=sizes["num_key_value_heads"],
            head_dim=sizes["head_dim"],
            mla=_mla(sizes),
        )
        for kind, sizes in by_kind.items()
        if kind != FULL_ATTENTION and sizes != full
    )
    base = replace(
        base,
        num_attention_heads=full["num_attention_heads"],
        num_key_value_heads=full["num_key_value_heads"],
        head_dim=full["head_dim"],
        mla=mla,
        attention_by_kind=overrides,
    )
    return Parsed(base=base, moe=moe)


_ROUTER_VARIANT = _router_variant(
    "dots3_note_text",
    "Dots3NoteForCausalLM",
    "Dots 3 Note: MLA sized per layer kind, DSA indexers, output gates, shared expert",
)

_FIELDS = with_defaults(
    {
        **{
            k: v
            for k, v in BASE_FIELDS.items()
            if k not in ("base.mlp_bias", "base.sliding_window")
        },
        **MLA_FIELDS,
        # Every layer's query goes through the latent: q_a_proj is always built.
        "base.mla.q_lora_rank": size("base.mla.q_lora_rank", "q_lora_rank"),
        **field_table(
            size(
                "base.sliding_window",
                "sliding_window",
                default=512,
                aliases=("sliding_window_size",),
            ),
            Field("base.layer_types", "layer_types", "str_list", default=None, nullable=True),
            Field("base.use_dsa", "use_dsa", "bool", default=None, nullable=True),
            flag("base.use_sliding_window", "use_sliding_window", default=True),
            Field(
                "base.per_layer_config", "per_layer_config", "object", default=None, nullable=True
            ),
            *(
                size(f"base.swa.{name}", f"swa_{name}", default=value)
                for name, value in _SWA_DEFAULTS.items()
            ),
            size("base.swa.qk_rope_head_dim", "swa_qk_rope_head_dim"),
            size("base.mla.index_n_heads", "index_n_heads"),
            size("base.mla.index_head_dim", "index_head_dim"),
            size("moe.num_experts", "n_routed_experts", aliases=("num_local_experts",)),
            count("moe.num_shared_experts", "n_shared_experts"),
            size(
                "moe.shared_expert_intermediate_size",
                "shared_experts_intermediate_size",
                aliases=("moe_shared_expert_intermediate_size",),
            ),
            _MLP_LAYER_TYPES,
            count("moe.first_k_dense_replace", "first_k_dense_replace", default=1),
            Field("moe.moe_layer_freq", "moe_layer_freq", "int_or_int_list", default=1, minimum=0),
        ),
        **_ROUTER_FIELDS,
    },
    base__hidden_size=5120,
    base__num_hidden_layers=46,
    base__num_attention_heads=128,
    base__num_key_value_heads=128,
    base__head_dim=256,
    base__intermediate_size=13824,
    base__vocab_size=152064,
    base__max_position_embeddings=524288,
    base__rope_theta=80_000_000.0,
    base__rms_norm_eps=1e-5,
    base__mla__q_lora_rank=1024,
    base__mla__index_n_heads=64,
    base__mla__index_head_dim=128,
    moe__num_experts=256,
    moe__num_experts_per_tok=8,
    moe__expert_intermediate_size=1536,
    moe__num_shared_experts=1,
    moe__shared_expert_intermediate_size=1536,
    moe__norm_topk_prob=True,
    moe__routed_scaling_factor=1.0,
    moe__n_group=1,
    moe__topk_group=1,
)

DOTS3_NOTE_TEXT = Family(
    model_type="dots3_note_text",
    architectures=("Dots3NoteForCausalLM",),
    fields=_FIELDS,
    parse=_parse,
    summary=_ROUTER_VARIANT.summary + " (text-only config)",
)

DOTS3_NOTE = Family(
    model_type="dots3_note",
    architectures=("Dots3NoteForConditionalGeneration",),
    fields=_FIELDS,
    parse=_parse,
    summary=_ROUTER_VARIANT.summary + " (text model of the multimodal config)",
    text_config="text_config",
    excluded=(
        "vision and audio towers and their adapters (vision_config, audio_config): only the text "
        "model that AutoModelForCausalLM builds (Dots3NoteForCausalLM) is counted",
    ),
)

FAMILIES = (DOTS3_NOTE_TEXT, DOTS3_NOTE)
