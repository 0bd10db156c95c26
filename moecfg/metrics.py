"""Parameter counts, memory and sparsity from a composed config: plain integer arithmetic.

Every count here mirrors the modules transformers builds for the family, so tests can demand
exact equality with the model instantiated on the meta device. Parts follow module paths:
attention is everything under `self_attn`, the router is the gate Linear, routed experts are
the expert bank, shared experts include their gate.
"""

from __future__ import annotations

from dataclasses import dataclass

from moecfg.model import SLIDING_ATTENTION, BaseConfig, ModelConfig, MoeConfig

#: Bytes per weight for the dtypes memory is reported at.
WEIGHT_DTYPE_BYTES = {"bf16": 2.0, "fp8": 1.0, "int4": 0.5}
#: The KV cache is reported at bf16.
KV_DTYPE_BYTES = 2

PARTS = (
    "embedding",
    "lm_head",
    "attention",
    "router",
    "routed_experts",
    "shared_experts",
    "dense_mlp",
    "norms",
    "other",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ParamCounts:
    parts: dict[str, int]
    total: int
    #: Parameters touched per token: everything but routed experts, plus k experts per MoE layer.
    active: int


def linear(in_features: int, out_features: int, bias: bool) -> int:
    return in_features * out_features + (out_features if bias else 0)


def gated_mlp(hidden_size: int, intermediate_size: int, bias: bool) -> int:
    """gate_proj, up_proj (hidden→inter) and down_proj (inter→hidden)."""
    return 2 * linear(hidden_size, intermediate_size, bias) + linear(intermediate_size, hidden_size, bias)


def attention_params(base: BaseConfig) -> int:
    """One GQA attention block: q, k, v, o projections plus optional per-head q/k norms."""
    h, d = base.hidden_size, base.head_dim
    q_out, kv_out = base.num_attention_heads * d, base.num_key_value_heads * d
    params = (
        linear(h, q_out, base.attention_bias)
        + 2 * linear(h, kv_out, base.attention_bias)
        + linear(q_out, h, base.attention_output_bias)
    )
    if base.qk_norm:
        params += 2 * d
    return params


def expert_params(hidden_size: int, moe: MoeConfig) -> int:
    """One routed expert."""
    return gated_mlp(hidden_size, moe.expert_intermediate_size, moe.expert_bias)


def moe_layer_params(hidden_size: int, moe: MoeConfig) -> dict[str, int]:
    shared = 0
    if moe.shared_expert_intermediate_size:
        shared = gated_mlp(hidden_size, moe.shared_expert_intermediate_size, moe.expert_bias)
        if moe.shared_expert_gate:
            shared += hidden_size
    return {
        "router": linear(hidden_size, moe.num_experts, moe.router_bias),
        "routed_experts": moe.num_experts * expert_params(hidden_size, moe),
        "shared_experts": shared,
    }


def count_params(config: ModelConfig) -> ParamCounts:
    base, moe = config.base, config.moe
    h = base.hidden_size
    parts = dict.fromkeys(PARTS, 0)
    parts["embedding"] = base.vocab_size * h
    parts["lm_head"] = 0 if base.tie_word_embeddings else base.vocab_size * h
    parts["attention"] = base.num_hidden_layers * attention_params(base)
    parts["norms"] = (2 * base.num_hidden_layers + 1) * h
    active_routed = 0
    moe_layers = set(moe.moe_layers) if moe else set()
    for layer in range(base.num_hidden_layers):
        if moe is not None and layer in moe_layers:
            for part, value in moe_layer_params(h, moe).items():
                parts[part] += value
            active_routed += moe.num_experts_per_tok * expert_params(h, moe)
        else:
            assert base.intermediate_size is not None, "dense layer without a dense MLP width"
            parts["dense_mlp"] += gated_mlp(h, base.intermediate_size, base.mlp_bias)
    total = sum(parts.values())
    return ParamCounts(parts=parts, total=total, active=total - parts["routed_experts"] + active_routed)


def kv_cache_bytes_per_token(base: BaseConfig) -> int:
    """K and V for one token across every attention layer, at KV_DTYPE_BYTES per value."""
    per_layer = 2 * base.num_key_value_heads * base.head_dim * KV_DTYPE_BYTES
    return per_layer * base.num_hidden_layers


def weight_bytes(total_params: int) -> dict[str, int]:
    return {dtype: int(total_params * size) for dtype, size in WEIGHT_DTYPE_BYTES.items()}


def sliding_layer_count(base: BaseConfig) -> int:
    return sum(1 for kind in base.layer_types if kind == SLIDING_ATTENTION)
