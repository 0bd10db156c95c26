"""Parameter counts, memory and sparsity from a composed config: plain integer arithmetic.

Every count here mirrors the modules transformers builds for the family, so tests can demand
exact equality with the model instantiated on the meta device. Parts follow module paths:
attention is everything under `self_attn`, the router is the gate Linear, routed experts are
the expert bank, shared experts include their gate.

In hybrid models `attention` is each layer's token mixer, whatever it is: softmax attention,
linear attention (`linear_attn`, lightning `self_attn`) or Mamba (`mamba`), including the
mixer's own norms, convolution and A/D/dt parameters. Those modules take attention's place in
the layer, so the part answers "what mixes tokens" for every model alike; the decoder-layer
norms around them stay in `norms`.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, replace

from moecfg.dtypes import WEIGHT_DTYPE_BITS
from moecfg.model import (
    CHUNKED_ATTENTION,
    COMPRESSED_SPARSE_ATTENTION,
    FULL_ATTENTION,
    HEAVILY_COMPRESSED_ATTENTION,
    LINEAR_ATTENTION,
    MAMBA,
    NO_MIXER,
    SLIDING_ATTENTION,
    BaseConfig,
    CompressedAttentionConfig,
    ConvolvedQkConfig,
    LinearAttentionConfig,
    MambaConfig,
    MlaConfig,
    ModelConfig,
    MoeConfig,
)

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
    #: Multi-token-prediction layers stored in the checkpoint but not built by transformers;
    #: not part of `total` (see mtp_params).
    mtp: int = 0

    @property
    def checkpoint_total(self) -> int:
        """What the released checkpoint holds: the counted model plus its MTP layers."""
        return self.total + self.mtp


#: False while `count_non_weight_params` runs: `linear` then counts only its bias.
_LINEAR_WEIGHTS_COUNTED: ContextVar[bool] = ContextVar("linear_weights_counted", default=True)


def linear(in_features: int, out_features: int, bias: bool) -> int:
    """One nn.Linear; every Linear weight matrix in this module is counted through here."""
    weights = in_features * out_features if _LINEAR_WEIGHTS_COUNTED.get() else 0
    return weights + (out_features if bias else 0)


def gated_mlp(hidden_size: int, intermediate_size: int, bias: bool) -> int:
    """gate_proj, up_proj (hidden→inter) and down_proj (inter→hidden)."""
    return 2 * linear(hidden_size, intermediate_size, bias) + linear(intermediate_size, hidden_size, bias)


def mlp_params(hidden_size: int, intermediate_size: int, bias: bool, gated: bool) -> int:
    """A gated MLP, or a plain one: up_proj (hidden→inter) and down_proj (Nemotron-H relu²)."""
    if gated:
        return gated_mlp(hidden_size, intermediate_size, bias)
    return linear(hidden_size, intermediate_size, bias) + linear(intermediate_size, hidden_size, bias)


def attention_params(base: BaseConfig) -> int:
    """One GQA attention block: q, k, v, o projections plus optional q/k norms and sinks."""
    if base.mla is not None:
        return mla_attention_params(base, base.mla)
    h, d = base.hidden_size, base.head_dim
    q_out, kv_out = base.num_attention_heads * d, base.num_key_value_heads * d
    if base.attention_experts:
        # Mixture of attention heads: q and o are the expert bank (attention_expert_params).
        return 2 * linear(h, kv_out, base.attention_bias) + (h if base.attention_output_bias else 0)
    v_dim = base.value_head_dim or d
    # A gated q_proj (Qwen3-Next) also emits a per-head output gate: twice the width.
    q_proj_out = q_out * (2 if base.attention_output_gate else 1)
    params = (
        linear(h, q_proj_out, base.attention_bias)
        + linear(h, kv_out, base.attention_bias)
        + linear(h, base.num_key_value_heads * v_dim, base.attention_bias)
        + linear(base.num_attention_heads * v_dim, h, base.attention_output_bias)
    )
    if base.qk_norm and base.qk_norm_full_width and base.qk_norm_sized_by_head_dim:
        params += q_out + kv_out
    elif base.qk_norm and base.qk_norm_full_width:
        params += h + base.num_key_value_heads * (h // base.num_attention_heads)
    elif base.qk_norm:
        params += 2 * d
    if base.kv_projections < 2:
        # Gemma 4: a layer whose values are its keys has no v_proj; one that reuses an earlier
        # layer's keys and values has no k_proj and no k_norm either.
        params -= (2 - base.kv_projections) * linear(h, kv_out, base.attention_bias)
        if base.qk_norm and base.kv_projections == 0:
            params -= d
    if base.convolved_qk is not None:
        params += convolved_qk_params(base, base.convolved_qk)
    if base.attention_sinks:
        params += base.num_attention_heads
    if base.attention_gate_bias:
        params += base.num_attention_heads
    if base.attention_gate_per_head:
        params += linear(h, base.num_attention_heads * base.attention_gate_per_head, False)
    if base.attention_dynamic_mask:
        kv_heads = base.num_key_value_heads
        params += kv_heads + linear(kv_out, kv_heads, base.attention_bias)
    return params


#: BaseConfig fields a family may give layer by layer, and the tuple that gives them.
PER_LAYER_FIELDS = (
    ("num_attention_heads", "attention_heads_by_layer"),
    ("head_dim", "head_dim_by_layer"),
    ("num_key_value_heads", "kv_heads_by_layer"),
    ("kv_projections", "kv_projections_by_layer"),
    ("intermediate_size", "intermediate_size_by_layer"),
)


def layer_base(base: BaseConfig, layer: int) -> BaseConfig:
    """The base as layer `layer` builds it: its own query heads, head size, KV heads, K/V
    projections and dense MLP width where those vary between layers (PER_LAYER_FIELDS)."""
    changes = {
        name: getattr(base, by_layer)[layer]
        for name, by_layer in PER_LAYER_FIELDS
        if getattr(base, by_layer)
    }
    return replace(base, **changes) if changes else base


def linear_attention_params(hidden_size: int, mixer: LinearAttentionConfig) -> int:
    """One linear-attention mixer, as transformers builds it.

    gated_delta_net (Qwen3-Next `linear_attn`): in_proj_qkvz h→2·Hk·dk + 2·Hv·dv, in_proj_ba
    h→2·Hv, depthwise conv1d over q, k, v without bias, dt_bias and A_log (Hv each), a gated
    RMSNorm of dv, out_proj Hv·dv→h.
    lightning (MiniMax `self_attn`): qkv_proj h→3·H·d, output_gate h→H·d, norm H·d, out_proj.
    """
    h = hidden_size
    key_dim = mixer.num_key_heads * mixer.key_head_dim
    value_dim = mixer.num_value_heads * mixer.value_head_dim
    if mixer.kind == "lightning":
        return linear(h, 3 * value_dim, False) + 2 * linear(h, value_dim, False) + value_dim
    if mixer.kind == "kda":
        # Kimi delta attention: q/k/v (h → H·d each), the forget and output gates (h → H·d, or
        # through rank gate_rank: Kimi Linear), b_proj (h → H), conv over q/k/v, A_log (H),
        # dt_bias (H·d), o_norm (d).
        if mixer.gate_rank:
            gate = linear(h, mixer.gate_rank, False) + linear(mixer.gate_rank, value_dim, False)
        else:
            gate = linear(h, value_dim, False)
        return (
            3 * linear(h, value_dim, False)
            + 2 * gate
            + linear(h, mixer.num_value_heads, False)
            + 3 * value_dim * mixer.conv_kernel_size
            + mixer.num_value_heads
            + value_dim
            + mixer.value_head_dim
            + linear(value_dim, h, False)
        )
    conv_dim = 2 * key_dim + value_dim
    return (
        linear(h, 2 * key_dim + 2 * value_dim, False)
        + linear(h, 2 * mixer.num_value_heads, False)
        + conv_dim * mixer.conv_kernel_size
        + 2 * mixer.num_value_heads
        + mixer.value_head_dim
        + linear(value_dim, h, False)
    )


def mamba_params(hidden_size: int, mixer: MambaConfig) -> int:
    """One Mamba mixer, as transformers builds it (`mamba.*`).

    Mamba-1 (Jamba): in_proj h→2·di, depthwise conv1d, x_proj di→r+2N, dt_proj r→di with bias,
    A_log [di, N], D [di], out_proj, and RMSNorms on dt (r), B and C (N each).
    Mamba-2 (Granite 4): in_proj h→di + (di + 2·G·N) + heads, depthwise conv1d over x, B, C,
    dt_bias, A_log and D per head, a gated RMSNorm of di, out_proj.
    """
    h, di, n = hidden_size, mixer.intermediate_size, mixer.state_size
    if mixer.version == 1:
        conv_dim = di
        body = (
            linear(h, 2 * di, mixer.proj_bias)
            + linear(di, mixer.time_step_rank + 2 * n, False)
            + linear(mixer.time_step_rank, di, True)
            + di * n
            + di
            + mixer.time_step_rank
            + 2 * n
        )
    else:
        conv_dim = di + 2 * mixer.num_groups * n
        body = linear(h, di + conv_dim + mixer.num_heads, mixer.proj_bias) + 3 * mixer.num_heads + di
    conv = conv_dim * mixer.conv_kernel_size + (conv_dim if mixer.conv_bias else 0)
    return body + conv + linear(di, h, mixer.proj_bias)


def layer_kinds(base: BaseConfig) -> tuple[str, ...]:
    """The kind of each layer; full attention everywhere when the family lists none."""
    return base.layer_types or (FULL_ATTENTION,) * base.num_hidden_layers


def mixer_params(base: BaseConfig, kind: str) -> int:
    """The token mixer of one layer of `kind`: attention, linear attention, Mamba or none."""
    if kind == NO_MIXER:
        return 0
    if kind == LINEAR_ATTENTION:
        assert base.linear_attention is not None, "linear-attention layers without their mixer shape"
        return linear_attention_params(base.hidden_size, base.linear_attention)
    if kind == MAMBA:
        assert base.mamba is not None, "Mamba layers without their mixer shape"
        return mamba_params(base.hidden_size, base.mamba)
    if base.compressed_attention is not None:
        return compressed_attention_params(base, base.compressed_attention, kind)
    return attention_params(base.of_kind(kind))


def mla_attention_params(base: BaseConfig, mla: MlaConfig) -> int:
    """One latent-attention block as transformers' DeepseekV2/V3Attention builds it.

    Queries: q_a_proj (h → q_lora, biased iff attention_bias), q_a_layernorm (q_lora) and
    q_b_proj (q_lora → H·(nope+rope)); or one unbiased q_proj (h → H·(nope+rope)) when
    q_lora_rank is None. Keys/values: kv_a_proj_with_mqa (h → kv_lora + rope, biased iff
    attention_bias), kv_a_layernorm (kv_lora) and kv_b_proj (kv_lora → H·(nope+v)). Output:
    o_proj (H·v → h).
    """
    h, heads = base.hidden_size, base.num_attention_heads
    q_out = heads * mla.qk_head_dim
    if mla.q_lora_rank is None:
        query = linear(h, q_out, False)
    else:
        # A.X-K2's q_gate_proj reads both query latents and also emits a v_head_dim gate per head.
        q_in, q_width = mla.q_lora_rank, q_out
        if mla.fused_query_gate:
            q_in, q_width = 2 * mla.q_lora_rank, q_out + heads * mla.v_head_dim
        query = (
            linear(h, mla.q_lora_rank, base.attention_bias)
            + mla.q_lora_rank
            + linear(q_in, q_width, False)
        )
    key_value = (
        linear(h, mla.kv_lora_rank + mla.qk_rope_head_dim, base.attention_bias)
        + mla.kv_lora_rank
        + linear(mla.kv_lora_rank, heads * (mla.qk_nope_head_dim + mla.v_head_dim), False)
    )
    gate = linear(h, heads * mla.output_gate_width, False)
    rope_key_norm = mla.qk_rope_head_dim if mla.rope_key_norm else 0
    sinks = heads if base.attention_sinks else 0
    output = linear(heads * mla.v_head_dim, h, base.attention_output_bias)
    return query + key_value + output + gate + rope_key_norm + sinks


def dsa_indexer_params(base: BaseConfig) -> int:
    """The DSA lightning indexers (`self_attn.indexer`, DeepSeek-V3.2, GLM-5), all layers together.

    Each: wq_b (q_lora → heads · head_dim), wk (h → head_dim), k_norm a LayerNorm with bias
    (head_dim), weights_proj (h → heads); no Linear is biased.
    """
    mla = base.mla
    if mla is None or not mla.indexer_layers or mla.q_lora_rank is None:
        return 0
    h, heads, dim = base.hidden_size, mla.index_n_heads, mla.index_head_dim
    per_layer = (
        linear(mla.q_lora_rank, heads * dim, False) + linear(h, dim, False) + 2 * dim + linear(h, heads, False)
    )
    return len(mla.indexer_layers) * per_layer


def block_indexer_params(base: BaseConfig) -> int:
    """The block indexers of sparse-attention layers (MiniMax-M3 `self_attn.indexer`), together.

    Each: q_proj (h → heads · head_dim), k_proj (h → head_dim), unbiased, and an RMSNorm of
    head_dim on each.
    """
    indexer = base.block_indexer
    if indexer is None:
        return 0
    h, dim = base.hidden_size, indexer.head_dim
    per_layer = linear(h, indexer.num_heads * dim, False) + linear(h, dim, False) + 2 * dim
    return len(indexer.layers) * per_layer


def per_layer_input_params(base: BaseConfig) -> dict[str, int]:
    """The per-layer input embeddings (Gemma 4 PLE) by part; all zero when the model has none.

    The table is an embedding (a lookup, like `embed_tokens`); the model-level projection and
    each layer's gate and projection are Linears counted in `other`; their RMSNorms in `norms`.
    """
    ple = base.per_layer_input
    if ple is None:
        return {}
    h, layers = base.hidden_size, base.num_hidden_layers
    return {
        "embedding": ple.vocab_size * layers * ple.width,
        "other": linear(h, layers * ple.width, False) + layers * 2 * linear(h, ple.width, False),
        "norms": ple.width + layers * h,
    }


def compressor_params(hidden_size: int, head_dim: int, rate: int, windows: int) -> int:
    """One DeepSeek-V4 compressor: kv_proj and gate_proj h → windows · d, position_bias
    [rate, windows · d] and kv_norm (d); `windows` is 2 where consecutive windows overlap."""
    width = windows * head_dim
    return 2 * linear(hidden_size, width, False) + rate * width + head_dim


def compressed_attention_params(
    base: BaseConfig, attention: CompressedAttentionConfig, kind: str
) -> int:
    """One DeepSeek-V4 attention block of layer kind `kind` (see CompressedAttentionConfig)."""
    h, heads, d = base.hidden_size, base.num_attention_heads, base.head_dim
    q_lora, out_lora = attention.q_lora_rank, attention.output_groups * attention.output_lora_rank
    params = (
        linear(h, q_lora, False)
        + q_lora
        + linear(q_lora, heads * d, False)
        + linear(h, d, False)
        + d
        + linear(heads * d // attention.output_groups, out_lora, False)
        + linear(out_lora, h, False)
        + heads
    )
    if kind == COMPRESSED_SPARSE_ATTENTION:
        rate, index_dim = attention.sparse_compress_rate, attention.index_head_dim
        params += compressor_params(h, d, rate, 2) + compressor_params(h, index_dim, rate, 2)
        params += linear(q_lora, attention.index_n_heads * index_dim, False)
        params += linear(h, attention.index_n_heads, False)
    elif kind == HEAVILY_COMPRESSED_ATTENTION:
        params += compressor_params(h, d, attention.heavy_compress_rate, 1)
    return params


def convolved_qk_params(base: BaseConfig, convolved: ConvolvedQkConfig) -> int:
    """ZAYA's q/k convolutions (depthwise, then grouped per head: each output channel sees its
    head's d channels) with their biases, and one key temperature per KV head."""
    channels = (base.num_attention_heads + base.num_key_value_heads) * base.head_dim
    depthwise = channels * convolved.depthwise_kernel + channels
    grouped = channels * base.head_dim * convolved.grouped_kernel + channels
    return depthwise + grouped + base.num_key_value_heads


