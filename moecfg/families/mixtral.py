"""Mixtral and its close relatives: every layer is MoE and `intermediate_size` is the expert width.

None of them has a dense MLP or a shared expert, so `base.intermediate_size` is None. They
differ in small, declared ways:

- mixtral: unbiased attention; sliding window on every layer when `sliding_window` is set;
  the router always renormalises its top-k (softmax over the k selected logits).
- olmoe: q/k RMSNorm over the whole projection (q: hidden_size, k: kv heads * hidden/heads,
  `OlmoeAttention`), `attention_bias` on q/k/v/o, optional top-k renormalisation.
- phimoe: LayerNorm with bias, `attention_bias` on q/k/v/o, `lm_head_bias`, sparsemixer routing.
- granitemoe: `attention_bias` on q/k/v/o; muP multipliers (embedding/residual/attention/logits)
  scale activations only, so they are not read.
"""

from __future__ import annotations

from dataclasses import replace

from moecfg.families.base import (
    BASE_FIELDS,
    Family,
    Parsed,
    field_table,
    read_base,
    read_top_k,
    with_defaults,
)
from moecfg.families.fields import Reader, flag, size
from moecfg.model import SLIDING_ATTENTION, BaseConfig, MoeConfig

#: The dense base without a dense MLP: these families have none.
_BASE = {
    k: v for k, v in BASE_FIELDS.items() if k not in ("base.intermediate_size", "base.mlp_bias")
}


def _experts(num_experts_key: str, *aliases: str) -> dict:
    return field_table(
        size("moe.num_experts", num_experts_key, aliases=aliases),
        size("moe.num_experts_per_tok", "num_experts_per_tok"),
        size("moe.expert_intermediate_size", "intermediate_size"),
    )


def read_every_layer_moe(
    reader: Reader,
    *,
    norm_topk_prob: bool | None,
    scoring_func: str,
    expert_bias: bool = False,
    router_bias: bool = False,
) -> MoeConfig:
    """The MoE block of a family whose every layer routes, with its fixed router facts."""
    num_experts = reader.get("moe.num_experts")
    return MoeConfig(
        num_experts=num_experts,
        num_experts_per_tok=read_top_k(reader, num_experts),
        expert_intermediate_size=reader.get("moe.expert_intermediate_size"),
        moe_layers=tuple(range(reader.get("base.num_hidden_layers"))),
        norm_topk_prob=norm_topk_prob,
        scoring_func=scoring_func,
        expert_bias=expert_bias,
        router_bias=router_bias,
    )


def _sliding_everywhere(reader: Reader) -> tuple[str, ...] | None:
    """Every layer slides when `sliding_window` is set (Mixtral, PhiMoE masks)."""
    if reader.get("base.sliding_window") is None:
        return None
    return (SLIDING_ATTENTION,) * reader.get("base.num_hidden_layers")


def _parse_mixtral(reader: Reader) -> Parsed:
    moe = read_every_layer_moe(reader, norm_topk_prob=None, scoring_func="topk_softmax")
    base = read_base(reader, intermediate_size=None, layer_types=_sliding_everywhere(reader))
    return Parsed(base=base, moe=moe)


def _parse_olmoe(reader: Reader) -> Parsed:
    moe = read_every_layer_moe(
        reader, norm_topk_prob=reader.get("moe.norm_topk_prob"), scoring_func="softmax"
    )
    base = read_base(reader, intermediate_size=None, qk_norm=True)
    return Parsed(base=replace(base, qk_norm_full_width=True), moe=moe)


def _parse_phimoe(reader: Reader) -> Parsed:
    moe = read_every_layer_moe(reader, norm_topk_prob=None, scoring_func="sparsemixer")
    base: BaseConfig = read_base(
        reader, intermediate_size=None, layer_types=_sliding_everywhere(reader)
    )
    return Parsed(
        base=replace(base, norm_bias=True, lm_head_bias=reader.get("base.lm_head_bias")), moe=moe
    )


def _parse_granitemoe(reader: Reader) -> Parsed:
    moe = read_every_layer_moe(reader, norm_topk_prob=None, scoring_func="topk_softmax")
    return Parsed(base=read_base(reader, intermediate_size=None), moe=moe)


MIXTRAL = Family(
    model_type="mixtral",
    architectures=("MixtralForCausalLM",),
    fields=with_defaults(
        {
            **{k: v for k, v in _BASE.items() if k != "base.attention_bias"},
            **_experts("num_local_experts", "num_experts"),
        },
        base__num_key_value_heads=8,
        base__max_position_embeddings=131072,
        base__rope_theta=1e6,
        base__rms_norm_eps=1e-5,
    ),
    parse=_parse_mixtral,
    summary="Mixtral: every layer MoE, expert width in intermediate_size, no shared expert",
)

OLMOE = Family(
    model_type="olmoe",
    architectures=("OlmoeForCausalLM",),
    fields=with_defaults(
        {
            **{k: v for k, v in _BASE.items() if k != "base.sliding_window"},
            **_experts("num_experts", "num_local_experts"),
            **field_table(flag("moe.norm_topk_prob", "norm_topk_prob", default=False)),
        },
        base__max_position_embeddings=4096,
        base__rms_norm_eps=1e-5,
    ),
    parse=_parse_olmoe,
    summary="OLMoE: every layer MoE, full-width q/k norms, optional top-k renormalisation",
)

PHIMOE = Family(
    model_type="phimoe",
    architectures=("PhimoeForCausalLM",),
    fields=with_defaults(
        {
            **_BASE,
            **_experts("num_local_experts"),
            **field_table(flag("base.lm_head_bias", "lm_head_bias", default=False)),
        },
        base__num_key_value_heads=8,
        base__max_position_embeddings=131072,
        base__rope_theta=1e6,
        base__rms_norm_eps=1e-5,
    ),
    parse=_parse_phimoe,
    summary="PhiMoE (Phi-3.5-MoE): every layer MoE, LayerNorm with bias, lm_head bias, sparsemixer",
)

GRANITEMOE = Family(
    model_type="granitemoe",
    architectures=("GraniteMoeForCausalLM",),
    fields={
        **{k: v for k, v in _BASE.items() if k != "base.sliding_window"},
        **_experts("num_local_experts"),
    },
    parse=_parse_granitemoe,
    summary="GraniteMoE: every layer MoE, expert width in intermediate_size, muP multipliers",
)

FAMILIES = (MIXTRAL, OLMOE, PHIMOE, GRANITEMOE)
