"""Qwen2-MoE (Qwen1.5-MoE): routed experts plus one sigmoid-gated shared expert, biased q/k/v.

The shared expert is one MLP of `shared_expert_intermediate_size` whose output is scaled by
sigmoid(Linear(hidden, 1)) (`shared_expert_gate`). Dense layers follow the Qwen schedule
(decoder_sparse_step, mlp_only_layers). With `use_sliding_window`, the first
`max_window_layers` layers alternate sliding/full attention, as Qwen2MoeConfig computes.
"""

from __future__ import annotations

from dataclasses import replace

from moecfg.families.base import (
    BASE_FIELDS,
    MOE_FIELDS,
    QWEN_SCHEDULE_FIELDS,
    Family,
    Parsed,
    count,
    field_table,
    qwen_moe_layers,
    read_base,
    read_dense_intermediate_size,
    read_top_k,
    with_defaults,
)
from moecfg.families.fields import Field, Reader, flag, size
from moecfg.families.layer_kinds import read_layer_types
from moecfg.model import FULL_ATTENTION, SLIDING_ATTENTION, MoeConfig

FIELDS = with_defaults(
    {
        **{
            k: v
            for k, v in BASE_FIELDS.items()
            if k not in ("base.mlp_bias", "base.attention_bias")
        },
        **field_table(
            flag("base.attention_bias", "qkv_bias", default=True),
            flag("base.use_sliding_window", "use_sliding_window", default=False),
            count("base.max_window_layers", "max_window_layers", default=28),
            Field("base.layer_types", "layer_types", "str_list", default=None, nullable=True),
            # Qwen2MoeConfig writes 0 here when use_sliding_window is off.
            Field("base.sliding_window", "sliding_window", default=4096, minimum=0, nullable=True),
        ),
        **{k: v for k, v in MOE_FIELDS.items() if k != "moe.num_experts"},
        **field_table(
            size("moe.num_experts", "num_experts"),
            size(
                "moe.shared_expert_intermediate_size",
                "shared_expert_intermediate_size",
                default=5632,
            ),
        ),
        **QWEN_SCHEDULE_FIELDS,
    },
    base__num_key_value_heads=16,
    base__intermediate_size=5632,
    base__max_position_embeddings=32768,
)


def qwen2_layer_types(reader: Reader, num_layers: int, use_sliding_window: bool) -> tuple[str, ...]:
    """Qwen2MoeConfig's default: the 1st, 3rd, ... layers below max_window_layers slide."""
    max_window_layers = reader.get("base.max_window_layers")
    return tuple(
        SLIDING_ATTENTION
        if use_sliding_window and i % 2 == 0 and i < max_window_layers
        else FULL_ATTENTION
        for i in range(num_layers)
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
        scoring_func="softmax",
        num_shared_experts=1,
        shared_expert_intermediate_size=reader.get("moe.shared_expert_intermediate_size"),
        shared_expert_gate=True,
    )
    use_sliding_window = reader.get("base.use_sliding_window")
    layer_types = read_layer_types(
        reader, num_layers, qwen2_layer_types(reader, num_layers, use_sliding_window)
    )
    base = read_base(
        reader,
        intermediate_size=read_dense_intermediate_size(reader, num_layers - len(moe_layers)),
        output_bias=False,
        layer_types=layer_types,
    )
    if not use_sliding_window or not base.sliding_window:
        # Qwen2MoeConfig drops the window unless use_sliding_window is set (and writes 0).
        base = replace(base, sliding_window=reader.derived("base.sliding_window", None))
    return Parsed(base=base, moe=moe)


QWEN2_MOE = Family(
    model_type="qwen2_moe",
    architectures=("Qwen2MoeForCausalLM",),
    fields=FIELDS,
    parse=parse,
    summary="Qwen2-MoE / Qwen1.5-MoE: routed experts + one gated shared expert, biased q/k/v",
)
