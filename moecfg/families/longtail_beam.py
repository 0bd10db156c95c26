"""Beam (beam): gated GQA attention, four norms per layer, DeepSeek-V3's router without shared experts.

Attention has per-head q/k RMSNorms and a sigmoid output gate (`gate_proj` h → heads ×
head_dim, unbiased, plus one `gate_bias` per head); `attention_bias` biases q/k/v/o. Every layer
has four norms (before and after attention and the MLP). Layers are "sparse" (MoE) in
`mlp_layer_types`, else all but the first three; sliding attention everywhere but every sixth
layer and the last, unless `layer_types` lists them. The router is DeepSeek-V3's grouped sigmoid
with the correction buffer; there is no shared expert.
"""

from __future__ import annotations

from dataclasses import replace

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
from moecfg.families.deepseek import _read_router
from moecfg.families.fields import Field, Reader, size
from moecfg.families.layer_kinds import read_layer_types
from moecfg.families.longtail_deepseek import _MLP_KINDS, _MLP_LAYER_TYPES, _ROUTER_FIELDS, _listed, _router_variant
from moecfg.model import FULL_ATTENTION, SLIDING_ATTENTION, MoeConfig

_BEAM_VARIANT = _router_variant(
    "beam", "BeamForCausalLM", "Beam: gated attention with q/k norm, four norms per layer, grouped sigmoid router"
)


def _beam_moe_layers(reader: Reader, num_layers: int) -> tuple[int, ...]:
    kinds = _listed(reader, "moe.mlp_layer_types", _MLP_KINDS, num_layers)
    if kinds is None:
        kinds = tuple("dense" if i < 3 else "sparse" for i in range(num_layers))
    return tuple(i for i, kind in enumerate(kinds) if kind == "sparse")


def _beam_default_layer_types(num_layers: int) -> tuple[str, ...]:
    """Full attention on every sixth layer and the last one, sliding elsewhere."""
    return tuple(
        FULL_ATTENTION if (i + 1) % 6 == 0 or i == num_layers - 1 else SLIDING_ATTENTION
        for i in range(num_layers)
    )


def _parse_beam(reader: Reader) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    moe_layers = _beam_moe_layers(reader, num_layers)
    num_experts = reader.get("moe.num_experts")
    top_k = read_top_k(reader, num_experts)
    moe = MoeConfig(
        num_experts=num_experts,
        num_experts_per_tok=top_k,
        expert_intermediate_size=reader.get("moe.expert_intermediate_size"),
        moe_layers=moe_layers,
        **_read_router(reader, _BEAM_VARIANT, num_experts, top_k),
    )
    if reader.get("base.attention_bias"):
        # The output gate stays unbiased while q/k/v/o are biased: a shape the composed config lacks.
        raise reader.invalid("attention_bias", "true is not supported for beam (its output gate has no bias)")
    base = read_base(
        reader,
        intermediate_size=read_dense_intermediate_size(reader, num_layers - len(moe_layers)),
        qk_norm=True,
        layer_types=read_layer_types(reader, num_layers, _beam_default_layer_types(num_layers)),
    )
    base = replace(base, attention_output_gate=True, attention_gate_bias=True, norms_per_layer=4)
    return Parsed(base=base, moe=moe)


BEAM = Family(
    model_type="beam",
    architectures=("BeamForCausalLM",),
    fields=with_defaults(
        {
            **{k: v for k, v in BASE_FIELDS.items() if k != "base.mlp_bias"},
            **field_table(
                Field(
                    "base.rope_theta",
                    "rope_theta",
                    "float",
                    default=10000.0,
                    aliases=("rope_parameters.sliding_attention.rope_theta",),
                    minimum=0,
                ),
                Field("base.layer_types", "layer_types", "str_list", default=None, nullable=True),
                size("moe.num_experts", "num_experts"),
                _MLP_LAYER_TYPES,
            ),
            **_ROUTER_FIELDS,
        },
        base__hidden_size=5120,
        base__num_hidden_layers=52,
        base__num_attention_heads=48,
        base__num_key_value_heads=8,
        base__head_dim=128,
        base__intermediate_size=20480,
        base__vocab_size=151936,
        base__max_position_embeddings=8192,
        base__sliding_window=512,
        moe__num_experts=256,
        moe__num_experts_per_tok=8,
        moe__expert_intermediate_size=2560,
        moe__norm_topk_prob=True,
        moe__routed_scaling_factor=2.5,
        moe__n_group=8,
        moe__topk_group=4,
    ),
    parse=_parse_beam,
    summary=_BEAM_VARIANT.summary,
)

FAMILIES = (BEAM,)
