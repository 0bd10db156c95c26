"""Hybrid long-tail families: layers of different kinds, some with no attention at all.

- nemotron_h (NVIDIA Nemotron-H, Nemotron 3): every layer is one block after one RMSNorm: a
  Mamba-2 mixer, attention (GQA, no bias, no RoPE), a plain relu² MLP, or a MoE block. The
  layer list is `layers_block_type` ("linear_attention"/"mamba", "full_attention"/"attention",
  "moe", "mlp"), else the remote-code `hybrid_override_pattern` (M, *, E, -), and its length is
  the layer count (`num_hidden_layers` is ignored). A mixer layer has no MLP; an MLP or MoE
  layer has no mixer (moecfg's NO_MIXER kind, so it holds no KV cache). The MoE block is
  DeepSeek-V3's sigmoid router (grouped, with the correction buffer) over up/down experts,
  one always-built shared expert of `moe_shared_expert_intermediate_size`, and, with
  `moe_latent_size`, experts working in a latent space entered and left through two projections.
  The Mamba mixer has `mamba_num_heads` × `mamba_head_dim` channels; its in/out projections
  follow `use_bias` (transformers ignores `mamba_proj_bias` and `attention_bias`), and the
  output head is never tied to the embedding, whatever `tie_word_embeddings` says.
- bailing_hybrid (Ling / Ring hybrid): Kimi delta attention ("kda" linear attention: heads are
  `num_attention_heads` of the config's `head_dim`) on the layers `layer_types` marks
  "linear_attention" (else all but every `layer_group_size`-th), and on the others latent
  attention (MLA with a plain q_proj, o_proj biased by `attention_bias`) with a per-head output
  gate. MLP layers are "sparse" in `mlp_layer_types`, else from `first_k_dense_replace` on:
  routed experts plus a shared MLP of n_shared × moe_intermediate_size, DeepSeek-V3's grouped
  sigmoid router. transformers does not build the `num_nextn_predict_layers` MTP layers.
"""

from __future__ import annotations

from dataclasses import replace

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
from moecfg.families.deepseek import DEEPSEEK_MOE_FIELDS, MLA_FIELDS, Variant, _read_router
from moecfg.families.fields import Field, Reader, count, flag, size
from moecfg.families.longtail_deepseek import (
    _MLP_LAYER_TYPES,
    _family,
    _mlp_layer_kinds,
    _router_variant,
    read_shared_expert_moe,
)
from moecfg.families.mixer_layers import every_nth, read_layer_kinds
from moecfg.model import (
    FULL_ATTENTION,
    LINEAR_ATTENTION,
    MAMBA,
    NO_MIXER,
    LinearAttentionConfig,
    MambaConfig,
    MlaConfig,
    MoeConfig,
)

# --- nemotron_h ---

#: Block kind → (moecfg mixer kind, MLP kind: "moe", "mlp" or None for a mixer-only layer).
_NEMOTRON_BLOCKS = {
    "linear_attention": (MAMBA, None),
    "mamba": (MAMBA, None),
    "full_attention": (FULL_ATTENTION, None),
    "attention": (FULL_ATTENTION, None),
    "moe": (NO_MIXER, "moe"),
    "mlp": (NO_MIXER, "mlp"),
}
#: `hybrid_override_pattern` letters (the remote code's spelling) → block kind.
_NEMOTRON_PATTERN = {"M": "linear_attention", "*": "full_attention", "E": "moe", "-": "mlp"}
#: NemotronHConfig's list when a config gives neither.
_NEMOTRON_DEFAULT_BLOCKS = ("linear_attention", "moe", "full_attention", "mlp")

_NEMOTRON_VARIANT = Variant(
    model_type="nemotron_h",
    architectures=("NemotronHForCausalLM",),
    summary="Nemotron-H: Mamba-2, attention, MLP and MoE layers, sigmoid router",
    attention="gqa",
    router="sigmoid",
    defaults={},
)