def router_params(hidden_size: int, moe: MoeConfig) -> int:
    """One MoE layer's router: a Linear h → experts, or ZAYA's router MLP (`router_mlp_width`)."""
    outputs = moe.router_outputs or moe.num_experts
    width = moe.router_mlp_width
    if width is None:
        return linear(hidden_size, outputs, moe.router_bias)
    mlp = width + 2 * linear(width, width, True) + linear(width, outputs, False)
    return linear(hidden_size, width, True) + mlp


def router_state_scale_params(moe: MoeConfig | None) -> int:
    """The learned scales of the router state carried between layers: all MoE layers but layer 0."""
    if moe is None or not moe.router_state_scale or moe.router_mlp_width is None:
        return 0
    return sum(1 for layer in moe.moe_layers if layer != 0) * moe.router_mlp_width


def hyper_connection_params(base: BaseConfig) -> int:
    """The hyper-connection maps: two per layer (around attention and the MLP) and the head."""
    hc = base.hyper_connections
    if hc is None:
        return 0
    width = hc.streams * base.hidden_size
    per_block = hc.mixes * width + hc.mixes + hc.scales
    head = hc.streams * width + hc.streams + 1
    return 2 * base.num_hidden_layers * per_block + head


def attention_expert_params(base: BaseConfig) -> dict[str, int]:
    """The mixture-of-attention-heads bank (JetMoE MoA) of every layer together: the routers,
    the experts (a q projection h → kv heads · head_dim and an o projection back, unbiased) and
    the experts a token uses ("active"). All zero for ordinary attention."""
    experts, layers = base.attention_experts, base.num_hidden_layers
    width = base.num_key_value_heads * base.head_dim
    expert = 2 * linear(base.hidden_size, width, False)
    return {
        "router": layers * linear(base.hidden_size, experts, False) if experts else 0,
        "routed_experts": layers * experts * expert,
        "active": layers * base.attention_experts_per_tok * expert if experts else 0,
    }


