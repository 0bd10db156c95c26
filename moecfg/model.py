"""The composed config: a dense Llama-family base, wrapped by an MoE block when the model has one.

Pure frozen value types, no I/O. Composition rather than inheritance: a dense model is a
`ModelConfig` whose `moe` is None, and every MoE family fills the same `MoeConfig`, so metrics,
rules and renderers never branch on the family name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

#: Attention kinds a layer can have; the KV cache and the layer map follow these.
FULL_ATTENTION = "full_attention"
SLIDING_ATTENTION = "sliding_attention"
#: Chunked-local attention (Llama 4): a token sees only its own `attention_chunk_size` chunk, so
#: the cache holds at most one chunk, like a sliding window of that size.
CHUNKED_ATTENTION = "chunked_attention"
#: Linear attention (Qwen3-Next gated delta-net, MiniMax lightning): a fixed state, no KV.
LINEAR_ATTENTION = "linear_attention"
#: A Mamba (selective state-space) mixer in place of attention: a fixed state, no KV.
MAMBA = "mamba"
#: No token mixer: the layer is only an MLP or MoE block (Nemotron-H's "mlp" and "moe" layers).
NO_MIXER = "no_mixer"
#: DeepSeek-V4's attention kinds: every layer attends to a sliding window of single-head keys
#: that are also its values; compressed-sparse layers also keep one compressed entry per
#: `sparse_compress_rate` tokens (which an indexer picks from), heavily-compressed layers one per
#: `heavy_compress_rate` tokens (see CompressedAttentionConfig).
COMPRESSED_SPARSE_ATTENTION = "compressed_sparse_attention"
HEAVILY_COMPRESSED_ATTENTION = "heavily_compressed_attention"


@dataclass(frozen=True, slots=True, kw_only=True)
class LinearAttentionConfig:
    """Shape of the linear-attention mixer of the layers whose kind is LINEAR_ATTENTION.

    `kind` names the mixer's module layout ("gated_delta_net" for Qwen3-Next, "lightning" for
    MiniMax); the head shapes size both its weights and its per-sequence state.
    """

    kind: str
    num_key_heads: int
    num_value_heads: int
    key_head_dim: int
    value_head_dim: int
    #: Width of the depthwise causal convolution over q, k and v; 0 when the mixer has none.
    conv_kernel_size: int = 0
    #: "kda" only: the forget and output gates are rank-`gate_rank` pairs (f_a_proj h → r,
    #: f_b_proj r → H·d; g_a/g_b likewise: Kimi Linear, r = head_dim); 0 when each is one
    #: h → H·d projection (Bailing hybrid).
    gate_rank: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class MambaConfig:
    """Shape of the Mamba mixer of the layers whose kind is MAMBA.

    `version` 1 is the Mamba of Jamba (x_proj, dt_proj, per-channel A); 2 is Mamba-2 (Granite 4:
    per-head A and dt, grouped B/C, gated norm).
    """

    version: int
    #: Channels inside the mixer: mamba_expand × hidden_size.
    intermediate_size: int
    state_size: int
    conv_kernel_size: int
    conv_bias: bool
    proj_bias: bool
    #: Mamba-1: rank of the dt projection.
    time_step_rank: int = 0
    #: Mamba-2: heads (intermediate_size / head_dim) and B/C groups.
    num_heads: int = 0
    num_groups: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class HyperConnectionConfig:
    """Hyper-connections (HY-V4, DeepSeek-V4): the residual stream is `streams` copies of the
    hidden state, mixed around each attention and MLP block and merged before the final norm.

    Around each block (`attn_hc`, `ffn_hc`): fn [mixes, streams · h], base [mixes] and scale
    [scales]; at the end (`hc_head`): hc_fn [streams, streams · h], hc_base [streams] and
    hc_scale [1]. Every token uses them; they are counted in `other`.
    """

    streams: int
    mixes: int
    scales: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PerLayerInputConfig:
    """Per-layer input embeddings (Gemma 4 "PLE"): each token also looks up a `width`-wide
    vector for every decoder layer, which the layer gates into its residual stream.

    Model level: one table of `vocab_size` × (layers · width), an embedding lookup counted in
    `embedding`; `per_layer_model_projection` h → layers · width (in `other`) and an RMSNorm of
    width. Each layer: `per_layer_input_gate` h → width and `per_layer_projection` width → h
    (unbiased, in `other`) and an RMSNorm of h (`post_per_layer_input_norm`).
    """

    vocab_size: int
    width: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CompressedAttentionConfig:
    """DeepSeek-V4's attention, in place of q/k/v/o projections (head_dim is its head size d).

    Every layer: q_a_proj h → q_lora, q_a_norm (q_lora), q_b_proj q_lora → heads · d; one key
    head that is also the value, kv_proj h → d and kv_norm (d); a sink per head; the output in
    `output_groups` groups, o_a_proj (each group's heads · d / groups → output_lora_rank, stored
    as one [groups · output_lora_rank, heads · d / groups] weight) and o_b_proj (groups ·
    output_lora_rank → h). No projection is biased.

    A compressor pools each window of `rate` tokens into one entry of d: kv_proj and gate_proj
    h → w · d, position_bias [rate, w · d] and kv_norm (d), with w = 2 on compressed-sparse
    layers (overlapping windows) and 1 on heavily-compressed ones. A compressed-sparse layer's
    indexer is the same compressor at `index_head_dim` plus q_b_proj q_lora → index heads ·
    index_head_dim and weights_proj h → index heads.
    """

    q_lora_rank: int
    output_groups: int
    output_lora_rank: int
    #: Tokens per compressed entry on COMPRESSED_SPARSE_ATTENTION and on
    #: HEAVILY_COMPRESSED_ATTENTION layers.
    sparse_compress_rate: int
    heavy_compress_rate: int
    index_n_heads: int
    index_head_dim: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ConvolvedQkConfig:
    """ZAYA's compressed convolutional attention: q and k (heads · d and kv heads · d channels
    together) pass through a causal depthwise convolution of `depthwise_kernel` taps and then a
    convolution grouped per head of `grouped_kernel` taps, both biased; the key heads get one
    learned temperature each (`qk_norm.temp`). Half of each value head comes from the current
    token (`v_proj_current`) and half from the previous one (`v_proj_delayed`), so the values
    cost what one v_proj costs. The cache keeps the last depthwise + grouped - 2 q/k inputs and
    the previous token's delayed values per sequence.
    """

    depthwise_kernel: int
    grouped_kernel: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BlockIndexerConfig:
    """A lightning indexer read from the hidden state, on the layers listed (MiniMax-M3).

    It scores blocks of keys so sparse layers attend to the best ones: q_proj h → heads ·
    head_dim, k_proj h → head_dim (both unbiased), and RMSNorms of head_dim on each
    (`self_attn.indexer`). Unlike the DSA indexer of `MlaConfig` it needs no query latent.
    """

    num_heads: int
    head_dim: int
    layers: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class KindAttention:
    """How the attention of the layers of one kind differs from the base's.

    MiMo-V2-Flash's sliding layers have twice the KV heads of its full layers and one learned
    sink per head, which the full layers lack. None keeps the base's value.
    """

    #: The layer kind (FULL_ATTENTION, SLIDING_ATTENTION, ...) this applies to.
    kind: str
    num_key_value_heads: int | None = None
    attention_sinks: bool | None = None
    #: Query heads and head size of that kind (Inkling's sliding layers: the `swa_*` keys).
    num_attention_heads: int | None = None
    head_dim: int | None = None
    #: The latent attention of that kind, whole (Dots 3's sliding layers have their own sizes).
    mla: MlaConfig | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MlaConfig:
    """Multi-head latent attention (DeepSeek-V2/V3, Kimi-K2) in place of q/k/v projections.

    Keys and values are rebuilt per head from one shared latent of `kv_lora_rank` values plus a
    `qk_rope_head_dim` rotary key, which is what a latent-caching runtime keeps per token.
    """

    #: Rank of the query compression (q_a_proj → q_b_proj); None means a plain q_proj.
    q_lora_rank: int | None
    kv_lora_rank: int
    qk_nope_head_dim: int
    qk_rope_head_dim: int
    v_head_dim: int
    #: DeepSeek-V3.2 sparse attention (DSA): the lightning indexer's heads and head size, and the
    #: layers that carry one (`self_attn.indexer`; GLM-5 layers marked "shared" reuse the previous
    #: layer's top-k and have none). No layers when the model has no indexer.
    index_n_heads: int = 0
    index_head_dim: int = 0
    indexer_layers: tuple[int, ...] = ()
    #: A per-head sigmoid gate on the attention output, `heads × output_gate_width` wide and
    #: read from the hidden state without bias: v_head_dim for HY-V4 (`gate_proj`), 1 for
    #: dots3 and the Bailing hybrid (`g_proj`); 0 when there is none.
    output_gate_width: int = 0
    #: An RMSNorm of qk_rope_head_dim on the shared rotary key (dots3 `k_rope_only_layernorm`).
    rope_key_norm: bool = False
    #: q_b_proj is replaced by `q_gate_proj` (A.X-K2): it reads the normed and the raw query
    #: latent side by side (2 · q_lora_rank, unbiased) and emits, per head, the query and a
    #: sigmoid gate of v_head_dim on the attention output.
    fused_query_gate: bool = False

    @property
    def qk_head_dim(self) -> int:
        return self.qk_nope_head_dim + self.qk_rope_head_dim


@dataclass(frozen=True, slots=True, kw_only=True)
class ShortConvConfig:
    """Depthwise causal convolutions without bias around attention (Inkling, Inkling 2).

    Inside attention, one over the keys and one over the values (`self_attn.k_sconv`,
    `v_sconv`: kv heads · head_dim channels × `kernel_size` taps); in each decoder layer, one
    over the attention output and one over the MLP output (hidden_size channels each, counted
    in `other`). On the layer kinds in `dynamic_kinds` the key/value taps are a static weight
    [kernel_size, channels] plus taps projected from the layer input per KV head
    (`weight_proj` h → kv heads · kernel_size, unbiased).
    """

    kernel_size: int
    dynamic_kinds: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RelativeLogitsConfig:
    """A relative position bias read from the hidden state (Inkling, Inkling 2).

    `r_proj` (h → heads · width, unbiased) gives each token `width` weights per head, which
    mix a bank of bias-by-distance profiles (`rel_logits_proj.proj` [width, extent]); the
    extent is `extent` tokens on full-attention layers and the window on sliding layers.
    """

    width: int
    extent: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AttentionResidualConfig:
    """Block attention residuals (Inkling 2): a sublayer's input is attention over the outputs
    of earlier blocks of layers, with a learned hidden_size-wide query in place of the sum.

    Each layer has one query before its MLP (`mlp_input`) and, from layer 1 on, one before
    attention (`attention_input`); on the layer kinds in `split_qkv_kinds` that one is three
    queries (the q, k and v inputs), and those layers norm each input (q/k/v_input_layernorm)
    instead of one input_layernorm. The model has one more query before the final norm
    (`final_input`). Queries are counted in `other`.
    """

    split_qkv_kinds: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class BaseConfig:
    """Shape of a Llama-style decoder: attention, vocabulary, RoPE, norms and the dense MLP."""

    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    #: Width of the dense MLP. None when the family has no dense MLP layers at all (e.g.
    #: Mixtral, whose `intermediate_size` is the expert width and lives in the MoE block).
    intermediate_size: int | None
    vocab_size: int
    max_position_embeddings: int | None
    tie_word_embeddings: bool
    rope_theta: float | None
    rope_scaling: Mapping[str, Any] | None = field(default=None, compare=False, hash=False)
    #: Share of each head's dimensions that RoPE rotates (Qwen3-Next 0.25); no parameters.
    partial_rotary_factor: float = 1.0
    rms_norm_eps: float | None
    dtype: str | None
    #: Bias on the q, k and v projections.
    attention_bias: bool = False
    #: Bias on the attention output projection (o_proj).
    attention_output_bias: bool = False
    #: Per-head RMSNorm on queries and keys (`q_norm`/`k_norm`, head_dim weights each).
    qk_norm: bool = False
    #: q_proj also emits a sigmoid gate on the attention output, per head (Qwen3-Next): its
    #: width is 2 · heads · head_dim.
    attention_output_gate: bool = False
    #: The q/k norms span the whole projection instead of one head (OLMoE): q_norm has
    #: hidden_size weights, k_norm num_key_value_heads × (hidden_size / num_attention_heads).
    qk_norm_full_width: bool = False
    #: Full-width q/k norms sized by head_dim (MiniMax-M2, FlexOlmo): q_norm has
    #: num_attention_heads × head_dim weights, k_norm num_key_value_heads × head_dim.
    qk_norm_sized_by_head_dim: bool = False
    #: One learned attention-sink logit per head per layer (gpt-oss `self_attn.sinks`).
    attention_sinks: bool = False
    #: Width of each value head when it differs from head_dim (MiMo-V2-Flash: q/k 192, v 128):
    #: v_proj's output per KV head, o_proj's input per head and the V half of the KV cache.
    value_head_dim: int | None = None
    #: The attention of the layer kinds that differ from the base (see KindAttention).
    attention_by_kind: tuple[KindAttention, ...] = ()
    #: Mixture of attention heads (JetMoE's MoA): q and o projections are a bank of this many
    #: experts (q: h → kv heads · head_dim, o: back to h, unbiased), of which a router
    #: Linear(h, experts) picks `attention_experts_per_tok` per token; k and v stay shared and
    #: `attention_output_bias` is the bias after the experts. 0 for ordinary attention. The bank
    #: is counted in routed_experts and its router in router, as the MLP's are.
    attention_experts: int = 0
    attention_experts_per_tok: int = 0
    #: The attention output gate carries one learned bias per head (Beam `self_attn.gate_bias`).
    attention_gate_bias: bool = False
    #: Outputs per head of a separate unbiased gate projection on the attention output (Laguna's
    #: `g_proj`: 1 for one gate per head, head_dim for one per channel); 0 when there is none.
    attention_gate_per_head: int = 0
    #: Doge's dynamic mask: `A` (one per kv head) and `dt_proj` (kv heads · head_dim → kv
    #: heads, biased like the q/k/v projections), inside the attention block.
    attention_dynamic_mask: bool = False
    #: Query heads of each layer when they differ between layers (Laguna's
    #: `num_attention_heads_per_layer`); empty when every layer has `num_attention_heads`.
    attention_heads_by_layer: tuple[int, ...] = ()
    #: Head size / KV heads of each layer when they differ between layers (Gemma 4's
    #: full-attention layers use `global_head_dim` and `num_global_key_value_heads`); empty when
    #: every layer has `head_dim` / `num_key_value_heads`.
    head_dim_by_layer: tuple[int, ...] = ()
    kv_heads_by_layer: tuple[int, ...] = ()
    #: Key/value projections of an attention layer: 2 (k_proj and v_proj), 1 when the values
    #: are the keys (Gemma 4 `attention_k_eq_v`: no v_proj, yet K and V are both cached), 0 when
    #: the layer reuses an earlier layer's keys and values (Gemma 4's last
    #: `num_kv_shared_layers`: no k_proj, v_proj or k_norm, and nothing in the KV cache).
    kv_projections: int = 2
    #: kv_projections of each layer when it differs between layers; empty when uniform.
    kv_projections_by_layer: tuple[int, ...] = ()
    #: Width of each layer's dense MLP when it differs between layers (Gemma 4's KV-sharing
    #: layers with `use_double_wide_mlp`); empty when every layer has `intermediate_size`.
    intermediate_size_by_layer: tuple[int, ...] = ()
    #: Per-layer input embeddings, when the model has them (see PerLayerInputConfig).
    per_layer_input: PerLayerInputConfig | None = None
    #: The layer norms are LayerNorm with a bias (weight + bias per norm), not RMSNorm.
    norm_bias: bool = False
    #: hidden_size-wide norms in each decoder layer: 2 (before attention and before the MLP) for
    #: Llama-style blocks, 1 for Cohere's parallel block, 4 with post-norms as well (AFMoE).
    norms_per_layer: int = 2
    #: hidden_size-wide learned scales on the residual stream in each decoder layer (Doge's
    #: `input_residual` and `post_attention_residual`: 2), counted in `other`.
    residual_scales_per_layer: int = 0
    #: Bias on the output projection (lm_head), e.g. Phi-3.5-MoE's `lm_head_bias`.
    lm_head_bias: bool = False
    #: Bias on the dense MLP projections.
    mlp_bias: bool = False
    sliding_window: int | None = None
    #: The chunk of CHUNKED_ATTENTION layers, in tokens (None: those layers are unbounded).
    attention_chunk_size: int | None = None
    #: One attention kind per layer (FULL_ATTENTION, SLIDING_ATTENTION, LINEAR_ATTENTION, MAMBA).
    layer_types: tuple[str, ...] = ()
    #: The mixer of LINEAR_ATTENTION layers, when the model has any.
    linear_attention: LinearAttentionConfig | None = None
    #: The mixer of MAMBA layers, when the model has any.
    mamba: MambaConfig | None = None
    #: Latent attention replacing the q/k/v projections of every attention layer, when used.
    mla: MlaConfig | None = None
    #: The block indexer of sparse-attention layers (MiniMax-M3), counted in attention.
    block_indexer: BlockIndexerConfig | None = None
    #: Hyper-connections around every attention and MLP block, when the model has them.
    hyper_connections: HyperConnectionConfig | None = None
    #: Multi-token-prediction layers the checkpoint stores after the decoder
    #: (`num_nextn_predict_layers`); transformers does not build them, so they are not in
    #: the counted model (metrics.mtp_params sizes them).
    num_mtp_layers: int = 0
    #: Layers that are only a token mixer, with no MLP after it (Nemotron-H builds each layer
    #: as one block: a mixer, or an MLP / MoE whose layer kind is then NO_MIXER).
    mlp_free_layers: tuple[int, ...] = ()
    #: The dense MLP is gate/up/down (SwiGLU); False for a plain up/down MLP (Nemotron-H relu²).
    mlp_gated: bool = True
    #: Short convolutions on keys, values and each layer's outputs (see ShortConvConfig).
    short_conv: ShortConvConfig | None = None
    #: The relative position bias of every attention layer (see RelativeLogitsConfig).
    relative_logits: RelativeLogitsConfig | None = None
    #: A sigmoid gate per attention output channel, projected from the hidden state (Inkling 2
    #: `gate_proj` h → heads · head_dim, unbiased); unlike `attention_gate_per_head` it follows
    #: each layer's own heads and head_dim. Counted in attention.
    attention_channel_gate: bool = False
    #: Per-token attention sinks projected from the hidden state (Inkling 2 `sink_proj`
    #: h → heads, unbiased), counted in attention.
    attention_sink_proj: bool = False
    #: Learned scales applied before the queries' and relative states' L2 norms are clipped
    #: (Inkling 2 `q_l2_clip.scale` [heads, head_dim], `rel_l2_clip.scale` [heads, width]).
    l2_clip_scales: bool = False
    #: Block attention residuals and their learned queries (see AttentionResidualConfig).
    attention_residuals: AttentionResidualConfig | None = None
    #: An RMSNorm (hidden_size) right after the token embedding (Inkling `embed_norm`).
    embedding_norm: bool = False
    #: A learned scalar on the dense MLP's output (Inkling `mlp.global_scale`), per dense layer.
    mlp_output_scale: bool = False
    #: DeepSeek-V4's compressed attention on every layer, when used (see
    #: CompressedAttentionConfig); `layer_types` then says which compressor each layer has.
    compressed_attention: CompressedAttentionConfig | None = None
    #: ZAYA's convolved q/k and split values, when used (see ConvolvedQkConfig).
    convolved_qk: ConvolvedQkConfig | None = None
    #: hidden_size-wide learned vectors applied to the embeddings before the first layer (ZAYA's
    #: `input_hidden_states_scale` and `_bias`: 2), counted in `other`.
    input_scales: int = 0
    #: Norms wrapped in a low-rank sigmoid gate read from their output (A.X-K2
    #: `AXK2GatedRMSNorm`: `mlp.fc1` h → rank and `mlp.fc2` rank → h, unbiased), counted in
    #: norms: the gate's rank, and how many of each layer's norms carry one (empty: none do).
    norm_gate_rank: int = 0
    gated_norms_by_layer: tuple[int, ...] = ()

    @property
    def gqa_group_size(self) -> int:
        return self.num_attention_heads // self.num_key_value_heads

    def of_kind(self, kind: str) -> BaseConfig:
        """The base as the layers of `kind` build their attention (`attention_by_kind`)."""
        for override in self.attention_by_kind:
            if override.kind == kind:
                changes = {
                    name: getattr(override, name)
                    for name in (
                        "num_key_value_heads",
                        "attention_sinks",
                        "num_attention_heads",
                        "head_dim",
                        "mla",
                    )
                    if getattr(override, name) is not None
                }
                return replace(self, **changes)
        return self


@dataclass(frozen=True, slots=True, kw_only=True)
class MoeConfig:
    """The routed-expert block and the layers that carry it."""

    num_experts: int
    num_experts_per_tok: int
    expert_intermediate_size: int
    #: Indices of the layers whose MLP is the MoE block; the others use the dense MLP.
    moe_layers: tuple[int, ...]
    #: Whether the top-k routing weights are renormalised to sum to one. None when the family's
    #: router has no such switch (it is then described by `scoring_func` alone).
    norm_topk_prob: bool | None
    #: How router logits become expert weights: "softmax" (over all experts, then top-k,
    #: renormalised iff norm_topk_prob), "topk_softmax" (top-k logits, softmax over those k;
    #: equal to softmax + renormalise), "sparsemixer" (PhiMoE), "sigmoid", ...
    scoring_func: str = "softmax"
    routed_scaling_factor: float | None = None
    n_group: int | None = None
    topk_group: int | None = None
    router_bias: bool = False
    #: A learned scalar on the routing weights (Inkling `gate.global_scale`), per MoE layer.
    router_output_scale: bool = False
    #: Experts transformers gives a gate_up_proj slice but no down_proj: LongCat-Flash's zero
    #: (identity) experts, which compute nothing, yet `experts.gate_up_proj` is allocated for all
    #: routed + zero experts. Counted in routed_experts because transformers builds them.
    gate_up_only_experts: int = 0
    #: Width of the router Linear when it is not one logit per expert: Doge's product-key router
    #: scores 2 · ⌊√E⌋ keys and combines them into E experts.
    router_outputs: int | None = None
    #: A learned hidden_size-wide scale on the router's (normed) input and a learned scale per
    #: expert on the routing weights (Gemma 4 `router.scale`, `router.per_expert_scale`).
    router_input_scale: bool = False
    router_expert_scale: bool = False
    #: How the k experts are picked, when the family's router has more than one way: DeepSeek-V2
    #: "greedy" / "group_limited_greedy" (max score per group); "noaux_tc" is DeepSeek-V3's
    #: group-limited pick on bias-corrected scores (top-2 sum per group).
    topk_method: str | None = None
    #: A per-expert `e_score_correction_bias` added to the scores for choosing experts only. It is
    #: a buffer, not a parameter: it is in the checkpoint but not in the parameter counts.
    score_correction_bias: bool = False
    expert_bias: bool = False
    #: The MoE layers keep the dense MLP of `intermediate_size` beside the experts and run it on
    #: every token (Doge's CDMoE, Gemma 4); it is counted in `dense_mlp`, not as a shared expert.
    dense_mlp_in_moe_layers: bool = False
    #: Shared experts run on every token; stored as one MLP of `shared_expert_intermediate_size`.
    num_shared_experts: int = 0
    shared_expert_intermediate_size: int | None = None
    #: A sigmoid gate Linear(hidden, 1) scaling the shared expert's output (Qwen2-MoE style).
    shared_expert_gate: bool = False
    #: Bias on the shared expert's projections (ERNIE 4.5's `use_bias`; its routed experts have none).
    shared_expert_bias: bool = False
    #: Top-k of each layer in `moe_layers`, in order, when it differs between layers (a HunYuan
    #: list `moe_topk`); empty when every MoE layer picks `num_experts_per_tok`, which is then
    #: the largest k.
    top_k_by_layer: tuple[int, ...] = ()
    #: Routed and shared experts are gate/up/down; False for plain up/down experts (Nemotron-H).
    experts_gated: bool = True
    #: Routed experts work in a latent space of this width, entered and left through two
    #: projections (`fc1_latent_proj` h→latent, `fc2_latent_proj` latent→h) that every token
    #: uses; None when the experts read the hidden state itself.
    latent_size: int | None = None
    latent_proj_bias: bool = False
    #: The router is a small MLP of this width instead of one Linear (ZAYA): down_proj h → width
    #: (biased), an RMSNorm of width, fc1 and fc2 width → width (biased) and out_proj width →
    #: router_outputs (unbiased). None for a Linear router.
    router_mlp_width: int | None = None
    #: Each MoE layer but layer 0 adds the previous layer's router state, scaled by a learned
    #: vector of router_mlp_width (ZAYA `router_states_scale`).
    router_state_scale: bool = False
    #: An RMSNorm (hidden_size) on the MoE block's output, in each MoE layer (A.X-K1
    #: `mlp.post_mlp_layernorm`); counted in norms.
    output_norm: bool = False
    #: One bias (hidden_size) added to the MoE block's output in each MoE layer (JetMoE
    #: `mlp.bias`); every token uses it, so it is counted in other.
    output_bias: bool = False

    def top_k(self, layer: int) -> int:
        """Experts each token uses in MoE layer `layer`."""
        if self.top_k_by_layer:
            return self.top_k_by_layer[self.moe_layers.index(layer)]
        return self.num_experts_per_tok

    @property
    def sparsity(self) -> float:
        return self.num_experts_per_tok / self.num_experts

    @property
    def is_truly_sparse(self) -> bool:
        return 0 < self.num_experts_per_tok < self.num_experts


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelConfig:
    """What moecfg knows about one model: the composed config plus how each field was found."""

    #: The config's own model_type, as written.
    model_type: str
    #: The adapter that read it; differs from model_type when read through `architectures`.
    family: str
    architecture: str | None
    base: BaseConfig
    moe: MoeConfig | None
    #: Output field ("base.head_dim") → "present", "alias:<key>", "default", "derived" or "missing".
    provenance: Mapping[str, str] = field(compare=False, hash=False)
    #: Output field → the config key its value was read from, where one was.
    source_keys: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)
    warnings: tuple[str, ...] = ()
    #: Parts of the checkpoint deliberately not counted (e.g. a vision tower), said in the output.
    excluded: tuple[str, ...] = ()

    @property
    def is_moe(self) -> bool:
        return self.moe is not None

    @property
    def dense_layers(self) -> tuple[int, ...]:
        without_dense = set(self.moe.moe_layers if self.moe else ()) | set(self.base.mlp_free_layers)
        return tuple(i for i in range(self.base.num_hidden_layers) if i not in without_dense)