NEMOTRON_H_FIELDS = with_defaults(
    {
        **{
            k: v
            for k, v in BASE_FIELDS.items()
            if k not in ("base.attention_bias", "base.sliding_window", "base.num_hidden_layers")
        },
        **field_table(
            Field(
                "base.layer_types",
                "layers_block_type",
                "str_list",
                default=None,
                aliases=("layer_types",),
                nullable=True,
            ),
            Field("base.hybrid_override_pattern", "hybrid_override_pattern", "str", default=None, nullable=True),
            Field("base.num_hidden_layers", "num_hidden_layers", default=None, minimum=1, nullable=True),
            Field("base.rms_norm_eps", "layer_norm_epsilon", "float", default=1e-5, minimum=0),
            size("mamba.num_heads", "mamba_num_heads", default=128),
            size("mamba.head_dim", "mamba_head_dim", default=64),
            size("mamba.state_size", "ssm_state_size", default=128),
            size("mamba.num_groups", "n_groups", default=8, aliases=("mamba_n_groups",)),
            size("mamba.conv_kernel_size", "conv_kernel", default=4, aliases=("mamba_d_conv",)),
            flag("mamba.conv_bias", "use_conv_bias", default=True, aliases=("mamba_conv_bias",)),
            flag("mamba.proj_bias", "use_bias", default=False),
            size("moe.num_experts", "n_routed_experts", default=8, aliases=("num_local_experts",)),
            size("moe.shared_expert_intermediate_size", "moe_shared_expert_intermediate_size", default=7688),
            Field("moe.latent_size", "moe_latent_size", default=None, minimum=1, nullable=True),
            count("base.num_mtp_layers", "num_nextn_predict_layers", default=0),
        ),
        **{
            name: DEEPSEEK_MOE_FIELDS[name]
            for name in (
                "moe.num_experts_per_tok",
                "moe.expert_intermediate_size",
                "moe.norm_topk_prob",
                "moe.routed_scaling_factor",
                "moe.n_group",
                "moe.topk_group",
                "moe.scoring_func",
            )
        },
    },
    base__hidden_size=4096,
    base__num_attention_heads=32,
    base__num_key_value_heads=8,
    base__head_dim=128,
    base__intermediate_size=21504,
    base__vocab_size=131072,
    base__max_position_embeddings=4096,
    moe__num_experts_per_tok=2,
    moe__expert_intermediate_size=7688,
    moe__norm_topk_prob=True,
    moe__n_group=1,
    moe__topk_group=1,
)


def _nemotron_blocks(reader: Reader) -> tuple[str, ...]:
    """The block kind of each layer: `layers_block_type`, else the pattern, else the default."""
    listed = reader.get("base.layer_types")
    if listed is not None:
        how = reader.provenance.get("base.layer_types", "")
        key = how.removeprefix("alias:") if how.startswith("alias:") else "layers_block_type"
        for index, kind in enumerate(listed):
            if kind not in _NEMOTRON_BLOCKS:
                accepted = ", ".join(f'"{k}"' for k in _NEMOTRON_BLOCKS)
                raise reader.invalid(f"{key}[{index}]", f'"{kind}" is not one of {accepted}')
        blocks = tuple(listed)
    else:
        pattern = reader.get("base.hybrid_override_pattern")
        if pattern is None:
            return reader.defaulted("base.layer_types", _NEMOTRON_DEFAULT_BLOCKS)
        for index, letter in enumerate(pattern):
            if letter not in _NEMOTRON_PATTERN:
                raise reader.invalid(
                    "hybrid_override_pattern",
                    f'"{letter}" at position {index} is not one of {", ".join(_NEMOTRON_PATTERN)}',
                )
        blocks = tuple(_NEMOTRON_PATTERN[letter] for letter in pattern)
    if not blocks:
        raise reader.invalid(
            "layers_block_type" if listed is not None else "hybrid_override_pattern", "lists no layers"
        )
    return blocks


def _nemotron_mamba(reader: Reader) -> MambaConfig:
    heads = reader.get("mamba.num_heads")
    groups = reader.get("mamba.num_groups")
    if heads % groups:
        raise reader.invalid("n_groups", f"{groups} does not divide mamba_num_heads ({heads})")
    return MambaConfig(
        version=2,
        intermediate_size=heads * reader.get("mamba.head_dim"),
        state_size=reader.get("mamba.state_size"),
        conv_kernel_size=reader.get("mamba.conv_kernel_size"),
        conv_bias=reader.get("mamba.conv_bias"),
        proj_bias=reader.get("mamba.proj_bias"),
        num_heads=heads,
        num_groups=groups,
    )


