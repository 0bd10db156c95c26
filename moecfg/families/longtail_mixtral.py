"""Every-layer MoE families built like Mixtral/OLMoE, with q/k norms over the whole projection.

- flex_olmo (FlexOlmo): OLMoE's decoder with post-norms (post_attention_layernorm and
  post_feedforward_layernorm, still two per layer); q_norm spans heads × head_dim and k_norm
  kv heads × head_dim; `attention_bias` on q/k/v/o; softmax router, optional renormalisation.
- minimax_m2 (MiniMax-M2): unbiased attention with the same projection-wide q/k norms (there
  head_dim × heads is twice hidden_size); sigmoid router choosing on scores plus the
  `e_score_correction_bias` buffer, always renormalised.

- granitemoeshared (Granite 3 MoE with a shared MLP): GraniteMoE plus, when
  `shared_intermediate_size` is not 0, one always-on MLP of that width (`shared_mlp`).

- granitemoe_swa (Granite MoE with sliding windows): GraniteMoE-Shared plus one learned
  attention sink per head per layer, and sliding-window attention on all layers but every
  fourth (from layer 0) unless `layer_types` lists them.

All keep the expert width in `intermediate_size`, as Mixtral does.
"""

from __future__ import annotations

from dataclasses import replace

from moecfg.families.base import BASE_FIELDS, Family, Parsed, field_table, read_base, with_defaults
from moecfg.families.fields import Field, Reader, count, flag, size
from moecfg.families.mixer_layers import read_layer_kinds
from moecfg.families.mixtral import GRANITEMOE, read_every_layer_moe
from moecfg.model import FULL_ATTENTION, SLIDING_ATTENTION

#: The dense base without a dense MLP or sliding window: neither family has one.
_BASE = {
    k: v
    for k, v in BASE_FIELDS.items()
    if k not in ("base.intermediate_size", "base.mlp_bias", "base.sliding_window")
}


def _experts(num_experts_key: str, alias: str) -> dict:
    return field_table(
        size("moe.num_experts", num_experts_key, aliases=(alias,)),
        size("moe.num_experts_per_tok", "num_experts_per_tok"),
        size("moe.expert_intermediate_size", "intermediate_size"),
    )


def _projection_wide_qk_norm(reader: Reader, **router) -> Parsed:
    moe = read_every_layer_moe(reader, **router)
    base = read_base(reader, intermediate_size=None, qk_norm=True)
    return Parsed(
        base=replace(base, qk_norm_full_width=True, qk_norm_sized_by_head_dim=True), moe=moe
    )


def _parse_flex_olmo(reader: Reader) -> Parsed:
    return _projection_wide_qk_norm(
        reader, norm_topk_prob=reader.get("moe.norm_topk_prob"), scoring_func="softmax"
    )


def _parse_minimax_m2(reader: Reader) -> Parsed:
    parsed = _projection_wide_qk_norm(reader, norm_topk_prob=True, scoring_func="sigmoid")
    assert parsed.moe is not None
    return replace(parsed, moe=replace(parsed.moe, score_correction_bias=True))


FLEX_OLMO = Family(
    model_type="flex_olmo",
    architectures=("FlexOlmoForCausalLM",),
    fields=with_defaults(
        {
            **_BASE,
            **_experts("num_experts", "num_local_experts"),
            **field_table(flag("moe.norm_topk_prob", "norm_topk_prob", default=False)),
        },
        base__max_position_embeddings=4096,
    ),
    parse=_parse_flex_olmo,
    summary="FlexOlmo: OLMoE with post-norms, every layer MoE, projection-wide q/k norms",
)

MINIMAX_M2 = Family(
    model_type="minimax_m2",
    architectures=("MiniMaxM2ForCausalLM",),
    fields=with_defaults(
        {
            **{k: v for k, v in _BASE.items() if k != "base.attention_bias"},
            **_experts("num_local_experts", "num_experts"),
        },
        base__num_key_value_heads=8,
        base__head_dim=128,
        base__max_position_embeddings=196608,
    ),
    parse=_parse_minimax_m2,
    summary="MiniMax-M2: every layer MoE, projection-wide q/k norms, sigmoid router with bias",
)


def _parse_granitemoeshared(reader: Reader) -> Parsed:
    parsed = GRANITEMOE.parse(reader)
    shared = reader.get("moe.shared_expert_intermediate_size")
    if not shared:
        return parsed
    assert parsed.moe is not None
    moe = replace(parsed.moe, num_shared_experts=1, shared_expert_intermediate_size=shared)
    return replace(parsed, moe=moe)


GRANITEMOESHARED = Family(
    model_type="granitemoeshared",
    architectures=("GraniteMoeSharedForCausalLM",),
    fields={
        **GRANITEMOE.fields,
        **field_table(
            count("moe.shared_expert_intermediate_size", "shared_intermediate_size", default=0)
        ),
    },
    parse=_parse_granitemoeshared,
    summary="GraniteMoE with a shared MLP of shared_intermediate_size on every layer",
)


#: transformers' spellings of Granite's attention kinds in `layer_types`.
_ATTENTION_KINDS = {"full_attention": FULL_ATTENTION, "sliding_attention": SLIDING_ATTENTION}


def _parse_granitemoe_swa(reader: Reader) -> Parsed:
    parsed = _parse_granitemoeshared(reader)
    num_layers = parsed.base.num_hidden_layers
    kinds = read_layer_kinds(reader, "base.layer_types", num_layers, _ATTENTION_KINDS)
    if kinds is None:
        kinds = tuple(
            FULL_ATTENTION if i % 4 == 0 else SLIDING_ATTENTION for i in range(num_layers)
        )
    base = replace(
        parsed.base,
        attention_sinks=True,
        layer_types=kinds,
        sliding_window=reader.get("base.sliding_window"),
    )
    return replace(parsed, base=base)


GRANITEMOE_SWA = Family(
    model_type="granitemoe_swa",
    architectures=("GraniteMoeSWAForCausalLM",),
    fields={
        **GRANITEMOESHARED.fields,
        **field_table(
            Field("base.sliding_window", "sliding_window", default=128, minimum=1),
            Field("base.layer_types", "layer_types", "str_list", default=None, nullable=True),
        ),
    },
    parse=_parse_granitemoe_swa,
    summary="GraniteMoE-Shared with per-head attention sinks and sliding-window layers",
)

FAMILIES = (FLEX_OLMO, MINIMAX_M2, GRANITEMOESHARED, GRANITEMOE_SWA)
