"""Doge (SmallDoge): Llama-style decoder with a dynamic attention mask, learned residual scales and,
when `is_moe`, the cross-domain MoE (CDMoE).

Attention has per-head q/k RMSNorms plus the dynamic mask's `A` (one per kv head) and
`dt_proj` (kv heads · head_dim → kv heads); `attention_bias` biases q/k/v/o and dt_proj. Each
layer scales its two residual branches by `input_residual` and `post_attention_residual`
(hidden_size each). With `is_moe` false (transformers' default) the model is dense.

The CDMoE keeps the dense MLP of `intermediate_size` on every token and adds
`num_experts` one-neuron experts: expert i is row i of `down_embed` (read) and of `up_embed`
(write), ungated. A product-key router (`router_gate`, hidden → 2 · ⌊√E⌋, unbiased) scores
two sets of ⌊√E⌋ keys; their sums name ⌊√E⌋² experts, of which the top
`num_experts_per_tok` are softmaxed.
"""

from __future__ import annotations

import math
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
from moecfg.families.fields import Reader, flag
from moecfg.model import MoeConfig


def _cdmoe(reader: Reader, num_layers: int) -> MoeConfig:
    num_experts = reader.get("moe.num_experts")
    keys = math.isqrt(num_experts)
    if keys * keys != num_experts:
        reader.warnings.append(
            f"num_experts ({num_experts}) is not a perfect square: Doge's product-key router "
            f"reaches only {keys}² = {keys * keys} of them"
        )
    return MoeConfig(
        num_experts=num_experts,
        num_experts_per_tok=read_top_k(reader, num_experts),
        expert_intermediate_size=1,
        experts_gated=False,
        moe_layers=tuple(range(num_layers)),
        norm_topk_prob=reader.get("moe.norm_topk_prob"),
        scoring_func="topk_softmax",
        router_outputs=2 * keys,
        dense_mlp_in_moe_layers=True,
    )


def _parse_doge(reader: Reader) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    base = read_base(reader, intermediate_size=reader.get("base.intermediate_size"), qk_norm=True)
    base = replace(base, attention_dynamic_mask=True, residual_scales_per_layer=2)
    return Parsed(base=base, moe=_cdmoe(reader, num_layers) if reader.get("moe.is_moe") else None)


DOGE = Family(
    model_type="doge",
    architectures=("DogeForCausalLM",),
    fields=with_defaults(
        {
            **BASE_FIELDS,
            **{k: v for k, v in MOE_FIELDS.items() if k != "moe.expert_intermediate_size"},
            **field_table(flag("moe.is_moe", "is_moe", default=False)),
        },
        base__intermediate_size=2048,
        moe__num_experts=16384,
        moe__num_experts_per_tok=64,
    ),
    parse=_parse_doge,
    summary="Doge: dynamic-mask attention, residual scales, optional CDMoE of one-neuron experts",
)

FAMILIES = (DOGE,)