def _parse_nemotron_h(reader: Reader) -> Parsed:
    blocks = _nemotron_blocks(reader)
    num_layers = len(blocks)
    stated = reader.get("base.num_hidden_layers")
    if stated is not None and stated != num_layers:
        reader.warnings.append(
            f"num_hidden_layers ({stated}) is ignored by transformers' nemotron_h: "
            f"the layer list has {num_layers} layers"
        )
    mtp_layers = reader.get("base.num_mtp_layers")
    if mtp_layers:
        reader.warnings.append(
            f"num_nextn_predict_layers ({mtp_layers}): the checkpoint's multi-token-prediction "
            "layers are not built by transformers' nemotron_h and not counted"
        )
    mixer_kinds = tuple(_NEMOTRON_BLOCKS[block][0] for block in blocks)
    mlp_kinds = tuple(_NEMOTRON_BLOCKS[block][1] for block in blocks)
    moe_layers = tuple(i for i, kind in enumerate(mlp_kinds) if kind == "moe")
    moe = None
    if moe_layers:
        num_experts = reader.get("moe.num_experts")
        top_k = read_top_k(reader, num_experts)
        latent_size = reader.get("moe.latent_size")
        moe = MoeConfig(
            num_experts=num_experts,
            num_experts_per_tok=top_k,
            expert_intermediate_size=reader.get("moe.expert_intermediate_size"),
            moe_layers=moe_layers,
            num_shared_experts=1,
            shared_expert_intermediate_size=reader.get("moe.shared_expert_intermediate_size"),
            shared_expert_bias=reader.get("base.mlp_bias"),
            experts_gated=False,
            latent_size=latent_size,
            latent_proj_bias=latent_size is not None and reader.get("base.mlp_bias"),
            **_read_router(reader, _NEMOTRON_VARIANT, num_experts, top_k),
        )
    base = read_base(
        reader,
        intermediate_size=reader.get("base.intermediate_size") if "mlp" in mlp_kinds else None,
        qkv_bias=False,
        output_bias=False,
        layer_types=mixer_kinds,
    )
    if base.tie_word_embeddings:
        reader.warnings.append(
            "tie_word_embeddings true is ignored by transformers' nemotron_h: lm_head has its own weights"
        )
    base = replace(
        base,
        tie_word_embeddings=False,
        num_hidden_layers=reader.derived("base.num_hidden_layers", num_layers),
        rope_theta=None,
        rope_scaling=None,
        norms_per_layer=1,
        mlp_gated=False,
        mlp_free_layers=tuple(i for i, kind in enumerate(mlp_kinds) if kind is None),
        mamba=_nemotron_mamba(reader) if MAMBA in mixer_kinds else None,
    )
    return Parsed(base=base, moe=moe)


NEMOTRON_H = Family(
    model_type="nemotron_h",
    architectures=("NemotronHForCausalLM",),
    fields=NEMOTRON_H_FIELDS,
    parse=_parse_nemotron_h,
    summary="Nemotron-H / Nemotron 3: one Mamba-2, attention, relu² MLP or MoE block per layer",
)


# --- bailing_hybrid ---

_BAILING_ATTENTION_KINDS = {"linear_attention": LINEAR_ATTENTION, "full_attention": FULL_ATTENTION}


def _first_set(reader: Reader, name: str, fallback: int) -> int:
    value = reader.get(name)
    return fallback if value is None else value