def expert_params(hidden_size: int, moe: MoeConfig) -> int:
    """One routed expert."""
    width = moe.latent_size or hidden_size
    return mlp_params(width, moe.expert_intermediate_size, moe.expert_bias, moe.experts_gated)


def moe_layer_params(hidden_size: int, moe: MoeConfig) -> dict[str, int]:
    shared = 0
    if moe.shared_expert_intermediate_size:
        shared = mlp_params(
            hidden_size, moe.shared_expert_intermediate_size, moe.shared_expert_bias, moe.experts_gated
        )
        if moe.shared_expert_gate:
            shared += linear(hidden_size, 1, False)
    return {
        "router": router_params(hidden_size, moe)
        + (hidden_size if moe.router_input_scale else 0)
        + (moe.num_experts if moe.router_expert_scale else 0),
        "routed_experts": moe.num_experts * expert_params(hidden_size, moe)
        + moe.gate_up_only_experts * 2 * linear(hidden_size, moe.expert_intermediate_size, moe.expert_bias),
        "shared_experts": shared,
        # The latent projections around the experts (Nemotron-H) are no expert: every token uses them.
        "other": (
            linear(hidden_size, moe.latent_size, moe.latent_proj_bias)
            + linear(moe.latent_size, hidden_size, moe.latent_proj_bias)
            if moe.latent_size
            else 0
        )
        + (hidden_size if moe.output_bias else 0),
    }


