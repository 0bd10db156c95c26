"""gpt-oss: every layer MoE with biased experts and router, attention sinks, sliding/full layers.

From `GptOssForCausalLM`: q/k/v/o carry `attention_bias` (True by default); each attention
layer learns one sink logit per head; the experts' fused gate_up and down projections have
biases; the router Linear has a bias and takes the top-k logits before a softmax over those k.
`layer_types` alternates sliding (window `sliding_window`) and full attention unless listed.
"""

from __future__ import annotations

from dataclasses import replace

from moecfg.families.base import BASE_FIELDS, Family, Parsed, field_table, read_base, with_defaults
from moecfg.families.fields import Field, Reader, size
from moecfg.families.layer_kinds import read_layer_types
from moecfg.families.mixtral import read_every_layer_moe
from moecfg.model import FULL_ATTENTION, SLIDING_ATTENTION

FIELDS = with_defaults(
    {
        **{
            k: v
            for k, v in BASE_FIELDS.items()
            if k not in ("base.intermediate_size", "base.mlp_bias")
        },
        **field_table(
            Field("base.layer_types", "layer_types", "str_list", default=None, nullable=True),
            size("moe.num_experts", "num_local_experts", aliases=("num_experts",)),
            size("moe.num_experts_per_tok", "num_experts_per_tok"),
            size("moe.expert_intermediate_size", "intermediate_size"),
        ),
    },
    base__num_key_value_heads=8,
    base__head_dim=64,
    base__max_position_embeddings=131072,
    base__rope_theta=150000.0,
    base__rms_norm_eps=1e-5,
    base__attention_bias=True,
    base__sliding_window=128,
)


def parse(reader: Reader) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    moe = read_every_layer_moe(
        reader, norm_topk_prob=None, scoring_func="topk_softmax", expert_bias=True, router_bias=True
    )
    alternating = (SLIDING_ATTENTION if i % 2 == 0 else FULL_ATTENTION for i in range(num_layers))
    base = read_base(
        reader,
        intermediate_size=None,
        layer_types=read_layer_types(reader, num_layers, tuple(alternating)),
    )
    return Parsed(base=replace(base, attention_sinks=True), moe=moe)


GPT_OSS = Family(
    model_type="gpt_oss",
    architectures=("GptOssForCausalLM",),
    fields=FIELDS,
    parse=parse,
    summary="gpt-oss: biased experts and router, attention sinks, sliding/full attention layers",
)
