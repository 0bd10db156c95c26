"""Qwen3-VL-MoE: Qwen3-MoE's language model under `text_config`, beside a vision tower.

transformers has no causal-LM class for it: `Qwen3VLMoeForConditionalGeneration` holds the
language model, the lm_head and the vision tower. moecfg counts the first two. That model ties
its embeddings by the outer `tie_word_embeddings` (default false) and ignores the one inside
`text_config`, so that field is read at the top level. The router always renormalises its
top-k weights; a `norm_topk_prob` in the config has no effect.
"""

from __future__ import annotations

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
from moecfg.model import MoeConfig

FIELDS = with_defaults(
    {
        **{k: v for k, v in BASE_FIELDS.items() if k not in ("base.mlp_bias", "base.sliding_window")},
        **field_table(
            Field("base.tie_word_embeddings", "tie_word_embeddings", "bool", default=False, top_level=True)
        ),
        **MOE_FIELDS,
        **field_table(
            size("moe.num_experts", "num_experts", default=60, aliases=("num_local_experts",)),
            Field("moe.norm_topk_prob", "norm_topk_prob", "bool", default=None, nullable=True),
        ),
        **QWEN_SCHEDULE_FIELDS,
    },
    base__vocab_size=151936,
    base__hidden_size=2048,
    base__intermediate_size=5632,
    base__num_hidden_layers=24,
    base__num_attention_heads=16,
    base__num_key_value_heads=16,
    base__max_position_embeddings=128000,
    base__rope_theta=500000.0,
    moe__num_experts_per_tok=4,
    moe__expert_intermediate_size=1408,
)


def parse(reader: Reader) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    num_experts = reader.get("moe.num_experts")
    moe_layers = qwen_moe_layers(reader, num_layers)
    if reader.get("moe.norm_topk_prob") is False:
        reader.warnings.append(
            f"{reader.key_name('norm_topk_prob')} is false, but the Qwen3-VL-MoE router always "
            "renormalises its top-k weights; transformers ignores the key"
        )
    reader.provenance.pop("moe.norm_topk_prob", None)
    moe = MoeConfig(
        num_experts=num_experts,
        num_experts_per_tok=read_top_k(reader, num_experts),
        expert_intermediate_size=reader.get("moe.expert_intermediate_size"),
        moe_layers=moe_layers,
        norm_topk_prob=True,
    )
    dense_size = read_dense_intermediate_size(reader, num_layers - len(moe_layers))
    return Parsed(base=read_base(reader, intermediate_size=dense_size, qk_norm=True), moe=moe)


QWEN3_VL_MOE = Family(
    model_type="qwen3_vl_moe",
    architectures=("Qwen3VLMoeForConditionalGeneration",),
    fields=FIELDS,
    parse=parse,
    summary="Qwen3-VL-MoE: Qwen3-MoE text model under text_config; router always renormalises",
    text_config="text_config",
    excluded=(
        "vision tower (vision_config): only the language model and lm_head of "
        "Qwen3VLMoeForConditionalGeneration are counted",
    ),
)
