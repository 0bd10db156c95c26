"""SK Telecom A.X K1 (axk1): DeepSeek-V3 with one more norm on the MoE block's output.

Latent attention (MLA), routed experts plus one shared MLP of n_shared × moe_intermediate_size,
DeepSeek-V3's grouped sigmoid router with the correction buffer: all read by the DeepSeek
readers. The MoE layers are "sparse" in `mlp_layer_types`, else every layer from
`first_k_dense_replace` on whose index is a multiple of `moe_layer_freq`; each MoE block ends in
an RMSNorm (`mlp.post_mlp_layernorm`), which the dense layers lack.

SK Telecom A.X K2 (axk2) keeps A.X K1's schedule and expert block and changes the rest:
- no q_b_proj: `q_gate_proj` reads the normed and the raw query latent side by side and emits
  each head's query and a v_head_dim sigmoid gate on its output;
- a DSA lightning indexer in every layer (DeepSeek-V3.2's, reading the query latent);
- the input norm of every layer and the post-attention norm of every MoE layer are wrapped in a
  low-rank sigmoid gate of `gated_norm_rank` (`AXK2GatedRMSNorm`); no norm after the MoE block;
- the router is grouped only when `n_group` and `topk_group` are set (A.X-K2-Light sets
  neither and picks from all experts).
"""

from __future__ import annotations

from dataclasses import replace

from typing import Any

from moecfg.families.base import (
    BASE_FIELDS,
    Parsed,
    field_table,
    read_base,
    read_dense_intermediate_size,
    read_top_k,
)
from moecfg.families.deepseek import MLA_FIELDS, Variant, _ignored_router_key, _read_mla, _read_router
from moecfg.families.fields import Field, Reader, count, size
from moecfg.families.longtail_deepseek import (
    _MLP_KINDS,
    _MLP_LAYER_TYPES,
    _ROUTER_FIELDS,
    _family,
    _listed,
    _router_variant,
    read_shared_expert_moe,
)
from moecfg.model import MoeConfig


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



# --- axk2 ---


def _read_optionally_grouped_router(reader: Reader, variant: Variant, num_experts: int, top_k: int) -> dict[str, Any]:
    """DeepSeek-V3's grouped sigmoid router when `n_group` and `topk_group` are set; else the
    same scores (plus the correction buffer) picking from all experts."""
    n_group, topk_group = reader.get("moe.n_group"), reader.get("moe.topk_group")
    if (n_group is None) != (topk_group is None):
        missing = "moe.topk_group" if topk_group is None else "moe.n_group"
        other = "n_group" if topk_group is None else "topk_group"
        raise reader.invalid(reader.fields[missing].key, f"must be set when {other} is (grouped routing needs both)")
    if n_group is not None:
        return _read_router(reader, variant, num_experts, top_k)
    _ignored_router_key(reader, variant, "moe.scoring_func", "sigmoid")
    return {
        "scoring_func": "sigmoid",
        "score_correction_bias": True,
        "norm_topk_prob": reader.get("moe.norm_topk_prob"),
        "routed_scaling_factor": float(reader.get("moe.routed_scaling_factor")),
    }


def _parse_axk2(reader: Reader, variant: Variant) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    moe_layers = _axk1_moe_layers(reader, num_layers)
    num_experts = reader.get("moe.num_experts")
    top_k = read_top_k(reader, num_experts)
    expert_size = reader.get("moe.expert_intermediate_size")
    num_shared = reader.get("moe.num_shared_experts")
    moe = MoeConfig(
        num_experts=num_experts,
        num_experts_per_tok=top_k,
        expert_intermediate_size=expert_size,
        moe_layers=moe_layers,
        num_shared_experts=num_shared,
        shared_expert_intermediate_size=num_shared * expert_size,
        **_read_optionally_grouped_router(reader, variant, num_experts, top_k),
    )
    base = read_base(
        reader, intermediate_size=read_dense_intermediate_size(reader, num_layers - len(moe_layers))
    )
    mla = replace(
        _read_mla(reader),
        fused_query_gate=True,
        index_n_heads=reader.get("base.mla.index_n_heads"),
        index_head_dim=reader.get("base.mla.index_head_dim"),
        indexer_layers=tuple(range(num_layers)),
    )
    sparse = set(moe_layers)
    base = replace(
        base,
        mla=mla,
        norm_gate_rank=reader.get("base.norm_gate_rank"),
        gated_norms_by_layer=tuple(2 if i in sparse else 1 for i in range(num_layers)),
    )
    return Parsed(base=base, moe=moe)


AXK2 = _family(
    _router_variant(
        "axk2",
        "AXK2ForCausalLM",
        "A.X K2: MLA with a fused query/output-gate projection and DSA indexers, gated norms, shared expert",
    ),
    {
        **{k: v for k, v in BASE_FIELDS.items() if k not in ("base.mlp_bias", "base.sliding_window")},
        **MLA_FIELDS,
        # The indexer and the output gate read the query latent: q_a_proj is always built.
        "base.mla.q_lora_rank": size("base.mla.q_lora_rank", "q_lora_rank", default=384),
        # transformers sets head_dim to qk_rope_head_dim; it sizes only the rotary embedding.
        "base.head_dim": size("base.head_dim", "qk_rope_head_dim", default=32),
        **field_table(
            size("base.mla.index_n_heads", "index_n_heads", default=16),
            size("base.mla.index_head_dim", "index_head_dim", default=128),
            size("base.norm_gate_rank", "gated_norm_rank", default=16),
            size("moe.num_experts", "n_routed_experts", aliases=("num_local_experts",)),
            count("moe.num_shared_experts", "n_shared_experts"),
            _MLP_LAYER_TYPES,
            count("moe.first_k_dense_replace", "first_k_dense_replace", default=1),
            size("moe.moe_layer_freq", "moe_layer_freq", default=1),
        ),
        **_ROUTER_FIELDS,
        **field_table(
            Field("moe.n_group", "n_group", default=None, minimum=1, nullable=True),
            Field("moe.topk_group", "topk_group", default=None, minimum=1, nullable=True),
        ),
    },
    _parse_axk2,
    base__hidden_size=2048,
    base__num_hidden_layers=48,
    base__num_attention_heads=32,
    base__num_key_value_heads=32,
    base__intermediate_size=5120,
    base__vocab_size=163840,
    base__max_position_embeddings=131072,
    base__mla__kv_lora_rank=128,
    base__mla__qk_nope_head_dim=64,
    base__mla__qk_rope_head_dim=32,
    base__mla__v_head_dim=64,
    moe__num_experts=128,
    moe__num_experts_per_tok=8,
    moe__expert_intermediate_size=512,
    moe__num_shared_experts=1,
    moe__norm_topk_prob=True,
    moe__routed_scaling_factor=2.5,
)

FAMILIES = (AXK1, AXK2)