def attention_extra_params(base: BaseConfig, kind: str) -> int:
    """What one attention layer of `kind` holds beyond `attention_params`: its key/value short
    convolutions, relative position bias, channel gate, projected sinks and L2-clip scales
    (Inkling, Inkling 2)."""
    if kind in (LINEAR_ATTENTION, MAMBA, NO_MIXER):
        return 0
    h, heads = base.hidden_size, base.num_attention_heads
    params = 0
    conv = base.short_conv
    if conv is not None:
        taps = base.num_key_value_heads * base.head_dim * conv.kernel_size
        if kind in conv.dynamic_kinds:
            taps += linear(h, base.num_key_value_heads * conv.kernel_size, False)
        params += 2 * taps
    relative = base.relative_logits
    if relative is not None:
        extent = base.sliding_window if kind == SLIDING_ATTENTION else relative.extent
        assert extent is not None, "sliding relative logits without a window"
        params += linear(h, heads * relative.width, False) + relative.width * extent
        if base.l2_clip_scales:
            params += heads * relative.width
    if base.attention_channel_gate:
        params += linear(h, heads * base.head_dim, False)
    if base.attention_sink_proj:
        params += linear(h, heads, False)
    if base.l2_clip_scales:
        params += heads * base.head_dim
    return params


def block_extra_params(config: ModelConfig) -> dict[str, int]:
    """The modules some decoders add around the Llama-style block, by part, all layers together.

    Attention: `attention_extra_params` of each layer. Other: the short convolutions over each
    layer's attention and MLP outputs, and the attention-residual queries. Norms: the embedding
    norm and the extra q/k/v input norms. Router and dense_mlp: their learned output scalars.
    """
    base, moe = config.base, config.moe
    h = base.hidden_size
    parts = dict.fromkeys(PARTS, 0)
    residuals = base.attention_residuals
    parts["norms"] += h if base.embedding_norm else 0
    parts["other"] += h if residuals is not None else 0
    dense_layers = set(config.dense_layers)
    moe_layers = set(moe.moe_layers) if moe is not None else set()
    for layer, kind in enumerate(layer_kinds(base)):
        parts["attention"] += attention_extra_params(layer_base(base, layer).of_kind(kind), kind)
        if base.short_conv is not None:
            parts["other"] += 2 * h * base.short_conv.kernel_size
        if residuals is not None:
            split = kind in residuals.split_qkv_kinds
            attention_queries = 0 if layer == 0 else 3 if split else 1
            parts["other"] += (1 + attention_queries) * h
            parts["norms"] += 2 * h if split else 0
        if base.mlp_output_scale and layer in dense_layers:
            parts["dense_mlp"] += 1
        if moe is not None and moe.router_output_scale and layer in moe_layers:
            parts["router"] += 1
    return parts


