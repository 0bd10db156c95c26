"""Kimi Linear (Moonshot): Kimi delta attention (KDA) layers, latent-attention (MLA) layers and
DeepSeek-V3's expert block.

As transformers 5 builds `kimi_linear`:
- mixers: "linear_attention" layers are KDA (q/k/v h → H·d, a depthwise conv over them, a
  forget gate and an output gate each through a rank-d pair, b_proj h → H, A_log, dt_bias and a
  gated RMSNorm of d), "full_attention" layers are MLA as DeepSeek-V3's, with `attention_bias`
  on q_a/kv_a and on o_proj. `layer_types` lists them; else the checkpoint's
  `linear_attn_config` does, as 1-based `full_attn_layers` and `kda_layers`; else every fourth
  layer from layer 4 is MLA. KDA heads come from `linear_attn_config` (`num_heads`, `head_dim`,
  `short_conv_kernel_size`) or the top-level `linear_num_heads` / `linear_head_dim` /
  `linear_conv_kernel_dim`.
- MLP: dense where `mlp_layer_types` says "dense" (else the first `first_k_dense_replace`, 1
  by default); elsewhere `num_experts` routed experts, `num_shared_experts` fused into one
  shared MLP, and DeepSeek-V3's grouped sigmoid router with the correction-bias buffer.
- Cache: MLA layers keep the latent, KDA layers a fixed convolution and recurrent state.
"""

from __future__ import annotations

from dataclasses import replace

from moecfg.families.base import (
    BASE_FIELDS,
    Parsed,
    field_table,
    read_base,
    read_dense_intermediate_size,
)
from moecfg.families.deepseek import DEEPSEEK_MOE_FIELDS, MLA_FIELDS, Variant, _read_mla
from moecfg.families.fields import Field, Reader, count, flag, size
from moecfg.families.longtail_deepseek import (
    _MLP_LAYER_TYPES,
    _family,
    _mlp_layer_kinds,
    _router_variant,
    read_shared_expert_moe,
)
from moecfg.families.mixer_layers import read_layer_kinds
from moecfg.model import FULL_ATTENTION, LINEAR_ATTENTION, LinearAttentionConfig

_KIMI_ATTENTION_KINDS = {"full_attention": FULL_ATTENTION, "linear_attention": LINEAR_ATTENTION}


def _checkpoint_layer_kinds(reader: Reader, num_layers: int) -> tuple[str, ...] | None:
    """`linear_attn_config`'s 1-based full_attn_layers and kda_layers, when it has both.

    transformers builds a layer in neither list as KDA, and so does moecfg.
    """
    full = reader.get("base.full_attn_layers")
    kda = reader.get("base.kda_layers")
    if full is None or kda is None:
        return None
    for name, listed in (("base.full_attn_layers", full), ("base.kda_layers", kda)):
        for index, layer in enumerate(listed):
            if not 1 <= layer <= num_layers:
                raise reader.invalid(
                    f"{reader.fields[name].key}[{index}]",
                    f"layer {layer} is outside 1..{num_layers} (the list counts layers from 1)",
                )
    kinds = [LINEAR_ATTENTION] * num_layers
    for layer in full:
        kinds[layer - 1] = FULL_ATTENTION
    for layer in kda:
        kinds[layer - 1] = LINEAR_ATTENTION
    return tuple(kinds)


def _layer_types(reader: Reader, num_layers: int) -> tuple[str, ...]:
    listed = read_layer_kinds(reader, "base.layer_types", num_layers, _KIMI_ATTENTION_KINDS)
    if listed is not None:
        return listed
    from_checkpoint = _checkpoint_layer_kinds(reader, num_layers)
    if from_checkpoint is not None:
        return from_checkpoint
    return tuple(
        FULL_ATTENTION if i and i % 4 == 0 else LINEAR_ATTENTION for i in range(num_layers)
    )