def _parse_bailing_hybrid(reader: Reader, variant: Variant) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    moe_layers = _mlp_layer_kinds(reader, num_layers, reader.get("moe.first_k_dense_replace"))
    moe = read_shared_expert_moe(reader, variant, moe_layers)
    layer_types = read_layer_kinds(reader, "base.layer_types", num_layers, _BAILING_ATTENTION_KINDS)
    if layer_types is None:
        every = reader.get("base.layer_group_size")
        layer_types = every_nth(num_layers, every, FULL_ATTENTION, LINEAR_ATTENTION)
    mtp_layers = reader.get("base.num_mtp_layers")
    if mtp_layers:
        reader.warnings.append(
            f"num_nextn_predict_layers ({mtp_layers}): the checkpoint's multi-token-prediction "
            "layers are not built by transformers' bailing_hybrid and not counted"
        )
    base = read_base(
        reader,
        intermediate_size=read_dense_intermediate_size(reader, num_layers - len(moe_layers)),
        layer_types=layer_types,
    )
    # transformers derives the linear-attention shape from head_dim, num_attention_heads and
    # short_conv_kernel_size, but a saved config's own linear_* keys override those.
    heads = _first_set(reader, "base.linear_attention.num_heads", base.num_attention_heads)
    head_dim = _first_set(reader, "base.linear_attention.head_dim", reader.get("base.linear_attention.from_head_dim"))
    conv = _first_set(
        reader, "base.linear_attention.conv_kernel_size", reader.get("base.linear_attention.from_conv_kernel")
    )
    mla = MlaConfig(
        q_lora_rank=None,
        kv_lora_rank=reader.get("base.mla.kv_lora_rank"),
        qk_nope_head_dim=reader.get("base.mla.qk_nope_head_dim"),
        qk_rope_head_dim=reader.get("base.mla.qk_rope_head_dim"),
        v_head_dim=reader.get("base.mla.v_head_dim"),
        output_gate_width=1,
    )
    linear_attention = LinearAttentionConfig(
        kind="kda",
        num_key_heads=heads,
        num_value_heads=heads,
        key_head_dim=head_dim,
        value_head_dim=head_dim,
        conv_kernel_size=conv,
    )
    return Parsed(base=replace(base, mla=mla, linear_attention=linear_attention), moe=moe)


BAILING_HYBRID = _family(
    _router_variant(
        "bailing_hybrid",
        "BailingHybridForCausalLM",
        "Bailing hybrid (Ling/Ring): Kimi delta attention and gated MLA layers, shared expert, sigmoid",
    ),
    {
        **{
            k: v
            for k, v in BASE_FIELDS.items()
            if k not in ("base.mlp_bias", "base.sliding_window", "base.max_position_embeddings")
        },
        **{k: v for k, v in MLA_FIELDS.items() if k != "base.mla.q_lora_rank"},
        # transformers sets head_dim to qk_rope_head_dim; it sizes only the rotary embedding.
        "base.head_dim": size("base.head_dim", "qk_rope_head_dim", default=64),
        **field_table(
            Field("base.max_position_embeddings", "model_max_length", default=262144, minimum=1,
                  aliases=("max_position_embeddings",)),
            Field("base.layer_types", "layer_types", "str_list", default=None, nullable=True),
            size("base.layer_group_size", "layer_group_size", default=6),
            size("base.linear_attention.from_head_dim", "head_dim", default=128),
            size("base.linear_attention.from_conv_kernel", "short_conv_kernel_size", default=4),
            Field("base.linear_attention.head_dim", "linear_head_dim", default=None, minimum=1, nullable=True),
            Field("base.linear_attention.num_heads", "linear_num_heads", default=None, minimum=1, nullable=True),
            Field("base.linear_attention.conv_kernel_size", "linear_conv_kernel_dim", default=None, minimum=1,
                  nullable=True),
            count("base.num_mtp_layers", "num_nextn_predict_layers", default=1, aliases=("num_mtp_layers",)),
            size("moe.num_experts", "num_experts", default=512, aliases=("num_local_experts",)),
            size("moe.num_experts_per_tok", "num_experts_per_token", default=8,
                 aliases=("num_experts_per_tok",)),
            size("moe.expert_intermediate_size", "moe_intermediate_size", default=768),
            count("moe.num_shared_experts", "num_shared_experts", default=1, aliases=("n_shared_experts",)),
            flag("moe.norm_topk_prob", "moe_renormalize", default=True, aliases=("norm_topk_prob",)),
            Field("moe.routed_scaling_factor", "routed_scaling_factor", "float", default=2.5, minimum=0),
            size("moe.n_group", "num_expert_group", default=8, aliases=("n_group",)),
            size("moe.topk_group", "topk_group", default=4),
            Field("moe.scoring_func", "scoring_func", "str", default=None, nullable=True),
            _MLP_LAYER_TYPES,
            count("moe.first_k_dense_replace", "first_k_dense_replace", default=2),
        ),
    },
    _parse_bailing_hybrid,
    base__hidden_size=2560,
    base__num_hidden_layers=42,
    base__num_attention_heads=32,
    base__num_key_value_heads=32,
    base__intermediate_size=6144,
    base__vocab_size=157184,
    base__rope_theta=6000000.0,
)

FAMILIES = (NEMOTRON_H, BAILING_HYBRID)
