"""SK Telecom A.X K1 (axk1): DeepSeek-V3 with one more norm on the MoE block's output.

Latent attention (MLA), routed experts plus one shared MLP of n_shared × moe_intermediate_size,
DeepSeek-V3's grouped sigmoid router with the correction buffer: all read by the DeepSeek
readers. The MoE layers are "sparse" in `mlp_layer_types`, else every layer from
`first_k_dense_replace` on whose index is a multiple of `moe_layer_freq`; each MoE block ends in
an RMSNorm (`mlp.post_mlp_layernorm`), which the dense layers lack.
"""

from __future__ import annotations

from dataclasses import replace

from moecfg.families.base import BASE_FIELDS, Parsed, field_table, read_base, read_dense_intermediate_size
from moecfg.families.deepseek import MLA_FIELDS, Variant, _read_mla
from moecfg.families.fields import Reader, count, size
from moecfg.families.longtail_deepseek import (
    _MLP_KINDS,
    _MLP_LAYER_TYPES,
    _ROUTER_FIELDS,
    _family,
    _listed,
    _router_variant,
    read_shared_expert_moe,
)


def _axk1_moe_layers(reader: Reader, num_layers: int) -> tuple[int, ...]:
    kinds = _listed(reader, "moe.mlp_layer_types", _MLP_KINDS, num_layers)
    if kinds is not None:
        return tuple(i for i, kind in enumerate(kinds) if kind == "sparse")
    first_dense = reader.get("moe.first_k_dense_replace")
    freq = reader.get("moe.moe_layer_freq")
    return tuple(i for i in range(num_layers) if i >= first_dense and i % freq == 0)


def _parse_axk1(reader: Reader, variant: Variant) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    moe_layers = _axk1_moe_layers(reader, num_layers)
    moe = read_shared_expert_moe(reader, variant, moe_layers)
    base = read_base(
        reader, intermediate_size=read_dense_intermediate_size(reader, num_layers - len(moe_layers))
    )
    return Parsed(base=replace(base, mla=_read_mla(reader)), moe=replace(moe, output_norm=True))


AXK1 = _family(
    _router_variant(
        "axk1",
        "AXK1ForCausalLM",
        "A.X K1: DeepSeek-V3 (MLA, shared expert, grouped sigmoid) with a norm after each MoE block",
    ),
    {
        **{k: v for k, v in BASE_FIELDS.items() if k not in ("base.mlp_bias", "base.sliding_window")},
        **MLA_FIELDS,
        # The config class requires a query latent: q_a_proj is always built.
        "base.mla.q_lora_rank": size("base.mla.q_lora_rank", "q_lora_rank", default=1536),
        # transformers sets head_dim to qk_rope_head_dim; it sizes only the rotary embedding.
        "base.head_dim": size("base.head_dim", "qk_rope_head_dim", default=64),
        **field_table(
            size("moe.num_experts", "n_routed_experts", aliases=("num_local_experts",)),
            count("moe.num_shared_experts", "n_shared_experts"),
            _MLP_LAYER_TYPES,
            count("moe.first_k_dense_replace", "first_k_dense_replace", default=1),
            size("moe.moe_layer_freq", "moe_layer_freq", default=1),
        ),
        **_ROUTER_FIELDS,
    },
    _parse_axk1,
    base__hidden_size=7168,
    base__num_hidden_layers=61,
    base__num_attention_heads=64,
    base__num_key_value_heads=64,
    base__intermediate_size=18432,
    base__vocab_size=163840,
    base__max_position_embeddings=32768,
    moe__num_experts=192,
    moe__num_experts_per_tok=8,
    moe__expert_intermediate_size=2048,
    moe__num_shared_experts=1,
    moe__norm_topk_prob=True,
    moe__routed_scaling_factor=2.5,
    moe__n_group=8,
    moe__topk_group=4,
)

FAMILIES = (AXK1,)