def _parse_kimi_linear(reader: Reader, variant: Variant) -> Parsed:
    # Type-check the checkpoint's sub-object first, so a non-object fails naming it.
    reader.get("base.linear_attn_config")
    num_layers = reader.get("base.num_hidden_layers")
    moe_layers = _mlp_layer_kinds(reader, num_layers, reader.get("moe.first_k_dense_replace"))
    moe = read_shared_expert_moe(reader, variant, moe_layers)
    base = read_base(
        reader,
        intermediate_size=read_dense_intermediate_size(reader, num_layers - len(moe_layers)),
        layer_types=_layer_types(reader, num_layers),
    )
    heads = reader.get("base.linear_attention.num_heads")
    head_dim = reader.get("base.linear_attention.head_dim")
    kda = LinearAttentionConfig(
        kind="kda",
        num_key_heads=heads,
        num_value_heads=heads,
        key_head_dim=head_dim,
        value_head_dim=head_dim,
        conv_kernel_size=reader.get("base.linear_attention.conv_kernel_size"),
        gate_rank=head_dim,
    )
    return Parsed(base=replace(base, mla=_read_mla(reader), linear_attention=kda), moe=moe)


KIMI_LINEAR = _family(
    _router_variant(
        "kimi_linear",
        "KimiLinearForCausalLM",
        "Kimi Linear: Kimi delta attention and MLA layers, shared expert, grouped sigmoid router",
    ),
    {
        **{
            k: v
            for k, v in BASE_FIELDS.items()
            if k not in ("base.mlp_bias", "base.sliding_window", "base.max_position_embeddings")
        },
        **MLA_FIELDS,
        # transformers sets head_dim to qk_rope_head_dim; it sizes only the rotary embedding.
        "base.head_dim": size("base.head_dim", "qk_rope_head_dim", default=64),
        **field_table(
            Field(
                "base.max_position_embeddings",
                "model_max_length",
                default=1048576,
                minimum=1,
                aliases=("max_position_embeddings",),
            ),
            Field("base.layer_types", "layer_types", "str_list", default=None, nullable=True),
            Field(
                "base.linear_attn_config",
                "linear_attn_config",
                "object",
                default=None,
                nullable=True,
            ),
            Field(
                "base.full_attn_layers",
                "linear_attn_config.full_attn_layers",
                "int_list",
                default=None,
                nullable=True,
            ),
            Field(
                "base.kda_layers",
                "linear_attn_config.kda_layers",
                "int_list",
                default=None,
                nullable=True,
            ),
            size(
                "base.linear_attention.num_heads",
                "linear_attn_config.num_heads",
                default=32,
                aliases=("linear_num_heads",),
            ),
            size(
                "base.linear_attention.head_dim",
                "linear_attn_config.head_dim",
                default=128,
                aliases=("linear_head_dim",),
            ),
            size(
                "base.linear_attention.conv_kernel_size",
                "linear_attn_config.short_conv_kernel_size",
                default=4,
                aliases=("linear_conv_kernel_dim",),
            ),
            size("moe.num_experts", "num_experts", default=256, aliases=("num_local_experts",)),
            size(
                "moe.num_experts_per_tok",
                "num_experts_per_token",
                default=8,
                aliases=("num_experts_per_tok",),
            ),
            size("moe.expert_intermediate_size", "moe_intermediate_size", default=1024),
            count(
                "moe.num_shared_experts",
                "num_shared_experts",
                default=1,
                aliases=("n_shared_experts",),
            ),
            count("moe.first_k_dense_replace", "first_k_dense_replace", default=1),
            _MLP_LAYER_TYPES,
            flag(
                "moe.norm_topk_prob", "moe_renormalize", default=True, aliases=("norm_topk_prob",)
            ),
            size("moe.n_group", "num_expert_group", default=1, aliases=("n_group",)),
            size("moe.topk_group", "topk_group", default=1),
        ),
        "moe.routed_scaling_factor": DEEPSEEK_MOE_FIELDS["moe.routed_scaling_factor"],
        "moe.scoring_func": DEEPSEEK_MOE_FIELDS["moe.scoring_func"],
    },
    _parse_kimi_linear,
    base__intermediate_size=9216,
    base__rms_norm_eps=1e-5,
    base__mla__q_lora_rank=None,
    moe__routed_scaling_factor=2.446,
)