def count_params(config: ModelConfig) -> ParamCounts:
    base, moe = config.base, config.moe
    h = base.hidden_size
    parts = dict.fromkeys(PARTS, 0)
    parts["embedding"] = base.vocab_size * h
    # A tied lm_head shares the embedding weight but keeps its own bias.
    parts["lm_head"] = (0 if base.tie_word_embeddings else base.vocab_size * h) + (
        base.vocab_size if base.lm_head_bias else 0
    )
    parts["attention"] = sum(
        mixer_params(layer_base(base, layer), kind) for layer, kind in enumerate(layer_kinds(base))
    )
    parts["attention"] += dsa_indexer_params(base)
    parts["attention"] += block_indexer_params(base)
    parts["other"] += hyper_connection_params(base)
    parts["norms"] = (base.norms_per_layer * base.num_hidden_layers + 1) * h * (2 if base.norm_bias else 1)
    parts["norms"] += sum(base.gated_norms_by_layer) * 2 * linear(h, base.norm_gate_rank, False)
    parts["other"] += base.residual_scales_per_layer * base.num_hidden_layers * h
    parts["other"] += base.input_scales * h
    parts["router"] += router_state_scale_params(moe)
    for part, value in block_extra_params(config).items():
        parts[part] += value
    for part, value in per_layer_input_params(base).items():
        parts[part] += value
    attention_bank = attention_expert_params(base)
    parts["router"] += attention_bank["router"]
    parts["routed_experts"] += attention_bank["routed_experts"]
    active_routed = attention_bank["active"]
    moe_layers = set(moe.moe_layers) if moe else set()
    mlp_free = set(base.mlp_free_layers)
    for layer in range(base.num_hidden_layers):
        if layer in mlp_free:
            continue
        in_moe_layer = moe is not None and layer in moe_layers
        if moe is not None and in_moe_layer:
            for part, value in moe_layer_params(h, moe).items():
                parts[part] += value
            active_routed += moe.top_k(layer) * expert_params(h, moe)
            if moe.output_norm:
                parts["norms"] += h
        # Doge and Gemma 4 run the dense MLP beside the experts of an MoE layer.
        if not in_moe_layer or (moe is not None and moe.dense_mlp_in_moe_layers):
            width = layer_base(base, layer).intermediate_size
            assert width is not None, "dense layer without a dense MLP width"
            parts["dense_mlp"] += mlp_params(h, width, base.mlp_bias, base.mlp_gated)
    total = sum(parts.values())
    return ParamCounts(
        parts=parts,
        total=total,
        active=total - parts["routed_experts"] + active_routed,
        mtp=mtp_params(config),
    )


