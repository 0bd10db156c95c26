"""ZAYA (Zyphra ZAYA1): convolved attention, a router MLP with a skip expert, scaled residuals.

- Attention (`self_attn.qkv_proj`): q_proj and k_proj as usual, values from `v_proj_current` and
  `v_proj_delayed` (half a value head each, the second from the previous token), q and k mixed
  by two causal convolutions of `cca_time0` and `cca_time1` taps, one key temperature per KV
  head; projections biased iff `attention_bias` (model.ConvolvedQkConfig). "hybrid" layers
  attend fully, "hybrid_sliding" ones within `sliding_window`.
- Every layer is MoE with `num_experts` experts and no shared one. The router is an MLP of
  `router_hidden_size` with E + 1 outputs: the last is a skip expert that computes nothing, so
  the one expert a token picks (transformers allows only top-1) is an upper bound on its work.
  From layer 1 on the router adds the previous layer's router state, scaled by a learned vector.
- Each layer scales and shifts both its residual stream and its block output after attention
  and after the MLP (four hidden_size vectors each time: 8 per layer); the embeddings are
  scaled and shifted once before the first layer (2 vectors).
"""

from __future__ import annotations

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
from moecfg.families.fields import Field, Reader, flag, size
from moecfg.families.mixer_layers import read_layer_kinds
from moecfg.model import FULL_ATTENTION, SLIDING_ATTENTION, ConvolvedQkConfig, MoeConfig

_KINDS = {"hybrid": FULL_ATTENTION, "hybrid_sliding": SLIDING_ATTENTION}

_FIELDS = {
    **{
        k: v for k, v in BASE_FIELDS.items() if k not in ("base.intermediate_size", "base.mlp_bias")
    },
    "base.rope_theta": Field(
        "base.rope_theta",
        "rope_theta",
        "float",
        default=5_000_000.0,
        aliases=("rope_parameters.hybrid.rope_theta",),
        minimum=0,
    ),
    **field_table(
        Field(
            "base.partial_rotary_factor",
            "rope_parameters.hybrid.partial_rotary_factor",
            "float",
            default=0.5,
            minimum=0,
        ),
        Field("base.layer_types", "layer_types", "str_list", default=None, nullable=True),
        flag("base.lm_head_bias", "lm_head_bias", default=False),
        size("base.convolved_qk.depthwise_kernel", "cca_time0", default=2),
        size("base.convolved_qk.grouped_kernel", "cca_time1", default=2),
        size("moe.router_mlp_width", "router_hidden_size", default=256),
    ),
    **{
        name: MOE_FIELDS[name]
        for name in ("moe.num_experts", "moe.num_experts_per_tok", "moe.expert_intermediate_size")
    },
}


def _read_moe(reader: Reader, num_layers: int) -> MoeConfig:
    num_experts = reader.get("moe.num_experts")
    top_k = read_top_k(reader, num_experts)
    if top_k != 1:
        raise reader.invalid(
            reader.fields["moe.num_experts_per_tok"].key,
            f"{top_k}, but transformers' zaya routes each token to exactly 1 expert",
        )
    if reader.provenance["moe.num_experts_per_tok"] == "default":
        # Not a guess: the only top-k zaya's router implements.
        reader.provenance["moe.num_experts_per_tok"] = "architecture"
    return MoeConfig(
        num_experts=num_experts,
        num_experts_per_tok=top_k,
        expert_intermediate_size=reader.get("moe.expert_intermediate_size"),
        moe_layers=tuple(range(num_layers)),
        norm_topk_prob=None,
        scoring_func="softmax",
        # The router scores the experts and one skip expert.
        router_outputs=num_experts + 1,
        router_mlp_width=reader.get("moe.router_mlp_width"),
        router_state_scale=True,
    )


def _parse(reader: Reader) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    kinds = read_layer_kinds(reader, "base.layer_types", num_layers, _KINDS)
    if kinds is None:
        kinds = reader.defaulted("base.layer_types", (FULL_ATTENTION,) * num_layers)
    base = read_base(reader, intermediate_size=None, layer_types=kinds)
    if SLIDING_ATTENTION in kinds and base.sliding_window is None:
        raise reader.invalid("sliding_window", 'null, but layer_types has "hybrid_sliding" layers')
    base = replace(
        base,
        partial_rotary_factor=float(reader.get("base.partial_rotary_factor")),
        lm_head_bias=reader.get("base.lm_head_bias"),
        convolved_qk=ConvolvedQkConfig(
            depthwise_kernel=reader.get("base.convolved_qk.depthwise_kernel"),
            grouped_kernel=reader.get("base.convolved_qk.grouped_kernel"),
        ),
        residual_scales_per_layer=8,
        input_scales=2,
    )
    return Parsed(base=base, moe=_read_moe(reader, num_layers))


ZAYA = Family(
    model_type="zaya",
    architectures=("ZayaForCausalLM",),
    fields=with_defaults(
        _FIELDS,
        base__hidden_size=2048,
        base__num_hidden_layers=40,
        base__num_attention_heads=8,
        base__num_key_value_heads=2,
        base__head_dim=128,
        base__vocab_size=262272,
        base__max_position_embeddings=131072,
        base__tie_word_embeddings=True,
        base__rms_norm_eps=1e-5,
        moe__num_experts=16,
        moe__num_experts_per_tok=1,
        moe__expert_intermediate_size=2048,
    ),
    parse=_parse,
    summary=(
        "ZAYA: convolved q/k attention, router MLP with a skip expert, scaled residuals, "
        "every layer MoE"
    ),
)
