"""ERNIE 4.5 MoE: `moe_*` key names, shared experts, MoE layers in a start/end/interval window.

`use_bias` biases every Linear the family builds from the config (attention, dense MLP, shared
experts, lm_head) but not the fused routed experts. The router selects experts by softmax score
plus a learned `e_score_correction_bias` (one parameter per expert, counted as router bias) and
always renormalises the k weights it keeps.
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
from moecfg.families.fields import Field, Reader, count, flag, size
from moecfg.model import MoeConfig

FIELDS = with_defaults(
    {
        **{
            k: v
            for k, v in BASE_FIELDS.items()
            if k not in ("base.attention_bias", "base.mlp_bias", "base.sliding_window")
        },
        **field_table(
            flag("base.attention_bias", "use_bias", default=False),
            flag("base.mlp_bias", "use_bias", default=False),
            size("moe.num_experts", "moe_num_experts", default=64, aliases=("num_experts",)),
            size("moe.num_experts_per_tok", "moe_k", default=6, aliases=("num_experts_per_tok",)),
            size("moe.expert_intermediate_size", "moe_intermediate_size", default=1536),
            count("moe.num_shared_experts", "moe_num_shared_experts", default=2),
            count("moe.moe_layer_start_index", "moe_layer_start_index", default=1),
            Field("moe.moe_layer_end_index", "moe_layer_end_index", default=-1, minimum=-1),
            size("moe.moe_layer_interval", "moe_layer_interval", default=1),
        ),
    },
    base__vocab_size=103424,
    base__hidden_size=2560,
    base__intermediate_size=12288,
    base__num_hidden_layers=28,
    base__num_attention_heads=20,
    base__num_key_value_heads=4,
    base__max_position_embeddings=131072,
    base__rms_norm_eps=1e-5,
    base__tie_word_embeddings=True,
    base__rope_theta=500000.0,
)


def read_moe_layers(reader: Reader, num_layers: int) -> tuple[int, ...]:
    """MoE iff (i + 1) % interval == 0 and start <= i <= end; an end of -1 means the last layer."""
    start = reader.get("moe.moe_layer_start_index")
    end = reader.get("moe.moe_layer_end_index")
    interval = reader.get("moe.moe_layer_interval")
    last = num_layers - 1 if end == -1 else end
    return tuple(i for i in range(num_layers) if (i + 1) % interval == 0 and start <= i <= last)


def parse(reader: Reader) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    num_experts = reader.get("moe.num_experts")
    expert_size = reader.get("moe.expert_intermediate_size")
    num_shared = reader.get("moe.num_shared_experts")
    moe_layers = read_moe_layers(reader, num_layers)
    base = read_base(
        reader,
        intermediate_size=read_dense_intermediate_size(reader, num_layers - len(moe_layers)),
    )
    moe = MoeConfig(
        num_experts=num_experts,
        num_experts_per_tok=read_top_k(reader, num_experts),
        expert_intermediate_size=expert_size,
        moe_layers=moe_layers,
        norm_topk_prob=True,
        scoring_func="softmax",
        router_bias=True,
        num_shared_experts=num_shared,
        shared_expert_intermediate_size=reader.derived(
            "moe.shared_expert_intermediate_size", expert_size * num_shared if num_shared else None
        ),
        shared_expert_bias=base.mlp_bias,
    )
    # The lm_head is a Linear with bias=use_bias, like every other projection of the family.
    return Parsed(base=replace(base, lm_head_bias=base.mlp_bias), moe=moe)


ERNIE4_5_MOE = Family(
    model_type="ernie4_5_moe",
    architectures=("Ernie4_5_MoeForCausalLM",),
    fields=FIELDS,
    parse=parse,
    summary="ERNIE 4.5 MoE: moe_* keys, shared experts, MoE layers from start to end index",
)