def count_non_weight_params(config: ModelConfig) -> ParamCounts:
    """`count_params` without the Linear weight matrices: by part, the biases, norms, sinks,
    convolutions, state-space parameters and scales that a weight quantizer leaves at the config
    dtype (`active` likewise counts only those of the experts a token uses)."""
    token = _LINEAR_WEIGHTS_COUNTED.set(False)
    try:
        return count_params(config)
    finally:
        _LINEAR_WEIGHTS_COUNTED.reset(token)


def mtp_params(config: ModelConfig) -> int:
    """The multi-token-prediction layers as DeepSeek-V3's checkpoint stores them (`model.layers.61.*`).

    Each is one more decoder layer of the last layer's kind (attention, its two norms, and the
    MoE block when the last layer has one), plus `enorm` and `hnorm` (h each), `eh_proj`
    (2h → h, no bias), `shared_head.norm` (h), and the copies of the embedding (`embed_tokens`)
    and output head (`shared_head.head`) that the checkpoint repeats in every MTP layer.
    """
    base, moe = config.base, config.moe
    if not base.num_mtp_layers:
        return 0
    h = base.hidden_size
    if moe is not None and base.num_hidden_layers - 1 in moe.moe_layers:
        mlp = sum(moe_layer_params(h, moe).values())
    else:
        assert base.intermediate_size is not None, "dense MTP layer without a dense MLP width"
        mlp = mlp_params(h, base.intermediate_size, base.mlp_bias, base.mlp_gated)
    decoder_layer = attention_params(base) + 2 * h + mlp
    projections = 3 * h + linear(2 * h, h, False) + 2 * base.vocab_size * h
    return base.num_mtp_layers * (decoder_layer + projections)


@dataclass(frozen=True, slots=True, kw_only=True)
class KvGroup:
    """What the layers of one kind keep per sequence while generating.

    Attention layers grow by `bytes_per_token` per token (sliding layers only up to `window`
    tokens); linear-attention and Mamba layers keep a fixed `state_bytes` per sequence however
    long it gets, and nothing per token.
    """

    #: A layer kind (model.FULL_ATTENTION, ...), or "mla" for multi-head latent attention
    #: ("mla_" + the kind for latent-attention layers of another kind, e.g. sliding).
    kind: str
    layers: int
    #: Per token, summed over these layers (0 for linear attention and Mamba).
    bytes_per_token: int
    #: Sliding layers: the most tokens they keep.
    window: int | None = None
    #: Fixed per-sequence state (linear attention / Mamba), summed over these layers.
    state_bytes: int = 0
    #: MLA only: K and V decompressed per head, as a runtime that does not keep the latent
    #: caches them (`bytes_per_token` is then the latent; see mla_kv_group).
    expanded_bytes_per_token: int | None = None
    #: Compressed KV (DeepSeek-V4): the group keeps one entry of `bytes_per_entry` (summed over
    #: its layers) per `compress_rate` tokens, so a context of n tokens holds n // rate entries;
    #: `bytes_per_token` is then bytes_per_entry / rate, rounded down.
    compress_rate: int | None = None
    bytes_per_entry: int = 0


def attention_kv_group(config: ModelConfig, kind: str, layers: int, dtype_bytes: float) -> KvGroup:
    """Full, sliding or chunked attention: K and V, `kv_heads · (head_dim + value head dim)`
    values per layer, with that kind's KV heads and head size (`BaseConfig.attention_by_kind`).

    Latent-attention (MLA) models describe their attention layers by one "mla" group instead.
    """
    base = config.base.of_kind(kind)
    value_head_dim = base.value_head_dim or base.head_dim
    per_layer = base.num_key_value_heads * (base.head_dim + value_head_dim)
    return KvGroup(
        kind=kind,
        layers=layers,
        bytes_per_token=int(layers * per_layer * dtype_bytes),
        window=layer_window(base, kind),
    )


def layered_attention_kv_group(
    config: ModelConfig, kind: str, layers: list[int], dtype_bytes: float
) -> KvGroup:
    """The attention layers of one kind, each cached as `attention_kv_group` caches it with that
    layer's own head size and KV heads (`layer_base`: Gemma 4's full layers differ), summed."""
    values = sum(
        attention_kv_group(replace(config, base=layer_base(config.base, layer)), kind, 1, 1)
        .bytes_per_token
        for layer in layers
    )
    return KvGroup(
        kind=kind,
        layers=len(layers),
        bytes_per_token=int(values * dtype_bytes),
        window=layer_window(config.base, kind),
    )


