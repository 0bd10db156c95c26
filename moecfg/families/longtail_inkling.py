"""Inkling and Inkling 2 (Thinking Machines) text decoders: attention without RoPE, with short
convolutions and a relative position bias read from the hidden state.

Both, as transformers 5 builds `inkling_text` and `inkling2_text`:
- attention: unbiased q/k/v/o; `r_proj` (h → heads · `d_rel`) and a bank of `d_rel`
  bias-by-distance profiles over `rel_extent` tokens (over the window on sliding layers);
  depthwise causal convolutions of `conv_kernel_size` taps (no bias) over the keys and the
  values. Sliding layers ("hybrid_sliding" in `layer_types`) take their heads, KV heads and head
  size from the `swa_*` keys; full layers ("hybrid") from the plain ones. When `layer_types` is
  absent, every sixth layer is full and the others slide.
- each decoder layer convolves its attention output and its MLP output the same way (h
  channels each); the embedding is followed by an RMSNorm; `lm_head` is never tied to it.

Inkling (`inkling_text`): per-head q/k RMSNorms. Sparse layers ("sparse" in `mlp_layer_types`,
else all from `dense_mlp_idx` on) hold `n_routed_experts` experts and `n_shared_experts` shared
experts of `moe_intermediate_size`, the shared ones stored as 3-D tensors [shared, I, h] that
run on every token. The router scores routed and shared experts together (E + shared logits),
picks k routed experts on the sigmoid scores plus the `e_score_correction_bias` buffer, and
normalises the k chosen and the shared weights jointly; a learned scalar (`global_scale`)
scales them. Dense layers are a SwiGLU of `intermediate_size` with its own learned scalar; a
config with `dense_intermediate_size` uses `intermediate_size` as the experts' width instead.
`local_layer_ids` lists the sliding layers when `layer_types` is absent.

Inkling 2 (`inkling2_text`): every layer sparse, no shared experts, router of E logits
(`scoring_func`, bias-corrected pick, renormalised, times `route_scale`). Attention adds an
output gate (h → heads · head_dim), sinks projected per token (h → heads) and learned scales
before the L2 clipping of queries and relative states. Full layers make their key/value
convolution taps partly dynamic (a static weight plus h → KV heads · taps). Block attention
residuals replace the residual sum: learned queries before each MLP, before each attention
from layer 1 on (three, for q, k and v, on full layers, which norm each input separately),
and before the final norm.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

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
from moecfg.families.fields import Field, Reader, count, size
from moecfg.families.longtail_deepseek import _MLP_LAYER_TYPES, _mlp_layer_kinds
from moecfg.families.mixer_layers import every_nth, read_layer_kinds
from moecfg.model import (
    FULL_ATTENTION,
    SLIDING_ATTENTION,
    AttentionResidualConfig,
    BaseConfig,
    KindAttention,
    MoeConfig,
    RelativeLogitsConfig,
    ShortConvConfig,
)

#: Inkling's spellings of the attention kinds in `layer_types`.
_LAYER_KINDS = {"hybrid": FULL_ATTENTION, "hybrid_sliding": SLIDING_ATTENTION}

#: Keys of the shared decoder: everything but biases and the plain `intermediate_size`, whose
#: meaning differs between the two families.
_BASE = {
    **{
        k: v
        for k, v in BASE_FIELDS.items()
        if k not in ("base.attention_bias", "base.mlp_bias", "base.intermediate_size")
    },
    **field_table(
        size("base.sliding_window", "sliding_window_size", aliases=("sliding_window",)),
        size(
            "base.max_position_embeddings",
            "max_position_embeddings",
            aliases=("model_max_length",),
        ),
        size("base.swa_num_attention_heads", "swa_num_attention_heads"),
        size("base.swa_num_key_value_heads", "swa_num_key_value_heads"),
        size("base.swa_head_dim", "swa_head_dim"),
        size("base.relative_logits.width", "d_rel", default=16),
        size("base.relative_logits.extent", "rel_extent", default=1024),
        size("base.short_conv.kernel_size", "conv_kernel_size", aliases=("sconv_kernel_size",)),
        Field("base.layer_types", "layer_types", "str_list", default=None, nullable=True),
        size("moe.num_experts", "n_routed_experts", aliases=("num_local_experts",)),
        size("moe.num_experts_per_tok", "num_experts_per_tok"),
        Field("moe.routed_scaling_factor", "route_scale", "float", default=8.0, minimum=0),
    ),
}

#: Defaults both families' configs share.
_SHARED_DEFAULTS: dict[str, Any] = {
    "base__vocab_size": 201024,
    "base__num_key_value_heads": 8,
    "base__head_dim": 128,
    "base__swa_head_dim": 128,
    "base__short_conv__kernel_size": 4,
}


def _layer_types(reader: Reader, num_layers: int, sliding: set[int] | None) -> tuple[str, ...]:
    """Listed, else sliding on `sliding` (every layer but each sixth when None)."""
    listed = read_layer_kinds(reader, "base.layer_types", num_layers, _LAYER_KINDS)
    if listed is not None:
        return listed
    if sliding is None:
        return every_nth(num_layers, 6, FULL_ATTENTION, SLIDING_ATTENTION)
    return tuple(SLIDING_ATTENTION if i in sliding else FULL_ATTENTION for i in range(num_layers))


def _attention(
    reader: Reader, base: BaseConfig, dynamic_conv_kinds: tuple[str, ...] = (), **features: Any
) -> BaseConfig:
    """The attention both families share: `swa_*` shapes on sliding layers, short
    convolutions, relative logits, an embedding norm, an lm_head never tied, no RoPE."""
    heads = reader.get("base.swa_num_attention_heads")
    kv_heads = reader.get("base.swa_num_key_value_heads")
    if heads % kv_heads:
        raise reader.invalid(
            "swa_num_key_value_heads",
            f"swa_num_attention_heads ({heads}) is not divisible by "
            f"swa_num_key_value_heads ({kv_heads})",
        )
    if base.tie_word_embeddings:
        reader.warnings.append(
            "tie_word_embeddings is true, but transformers never ties this family's lm_head "
            "to the embedding; both are counted"
        )
    return replace(
        base,
        tie_word_embeddings=False,
        rope_theta=None,
        rope_scaling=None,
        attention_by_kind=(
            KindAttention(
                kind=SLIDING_ATTENTION,
                num_attention_heads=heads,
                num_key_value_heads=kv_heads,
                head_dim=reader.get("base.swa_head_dim"),
            ),
        ),
        short_conv=ShortConvConfig(
            kernel_size=reader.get("base.short_conv.kernel_size"),
            dynamic_kinds=dynamic_conv_kinds,
        ),
        relative_logits=RelativeLogitsConfig(
            width=reader.get("base.relative_logits.width"),
            extent=reader.get("base.relative_logits.extent"),
        ),
        embedding_norm=True,
        **features,
    )


# --- inkling_text ---


def _parse_inkling(reader: Reader) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    local = reader.get("base.local_layer_ids")
    kinds = _layer_types(reader, num_layers, None if local is None else set(local))
    moe_layers = _mlp_layer_kinds(reader, num_layers, reader.get("moe.dense_mlp_idx"))
    dense_width = reader.get("base.dense_intermediate_size")
    if dense_width is None:
        expert_width = reader.get("moe.expert_intermediate_size")
        dense_width = read_dense_intermediate_size(reader, num_layers - len(moe_layers))
    else:
        # transformers then reads the experts' width from `intermediate_size`.
        expert_width = reader.derived(
            "moe.expert_intermediate_size", reader.get("base.intermediate_size")
        )
    num_experts = reader.get("moe.num_experts")
    shared = reader.get("moe.num_shared_experts")
    moe = MoeConfig(
        num_experts=num_experts,
        num_experts_per_tok=read_top_k(reader, num_experts),
        expert_intermediate_size=expert_width,
        moe_layers=moe_layers,
        # The k routed and the shared experts' sigmoid weights are normalised together.
        norm_topk_prob=True,
        scoring_func="sigmoid",
        routed_scaling_factor=float(reader.get("moe.routed_scaling_factor")),
        score_correction_bias=True,
        router_outputs=num_experts + shared,
        router_output_scale=True,
        num_shared_experts=shared,
        shared_expert_intermediate_size=shared * expert_width or None,
    )
    base = read_base(reader, intermediate_size=dense_width, qk_norm=True, layer_types=kinds)
    if reader.get("base.num_mtp_layers"):
        reader.warnings.append(
            "num_mtp_layers: transformers does not build Inkling's multi-token-prediction "
            "layers, and they are not counted"
        )
    return Parsed(base=_attention(reader, base, mlp_output_scale=True), moe=moe)


INKLING_TEXT = Family(
    model_type="inkling_text",
    architectures=("InklingForCausalLM",),
    fields=with_defaults(
        {
            **_BASE,
            **field_table(
                size("base.intermediate_size", "intermediate_size"),
                Field(
                    "base.dense_intermediate_size",
                    "dense_intermediate_size",
                    default=None,
                    minimum=1,
                    nullable=True,
                ),
                Field(
                    "base.local_layer_ids",
                    "local_layer_ids",
                    "int_list",
                    default=None,
                    minimum=0,
                    nullable=True,
                ),
                Field(
                    "base.num_mtp_layers", "num_mtp_layers", default=None, minimum=0, nullable=True
                ),
                size("moe.expert_intermediate_size", "moe_intermediate_size"),
                count("moe.num_shared_experts", "n_shared_experts"),
                count("moe.dense_mlp_idx", "dense_mlp_idx", default=0),
                _MLP_LAYER_TYPES,
            ),
        },
        **_SHARED_DEFAULTS,
        base__hidden_size=6144,
        base__num_hidden_layers=66,
        base__num_attention_heads=64,
        base__intermediate_size=24576,
        base__max_position_embeddings=131072,
        base__swa_num_attention_heads=64,
        base__swa_num_key_value_heads=16,
        base__sliding_window=512,
        moe__num_experts=256,
        moe__num_experts_per_tok=6,
        moe__expert_intermediate_size=3072,
        moe__num_shared_experts=2,
    ),
    parse=_parse_inkling,
    summary=(
        "Inkling: no RoPE, relative logits and short convolutions, 3-D shared experts the "
        "router scores beside the routed ones"
    ),
)


# --- inkling2_text ---


def _parse_inkling2(reader: Reader) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    kinds = _layer_types(reader, num_layers, None)
    num_experts = reader.get("moe.num_experts")
    moe = MoeConfig(
        num_experts=num_experts,
        num_experts_per_tok=read_top_k(reader, num_experts),
        expert_intermediate_size=reader.get("moe.expert_intermediate_size"),
        moe_layers=tuple(range(num_layers)),
        norm_topk_prob=True,
        scoring_func=reader.get("moe.scoring_func"),
        routed_scaling_factor=float(reader.get("moe.routed_scaling_factor")),
        score_correction_bias=True,
    )
    base = read_base(reader, intermediate_size=None, layer_types=kinds)
    base = _attention(
        reader,
        base,
        dynamic_conv_kinds=(FULL_ATTENTION,),
        attention_channel_gate=True,
        attention_sink_proj=True,
        l2_clip_scales=True,
        attention_residuals=AttentionResidualConfig(split_qkv_kinds=(FULL_ATTENTION,)),
    )
    return Parsed(base=base, moe=moe)


INKLING2_TEXT = Family(
    model_type="inkling2_text",
    architectures=("Inkling2ForCausalLM",),
    fields=with_defaults(
        {
            **_BASE,
            **field_table(
                size(
                    "moe.expert_intermediate_size",
                    "moe_intermediate_size",
                    aliases=("intermediate_size",),
                ),
                Field("moe.scoring_func", "scoring_func", "str", default="sigmoid"),
            ),
            "moe.routed_scaling_factor": Field(
                "moe.routed_scaling_factor",
                "route_scale",
                "float",
                default=8.0,
                aliases=("routed_scaling_factor",),
                minimum=0,
            ),
        },
        **_SHARED_DEFAULTS,
        base__hidden_size=4608,
        base__num_hidden_layers=48,
        base__num_attention_heads=48,
        base__max_position_embeddings=1048576,
        base__swa_num_attention_heads=48,
        base__swa_num_key_value_heads=8,
        base__sliding_window=1024,
        moe__num_experts=384,
        moe__num_experts_per_tok=8,
        moe__expert_intermediate_size=2304,
    ),
    parse=_parse_inkling2,
    summary=(
        "Inkling 2: Inkling's attention with output gates, projected sinks and dynamic "
        "convolutions on full layers, block attention residuals, all layers MoE"
    ),
)
