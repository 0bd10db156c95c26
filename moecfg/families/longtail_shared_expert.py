"""Families built like Qwen3-MoE (per-head q/k RMSNorm, fused routed experts) with one always-on,
ungated shared expert of `shared_expert_intermediate_size` and a sigmoid router.

- kolibri1 (Aleph Alpha Kolibri-1): every layer MoE; GLM-4-style decoder with four norms per
  layer (post-attention and post-MLP norms too); unbiased attention; sliding-window layers with
  every fifth one full unless `layer_types` lists them. It picks experts on the sigmoid scores
  plus the `e_score_correction_bias` buffer and renormalises iff `norm_topk_prob`.
- flint (RecursiveSI Flint): Qwen3-MoE's layer schedule (`decoder_sparse_step`, dense
  `mlp_only_layers`, [0, 1] when unset or null), one learned attention sink per head per
  layer, `attention_bias` on q/k/v/o; full attention on layers 0, 1, every fourth from layer 1
  and the last, sliding windows elsewhere, unless `layer_types` lists them; top-k of the
  sigmoid scores (no correction bias), renormalised iff `norm_topk_prob`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from moecfg.families.base import (
    BASE_FIELDS,
    MOE_FIELDS,
    QWEN_SCHEDULE_FIELDS,
    Family,
    Parsed,
    field_table,
    read_base,
    read_dense_intermediate_size,
    read_top_k,
    with_defaults,
)
from moecfg.families.fields import Field, Reader, count
from moecfg.families.mixer_layers import every_nth, layers_of, read_layer_kinds
from moecfg.model import FULL_ATTENTION, SLIDING_ATTENTION, MoeConfig

#: transformers' spellings of the attention kinds in `layer_types`.
_ATTENTION_KINDS = {"full_attention": FULL_ATTENTION, "sliding_attention": SLIDING_ATTENTION}

_LAYER_TYPES = Field("base.layer_types", "layer_types", "str_list", default=None, nullable=True)


def _shared_expert(default: int) -> dict[str, Field]:
    return field_table(
        count(
            "moe.shared_expert_intermediate_size",
            "shared_expert_intermediate_size",
            default=default,
        )
    )


def _sigmoid_moe(
    reader: Reader, moe_layers: tuple[int, ...], norm_topk_prob: bool, **router: Any
) -> MoeConfig:
    """Routed experts plus the shared expert, which is absent when its width is 0."""
    num_experts = reader.get("moe.num_experts")
    shared = reader.get("moe.shared_expert_intermediate_size")
    return MoeConfig(
        num_experts=num_experts,
        num_experts_per_tok=read_top_k(reader, num_experts),
        expert_intermediate_size=reader.get("moe.expert_intermediate_size"),
        moe_layers=moe_layers,
        norm_topk_prob=norm_topk_prob,
        scoring_func="sigmoid",
        num_shared_experts=1 if shared else 0,
        shared_expert_intermediate_size=shared or None,
        **router,
    )


# --- kolibri1 ---


def _parse_kolibri1(reader: Reader) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    layer_types = read_layer_kinds(reader, "base.layer_types", num_layers, _ATTENTION_KINDS)
    if layer_types is None:
        layer_types = every_nth(num_layers, 5, FULL_ATTENTION, SLIDING_ATTENTION)
    moe = _sigmoid_moe(
        reader,
        tuple(range(num_layers)),
        reader.get("moe.norm_topk_prob"),
        score_correction_bias=True,
    )
    base = read_base(reader, intermediate_size=None, qk_norm=True, layer_types=layer_types)
    return Parsed(base=replace(base, norms_per_layer=4), moe=moe)


KOLIBRI1 = Family(
    model_type="kolibri1",
    architectures=("Kolibri1ForCausalLM",),
    fields=with_defaults(
        {
            **{
                k: v
                for k, v in BASE_FIELDS.items()
                if k not in ("base.intermediate_size", "base.mlp_bias", "base.attention_bias")
            },
            **MOE_FIELDS,
            **_shared_expert(512),
            **field_table(_LAYER_TYPES),
        },
        base__num_key_value_heads=4,
        base__head_dim=128,
        base__max_position_embeddings=262144,
        base__sliding_window=513,
        moe__num_experts=384,
        moe__num_experts_per_tok=6,
        moe__expert_intermediate_size=512,
    ),
    parse=_parse_kolibri1,
    summary="Kolibri-1: all-MoE layers, four norms per layer, shared expert, biased sigmoid router",
)


# --- flint ---

#: The dense layers transformers' Flint uses when `mlp_only_layers` is unset or null.
_FLINT_MLP_ONLY_LAYERS = (0, 1)


def _flint_moe_layers(reader: Reader, num_layers: int) -> tuple[int, ...]:
    step = reader.get("moe.decoder_sparse_step")
    mlp_only = reader.get("moe.mlp_only_layers")
    if mlp_only is None:
        mlp_only = reader.defaulted("moe.mlp_only_layers", _FLINT_MLP_ONLY_LAYERS)
    return tuple(i for i in range(num_layers) if i not in set(mlp_only) and (i + 1) % step == 0)


def _flint_layer_types(num_layers: int) -> tuple[str, ...]:
    return tuple(
        FULL_ATTENTION if i < 2 or i % 4 == 1 or i == num_layers - 1 else SLIDING_ATTENTION
        for i in range(num_layers)
    )


def _parse_flint(reader: Reader) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    moe_layers = _flint_moe_layers(reader, num_layers)
    layer_types = read_layer_kinds(reader, "base.layer_types", num_layers, _ATTENTION_KINDS)
    base = read_base(
        reader,
        intermediate_size=read_dense_intermediate_size(reader, num_layers - len(moe_layers)),
        qk_norm=True,
        layer_types=layer_types if layer_types is not None else _flint_layer_types(num_layers),
    )
    moe = _sigmoid_moe(reader, moe_layers, reader.get("moe.norm_topk_prob"))
    return Parsed(base=replace(base, attention_sinks=True), moe=moe)


FLINT = Family(
    model_type="flint",
    architectures=("FlintForCausalLM",),
    fields=with_defaults(
        {
            **{k: v for k, v in BASE_FIELDS.items() if k != "base.mlp_bias"},
            **MOE_FIELDS,
            **QWEN_SCHEDULE_FIELDS,
            **_shared_expert(1024),
            **field_table(_LAYER_TYPES),
        },
        base__num_key_value_heads=4,
        base__head_dim=128,
        base__intermediate_size=6144,
        base__max_position_embeddings=262144,
        base__sliding_window=513,
        moe__num_experts=256,
        moe__num_experts_per_tok=6,
        moe__expert_intermediate_size=512,
        moe__norm_topk_prob=True,
    ),
    parse=_parse_flint,
    summary="Flint: Qwen3-MoE schedule, attention sinks, ungated shared expert, sigmoid router",
)


# --- laguna ---

_MLP_KINDS = {"dense": "dense", "sparse": "sparse"}
#: Laguna's `gating` spellings → outputs per head of its g_proj. transformers gives one gate per
#: head only for true and "per-head"; anything else, false included, builds one per channel.
_GATE_PER_HEAD = {True: "head", "per-head": "head", "per-element": "channel", False: "channel"}


def _laguna_heads_by_layer(reader: Reader, num_layers: int, num_heads: int) -> tuple[int, ...]:
    """The per-layer query heads, or () when every layer has `num_attention_heads`."""
    listed = reader.get("base.attention_heads_by_layer")
    if listed is None:
        return ()
    if len(listed) != num_layers:
        raise reader.invalid(
            "num_attention_heads_per_layer",
            f"lists {len(listed)} layers but num_hidden_layers is {num_layers}",
        )
    return tuple(listed) if any(heads != num_heads for heads in listed) else ()


def _laguna_gate(reader: Reader, head_dim: int) -> int:
    gating = reader.get("base.attention_gating")
    if gating not in _GATE_PER_HEAD:
        raise reader.invalid(
            "gating", f'"{gating}" is not one of true, false, "per-head", "per-element"'
        )
    return 1 if _GATE_PER_HEAD[gating] == "head" else head_dim


def _parse_laguna(reader: Reader) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    mlp_kinds = read_layer_kinds(reader, "moe.mlp_layer_types", num_layers, _MLP_KINDS)
    moe_layers = layers_of(mlp_kinds, "sparse") if mlp_kinds else tuple(range(1, num_layers))
    moe = _sigmoid_moe(
        reader,
        moe_layers,
        True,
        # The `e_score_correction_bias` is a Parameter here, one per expert: the router's bias.
        router_bias=True,
        routed_scaling_factor=float(reader.get("moe.routed_scaling_factor")),
    )
    base = read_base(
        reader,
        intermediate_size=read_dense_intermediate_size(reader, num_layers - len(moe_layers)),
        qk_norm=True,
        layer_types=read_layer_kinds(reader, "base.layer_types", num_layers, _ATTENTION_KINDS),
    )
    base = replace(
        base,
        attention_gate_per_head=_laguna_gate(reader, base.head_dim),
        attention_heads_by_layer=_laguna_heads_by_layer(
            reader, num_layers, base.num_attention_heads
        ),
    )
    return Parsed(base=base, moe=moe)


LAGUNA = Family(
    model_type="laguna",
    architectures=("LagunaForCausalLM",),
    fields=with_defaults(
        {
            **{k: v for k, v in BASE_FIELDS.items() if k != "base.mlp_bias"},
            "base.rope_theta": Field(
                "base.rope_theta",
                "rope_theta",
                "float",
                default=500000.0,
                aliases=("rope_parameters.rope_theta", "rope_parameters.full_attention.rope_theta"),
                minimum=0,
            ),
            **MOE_FIELDS,
            **_shared_expert(512),
            **field_table(
                _LAYER_TYPES,
                Field(
                    "moe.mlp_layer_types",
                    "mlp_layer_types",
                    "str_list",
                    default=None,
                    nullable=True,
                ),
                Field(
                    "base.attention_heads_by_layer",
                    "num_attention_heads_per_layer",
                    "int_list",
                    default=None,
                    minimum=1,
                    nullable=True,
                ),
                Field("base.attention_gating", "gating", "bool_or_str", default=True),
                Field(
                    "moe.routed_scaling_factor",
                    "moe_routed_scaling_factor",
                    "float",
                    default=1.0,
                    minimum=0,
                ),
            ),
        },
        base__num_key_value_heads=8,
        base__head_dim=128,
        base__intermediate_size=8192,
        base__max_position_embeddings=131072,
        base__sliding_window=512,
        moe__num_experts=256,
        moe__num_experts_per_tok=8,
        moe__expert_intermediate_size=512,
    ),
    parse=_parse_laguna,
    summary="Laguna: softplus-gated attention, per-layer heads, shared expert, sigmoid router",
)

FAMILIES = (KOLIBRI1, FLINT, LAGUNA)