def layer_window(base: BaseConfig, kind: str) -> int | None:
    """The most tokens a layer of `kind` keeps cached: its sliding window or attention chunk.

    transformers caches chunked-attention layers as sliding-window layers of the chunk size
    (`cache_utils`: "sliding and chunked are the same" for the cache); None means unbounded.
    """
    if kind == SLIDING_ATTENTION:
        return base.sliding_window
    if kind == CHUNKED_ATTENTION:
        return base.attention_chunk_size
    return None


def mla_kv_group(mla: MlaConfig, layers: int, num_heads: int, dtype_bytes: float) -> KvGroup:
    """Latent-attention layers, measured both ways a runtime can cache them.

    `bytes_per_token` is the latent: `kv_lora_rank + qk_rope_head_dim` values per layer (the
    rotary key is shared by all heads), which vLLM, SGLang and transformers 5 keep.
    `expanded_bytes_per_token` is K and V rebuilt per head, `H·(nope+rope) + H·v` values per
    layer, which a runtime that does not keep the latent (transformers 4) caches.
    """
    latent = mla.kv_lora_rank + mla.qk_rope_head_dim
    expanded = num_heads * mla.qk_head_dim + num_heads * mla.v_head_dim
    return KvGroup(
        kind="mla",
        layers=layers,
        bytes_per_token=int(layers * latent * dtype_bytes),
        expanded_bytes_per_token=int(layers * expanded * dtype_bytes),
    )


def linear_attention_state(mixer: LinearAttentionConfig) -> int:
    """Values one linear-attention layer keeps per sequence, from transformers' cache shapes.

    The convolution state is [conv_dim, conv_kernel_size] with conv_dim = 2·Hk·dk + Hv·dv (q, k
    and v pass through the conv); the recurrent state is [Hv, dk, dv] (gated delta-net
    `recurrent_state_shape`, lightning's `attn_weights_inter` with Hk = Hv and dk = dv).
    """
    key_dim = mixer.num_key_heads * mixer.key_head_dim
    conv_dim = 2 * key_dim + mixer.num_value_heads * mixer.value_head_dim
    recurrent = mixer.num_value_heads * mixer.key_head_dim * mixer.value_head_dim
    return conv_dim * mixer.conv_kernel_size + recurrent


def mamba_state(mixer: MambaConfig) -> int:
    """Values one Mamba layer keeps per sequence, from transformers' cache shapes.

    Mamba-1 (Jamba): conv state [d_inner, d_conv] and SSM state [d_inner, d_state].
    Mamba-2 (Granite 4): conv state [d_inner + 2·groups·d_state, d_conv] (x, B and C are
    convolved) and SSM state [heads, head_dim, d_state] = [d_inner, d_state] in values.
    """
    conv_channels = mixer.intermediate_size
    if mixer.version == 2:
        conv_channels += 2 * mixer.num_groups * mixer.state_size
    return conv_channels * mixer.conv_kernel_size + mixer.intermediate_size * mixer.state_size


def kv_cache(config: ModelConfig, dtype_bytes: float = KV_DTYPE_BYTES) -> tuple[KvGroup, ...]:
    """One group per layer kind, in the order the kinds first appear in `layer_types`."""
    base = config.base
    if base.compressed_attention is not None:
        return compressed_kv_cache(base, base.compressed_attention, dtype_bytes)
    layers_by_kind: dict[str, list[int]] = {}
    for layer, kind in enumerate(layer_kinds(base)):
        # A layer reusing an earlier layer's keys and values (Gemma 4) adds nothing to the cache.
        if layer_base(base, layer).kv_projections:
            layers_by_kind.setdefault(kind, []).append(layer)
    groups = []
    for kind, indices in layers_by_kind.items():
        layers = len(indices)
        if kind == NO_MIXER:
            continue
        if kind in (LINEAR_ATTENTION, MAMBA):
            mixer = base.linear_attention if kind == LINEAR_ATTENTION else base.mamba
            assert mixer is not None, f"{kind} layers without their mixer shape"
            per_layer = (
                linear_attention_state(mixer)
                if isinstance(mixer, LinearAttentionConfig)
                else mamba_state(mixer)
            )
            state = int(layers * per_layer * dtype_bytes)
            groups.append(KvGroup(kind=kind, layers=layers, bytes_per_token=0, state_bytes=state))
        elif base.mla is not None:
            # Each kind with its own latent sizes and heads (Dots 3's sliding layers differ).
            kind_base = base.of_kind(kind)
            assert kind_base.mla is not None, "latent-attention layers without their MLA shape"
            group = mla_kv_group(kind_base.mla, layers, kind_base.num_attention_heads, dtype_bytes)
            if kind != FULL_ATTENTION:
                group = replace(group, kind=f"mla_{kind}", window=layer_window(base, kind))
            groups.append(group)
        else:
            groups.append(layered_attention_kv_group(config, kind, indices, dtype_bytes))
    if base.convolved_qk is not None:
        groups = [
            with_convolved_qk_state(base, base.convolved_qk, group, dtype_bytes) for group in groups
        ]
    return tuple(groups)


