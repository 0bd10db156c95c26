"""Qwen3-MoE: routed experts only, dense layers chosen by decoder_sparse_step and mlp_only_layers."""

from __future__ import annotations

from moecfg.families.base import (
    BASE_FIELDS,
    MOE_FIELDS,
    QWEN_SCHEDULE_FIELDS,
    Family,
    Parsed,
    qwen_moe_layers,
    read_base,
    read_dense_intermediate_size,
    read_top_k,
    with_defaults,
)
from moecfg.families.fields import Reader
from moecfg.model import MoeConfig

FIELDS = with_defaults(
    {
        **{k: v for k, v in BASE_FIELDS.items() if k not in ("base.mlp_bias", "base.sliding_window")},
        **MOE_FIELDS,
        **QWEN_SCHEDULE_FIELDS,
    },
    base__num_key_value_heads=4,
    base__intermediate_size=6144,
    base__max_position_embeddings=32768,
)


def parse(reader: Reader) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    num_experts = reader.get("moe.num_experts")
    moe_layers = qwen_moe_layers(reader, num_layers)
    moe = MoeConfig(
        num_experts=num_experts,
        num_experts_per_tok=read_top_k(reader, num_experts),
        expert_intermediate_size=reader.get("moe.expert_intermediate_size"),
        moe_layers=moe_layers,
        norm_topk_prob=reader.get("moe.norm_topk_prob"),
    )
    dense_size = read_dense_intermediate_size(reader, num_layers - len(moe_layers))
    return Parsed(base=read_base(reader, intermediate_size=dense_size, qk_norm=True), moe=moe)


QWEN3_MOE = Family(
    model_type="qwen3_moe",
    architectures=("Qwen3MoeForCausalLM",),
    fields=FIELDS,
    parse=parse,
    summary="Qwen3-MoE: routed experts, per-head q/k norm, Qwen layer schedule",
)
