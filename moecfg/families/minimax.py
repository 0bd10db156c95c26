"""MiniMax (MiniMax-Text-01): lightning linear attention on most layers, softmax attention on some.

`layer_types` names each layer "full_attention" or "linear_attention"; the remote-code configs
say the same with `attn_type_list` (1 = softmax, 0 = lightning). Absent both, transformers
alternates, starting with full attention. Lightning attention uses the attention heads and
head_dim for its fused qkv_proj, output gate and norm, and keeps a heads × head_dim × head_dim
state instead of a KV cache. Every layer's MLP is the MoE block (Mixtral-style router).
"""

from __future__ import annotations

from dataclasses import replace

from moecfg.families.base import (
    BASE_FIELDS,
    MOE_FIELDS,
    Family,
    Parsed,
    field_table,
    read_base,
    read_top_k,
    with_defaults,
)
from moecfg.families.fields import Field, Reader, size
from moecfg.families.mixer_layers import read_layer_kinds
from moecfg.model import FULL_ATTENTION, LINEAR_ATTENTION, LinearAttentionConfig, MoeConfig

FIELDS = with_defaults(
    {
        **{
            k: v
            for k, v in BASE_FIELDS.items()
            if k not in ("base.attention_bias", "base.mlp_bias", "base.sliding_window",
                         "base.intermediate_size")
        },
        **field_table(
            Field("base.layer_types", "layer_types", "str_list", default=None, nullable=True),
            Field("base.attn_type_list", "attn_type_list", "int_list", default=None, nullable=True),
        ),
        **{k: v for k, v in MOE_FIELDS.items() if k not in ("moe.norm_topk_prob",)},
        **field_table(
            size("moe.num_experts", "num_local_experts", default=8, aliases=("num_experts",)),
            size("moe.expert_intermediate_size", "intermediate_size", default=14336),
        ),
    },
    base__vocab_size=32000,
    base__num_key_value_heads=8,
    base__max_position_embeddings=131072,
    base__rope_theta=1000000.0,
    base__rms_norm_eps=1e-5,
    moe__num_experts_per_tok=2,
)

LAYER_KINDS = {"full_attention": FULL_ATTENTION, "linear_attention": LINEAR_ATTENTION}
#: `attn_type_list` codes in MiniMax's remote modeling code.
ATTN_TYPE_CODES = {1: FULL_ATTENTION, 0: LINEAR_ATTENTION}


def read_minimax_layer_types(reader: Reader, num_layers: int) -> tuple[str, ...]:
    listed = read_layer_kinds(reader, "base.layer_types", num_layers, LAYER_KINDS)
    from_codes = read_layer_kinds(reader, "base.attn_type_list", num_layers, ATTN_TYPE_CODES)
    if listed is not None:
        if from_codes is not None and from_codes != listed:
            raise reader.invalid("attn_type_list", "disagrees with layer_types")
        return listed
    if from_codes is not None:
        reader.warnings.append(
            "attn_type_list sets the attention layers; transformers reads only layer_types and "
            "would alternate full and linear attention instead"
        )
        return from_codes
    return reader.derived(
        "base.layer_types",
        tuple(LINEAR_ATTENTION if (i + 1) % 2 == 0 else FULL_ATTENTION for i in range(num_layers)),
    )


def parse(reader: Reader) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    layer_types = read_minimax_layer_types(reader, num_layers)
    num_experts = reader.get("moe.num_experts")
    moe = MoeConfig(
        num_experts=num_experts,
        num_experts_per_tok=read_top_k(reader, num_experts),
        expert_intermediate_size=reader.get("moe.expert_intermediate_size"),
        moe_layers=tuple(range(num_layers)),
        norm_topk_prob=None,
    )
    base = read_base(reader, intermediate_size=None, qkv_bias=False, output_bias=False,
                     layer_types=layer_types)
    if LINEAR_ATTENTION in layer_types:
        heads, head_dim = base.num_attention_heads, base.head_dim
        base = replace(
            base,
            linear_attention=LinearAttentionConfig(
                kind="lightning",
                num_key_heads=heads,
                num_value_heads=heads,
                key_head_dim=head_dim,
                value_head_dim=head_dim,
            ),
        )
    return Parsed(base=base, moe=moe)


MINIMAX = Family(
    model_type="minimax",
    architectures=("MiniMaxForCausalLM",),
    fields=FIELDS,
    parse=parse,
    summary="MiniMax-Text-01: lightning linear attention + softmax attention layers, MoE every layer",
)