def kv_cache_bytes_per_token(config: ModelConfig, dtype_bytes: float = KV_DTYPE_BYTES) -> int:
    """Per-token cache across all layers: full + sliding + MLA latent (states are not per token)."""
    return sum(group.bytes_per_token for group in kv_cache(config, dtype_bytes))


def kv_cache_bytes(
    config: ModelConfig, context: int, batch: int = 1, dtype_bytes: float = KV_DTYPE_BYTES
) -> int:
    """The whole cache for `batch` sequences of `context` tokens: sliding and chunked layers hold
    at most their window, linear-attention and Mamba layers their fixed state."""
    total = 0
    for group in kv_cache(config, dtype_bytes):
        total += kv_group_bytes(group, context) * batch
    return total


def kv_group_positions(group: KvGroup, context: int) -> int:
    """The positions one sequence's cache of this group keeps after `context` tokens: its window
    or the whole context, one entry per `compress_rate` tokens, and none for a fixed state."""
    if group.compress_rate is not None:
        return context // group.compress_rate
    if not group.bytes_per_token:
        return 0
    return min(context, group.window) if group.window is not None else context


def kv_group_bytes(group: KvGroup, context: int) -> int:
    """What one group holds for one sequence of `context` tokens: its window (or the whole
    context), its compressed entries, and its fixed state."""
    compressed = group.compress_rate is not None
    per_position = group.bytes_per_entry if compressed else group.bytes_per_token
    return kv_group_positions(group, context) * per_position + group.state_bytes


def compressed_kv_cache(
    base: BaseConfig, attention: CompressedAttentionConfig, dtype_bytes: float
) -> tuple[KvGroup, ...]:
    """DeepSeek-V4's cache, as its cache layers (`DeepseekV4HCACache`, `DeepseekV4CSACache`) fill it.

    Every layer keeps a sliding window of one d-wide key that is also the value: stored once on
    compressed layers, whose cache layers alias the two, but as a key and a value copy on
    sliding-only layers (a plain `DynamicSlidingWindowLayer`), so those hold 2 · d per token.
    A compressed-sparse layer adds one entry of d (compressor) + index_head_dim (indexer) per
    `rate` tokens; a heavily-compressed layer one of d. Their fixed state, at its largest: the
    tokens of an unfinished window (at most rate - 1, each a kv and a gate of w · d, w = 2 on
    compressed-sparse layers) and, on compressed-sparse layers, the last window's overlapping
    half (rate × d of kv and of gate), for the compressor and the indexer alike.
    """
    d, index_dim = base.head_dim, attention.index_head_dim
    kinds = layer_kinds(base)
    window_values = sum(2 * d if kind == SLIDING_ATTENTION else d for kind in kinds)
    groups = [
        KvGroup(
            kind=SLIDING_ATTENTION,
            layers=len(kinds),
            bytes_per_token=int(window_values * dtype_bytes),
            window=base.sliding_window,
        )
    ]
    for kind, rate, entry, windows in (
        (COMPRESSED_SPARSE_ATTENTION, attention.sparse_compress_rate, d + index_dim, 2),
        (HEAVILY_COMPRESSED_ATTENTION, attention.heavy_compress_rate, d, 1),
    ):
        layers = sum(1 for layer_kind in kinds if layer_kind == kind)
        if not layers:
            continue
        buffer = (rate - 1) * 2 * windows * entry
        overlap = 2 * rate * entry if windows == 2 else 0
        per_entry = int(layers * entry * dtype_bytes)
        groups.append(
            KvGroup(
                kind=kind,
                layers=layers,
                bytes_per_token=per_entry // rate,
                state_bytes=int(layers * (buffer + overlap) * dtype_bytes),
                compress_rate=rate,
                bytes_per_entry=per_entry,
            )
        )
    return tuple(groups)


def with_convolved_qk_state(
    base: BaseConfig, convolved: ConvolvedQkConfig, group: KvGroup, dtype_bytes: float
) -> KvGroup:
    """An attention group of ZAYA's, plus the state its cache layers keep per sequence: the
    last depthwise + grouped - 2 inputs of the q/k convolutions ((heads + kv heads) · d
    channels) and the previous token's delayed values (kv heads · d / 2)."""
    channels = (base.num_attention_heads + base.num_key_value_heads) * base.head_dim
    taps = convolved.depthwise_kernel + convolved.grouped_kernel - 2
    per_layer = channels * taps + base.num_key_value_heads * base.head_dim // 2
    state = int(group.layers * per_layer * dtype_bytes)
    return replace(group, state_bytes=group.state_bytes + state)


def weight_bytes(params: int) -> dict[str, int]:
    """`params` weights stored at each of WEIGHT_DTYPE_BITS, in whole bytes (int4 rounds down)."""
    return {dtype: params * bits // 8 for dtype, bits in WEIGHT_DTYPE_BITS.items()}
