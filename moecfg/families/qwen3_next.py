"""Qwen3-Next: gated delta-net linear attention on most layers, gated full attention on the rest.

Every `full_attention_interval`-th layer (4 by default, counting from one) is full attention
whose q_proj also emits a per-head output gate (2 × heads × head_dim) and whose RoPE turns only
`partial_rotary_factor` of each head; the others are gated delta-net linear attention, shaped
by the `linear_*` keys. The MLP follows the Qwen schedule, with one sigmoid-gated shared expert.
"""

from __future__ import annotations

from dataclasses import replace

from moecfg.families.base import (
    BASE_FIELDS,
    MOE_FIELDS,
    QWEN_SCHEDULE_FIELDS,
    Family,
    Parsed,
    field_table,
    qwen_moe_layers,
    read_base,
    read_dense_intermediate_size,
    read_top_k,
    with_defaults,
)
from moecfg.families.fields import Field, Reader, size
from moecfg.families.mixer_layers import every_nth, read_layer_kinds
from moecfg.model import FULL_ATTENTION, LINEAR_ATTENTION, LinearAttentionConfig, MoeConfig

FIELDS = with_defaults(
    {
        **{k: v for k, v in BASE_FIELDS.items() if k not in ("base.mlp_bias", "base.sliding_window")},
        **field_table(
            Field("base.layer_types", "layer_types", "str_list", default=None, nullable=True),
            size("base.full_attention_interval", "full_attention_interval", default=4),
            Field(
                "base.partial_rotary_factor",
                "partial_rotary_factor",
                "float",
                default=0.25,
                aliases=("rope_parameters.partial_rotary_factor",),
                minimum=0,
            ),
            size("linear_attention.conv_kernel_size", "linear_conv_kernel_dim", default=4),
            size("linear_attention.key_head_dim", "linear_key_head_dim", default=128),
            size("linear_attention.value_head_dim", "linear_value_head_dim", default=128),
            size("linear_attention.num_key_heads", "linear_num_key_heads", default=16),
            size("linear_attention.num_value_heads", "linear_num_value_heads", default=32),
        ),
        **MOE_FIELDS,
        **field_table(
            size("moe.shared_expert_intermediate_size", "shared_expert_intermediate_size", default=512),
        ),
        **QWEN_SCHEDULE_FIELDS,
    },
    base__num_key_value_heads=2,
    base__head_dim=256,
    base__intermediate_size=5632,
    base__max_position_embeddings=32768,
    moe__num_experts=512,
    moe__num_experts_per_tok=10,
    moe__expert_intermediate_size=512,
    moe__norm_topk_prob=True,
)

#: transformers' spellings of the two mixers in `layer_types`.
LAYER_KINDS = {"full_attention": FULL_ATTENTION, "linear_attention": LINEAR_ATTENTION}


def read_linear_attention(reader: Reader) -> LinearAttentionConfig:
    value_heads = reader.get("linear_attention.num_value_heads")
    key_heads = reader.get("linear_attention.num_key_heads")
    if value_heads % key_heads:
        raise reader.invalid(
            "linear_num_value_heads",
            f"{value_heads} is not a multiple of linear_num_key_heads ({key_heads})",
        )
    return LinearAttentionConfig(
        kind="gated_delta_net",
        num_key_heads=key_heads,
        num_value_heads=value_heads,
        key_head_dim=reader.get("linear_attention.key_head_dim"),
        value_head_dim=reader.get("linear_attention.value_head_dim"),
        conv_kernel_size=reader.get("linear_attention.conv_kernel_size"),
    )


def parse(reader: Reader) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    layer_types = read_layer_kinds(reader, "base.layer_types", num_layers, LAYER_KINDS)
    if layer_types is None:
        interval = reader.get("base.full_attention_interval")
        layer_types = reader.derived(
            "base.layer_types", every_nth(num_layers, interval, FULL_ATTENTION, LINEAR_ATTENTION)
        )
    num_experts = reader.get("moe.num_experts")
    moe_layers = qwen_moe_layers(reader, num_layers)
    moe = MoeConfig(
        num_experts=num_experts,
        num_experts_per_tok=read_top_k(reader, num_experts),
        expert_intermediate_size=reader.get("moe.expert_intermediate_size"),
        moe_layers=moe_layers,
        norm_topk_prob=reader.get("moe.norm_topk_prob"),
        num_shared_experts=1,
        shared_expert_intermediate_size=reader.get("moe.shared_expert_intermediate_size"),
        shared_expert_gate=True,
    )
    base = read_base(
        reader,
        intermediate_size=read_dense_intermediate_size(reader, num_layers - len(moe_layers)),
        qk_norm=True,
        layer_types=layer_types,
    )
    base = replace(
        base,
        attention_output_gate=True,
        partial_rotary_factor=float(reader.get("base.partial_rotary_factor")),
        linear_attention=read_linear_attention(reader) if LINEAR_ATTENTION in layer_types else None,
    )
    return Parsed(base=base, moe=moe)


QWEN3_NEXT = Family(
    model_type="qwen3_next",
    architectures=("Qwen3NextForCausalLM",),
    fields=FIELDS,
    parse=parse,
    summary="Qwen3-Next: gated delta-net linear attention + gated full attention every 4th layer, "
    "routed experts + one gated shared expert",
)
