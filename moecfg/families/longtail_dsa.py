"""DeepSeek-V3.2-style families (latent attention with DSA indexers, the DeepSeek-V3 expert
block) that add modules of their own around the attention or the residual stream.

- hy_v4 (Hunyuan 4): GLM-5's "full"/"shared" indexer layers (`indexer_types`, else a full
  indexer on layer 0 and on every fourth layer from layer 1), plus per head an attention sink
  and a sigmoid output gate of v_head_dim (`self_attn.gate_proj`), and hyper-connections: the
  residual stream is `hc_mult` copies of the hidden state, mixed by `attn_hc` and `ffn_hc` maps
  (2 · hc_mult mixes, 2 scales) and merged by `hc_head`. The first layer is dense unless
  `mlp_layer_types` says otherwise.
"""

from __future__ import annotations

from dataclasses import replace

from moecfg.families.base import BASE_FIELDS, Parsed, field_table
from moecfg.families.deepseek import MLA_FIELDS, Variant
from moecfg.families.fields import Field, Reader, count, size
from moecfg.families.longtail_deepseek import (
    _INDEXER_KINDS,
    _MLP_LAYER_TYPES,
    _ROUTER_FIELDS,
    _family,
    _listed,
    _read_mla_family,
    _router_variant,
)
from moecfg.model import HyperConnectionConfig

#: Latent attention with a DSA indexer, which reads the query latent (so q_lora_rank is set).
_DSA_MLA_FIELDS = {
    **{k: v for k, v in BASE_FIELDS.items() if k not in ("base.mlp_bias", "base.sliding_window")},
    **MLA_FIELDS,
    "base.mla.q_lora_rank": size("base.mla.q_lora_rank", "q_lora_rank"),
    # transformers points head_dim at the rotary slice; it sizes only the rotary embedding.
    "base.head_dim": size("base.head_dim", "qk_rope_head_dim"),
    **field_table(
        size("base.mla.index_n_heads", "index_n_heads"),
        size("base.mla.index_head_dim", "index_head_dim"),
        size("moe.num_experts", "n_routed_experts", aliases=("num_local_experts",)),
        count("moe.num_shared_experts", "n_shared_experts"),
        _MLP_LAYER_TYPES,
    ),
    **_ROUTER_FIELDS,
}


# --- hy_v4 ---


def _parse_hy_v4(reader: Reader, variant: Variant) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    kinds = _listed(reader, "base.mla.indexer_types", _INDEXER_KINDS, num_layers)
    if kinds is None:
        kinds = tuple("full" if i == 0 or (i - 1) % 4 == 0 else "shared" for i in range(num_layers))
    indexer_layers = [i for i, kind in enumerate(kinds) if kind == "full"]
    parsed = _read_mla_family(reader, variant, first_dense=1, indexer_layers=indexer_layers)
    mla = parsed.base.mla
    assert mla is not None
    streams = reader.get("base.hyper_connections.streams")
    base = replace(
        parsed.base,
        attention_sinks=True,
        mla=replace(mla, output_gate_width=mla.v_head_dim),
        hyper_connections=HyperConnectionConfig(streams=streams, mixes=2 * streams, scales=2),
    )
    return replace(parsed, base=base)


HY_V4 = _family(
    _router_variant(
        "hy_v4",
        "HYV4ForCausalLM",
        "Hunyuan 4: MLA with DSA indexers, sinks and output gates, hyper-connections",
    ),
    {
        **_DSA_MLA_FIELDS,
        **field_table(
            Field(
                "base.mla.indexer_types", "indexer_types", "str_list", default=None, nullable=True
            ),
            size("base.hyper_connections.streams", "hc_mult", default=4),
        ),
    },
    _parse_hy_v4,
    base__hidden_size=2816,
    base__num_hidden_layers=34,
    base__num_attention_heads=32,
    base__num_key_value_heads=32,
    base__intermediate_size=6912,
    base__vocab_size=120832,
    base__max_position_embeddings=262144,
    base__rms_norm_eps=1e-5,
    base__head_dim=64,
    base__mla__q_lora_rank=1536,
    base__mla__qk_nope_head_dim=192,
    base__mla__v_head_dim=256,
    base__mla__index_n_heads=16,
    base__mla__index_head_dim=128,
    moe__num_experts=256,
    moe__num_shared_experts=1,
    moe__num_experts_per_tok=8,
    moe__expert_intermediate_size=768,
    moe__norm_topk_prob=True,
    moe__routed_scaling_factor=2.827,
    moe__n_group=1,
    moe__topk_group=1,
)

FAMILIES = (HY_V4,)
