"""Granite 4.0 hybrid (granitemoehybrid): Mamba-2 layers with a few attention layers, MoE + shared MLP.

`layer_types` (alias `layers_block_type`) names each layer "mamba" or "attention" (transformers'
spellings "linear_attention"/"full_attention" too); absent, every layer is Mamba. Every layer
has the shared MLP (`shared_mlp`, width `shared_intermediate_size`) and, when
`num_local_experts` > 0, the routed experts (width `intermediate_size`) beside it. Attention
biases all four projections by `attention_bias`; the muP multipliers change no shapes.
"""

from __future__ import annotations

from dataclasses import replace

from moecfg.families.base import (
    BASE_FIELDS,
    MOE_FIELDS,
    Family,
    Parsed,
    count,
    field_table,
    read_base,
    read_top_k,
    with_defaults,
)
from moecfg.families.fields import Field, Reader, flag, size
from moecfg.families.mixer_layers import read_layer_kinds
from moecfg.model import FULL_ATTENTION, MAMBA, MambaConfig, MoeConfig

FIELDS = with_defaults(
    {
        **{
            k: v
            for k, v in BASE_FIELDS.items()
            if k not in ("base.mlp_bias", "base.sliding_window", "base.intermediate_size")
        },
        **field_table(
            Field(
                "base.layer_types",
                "layer_types",
                "str_list",
                default=None,
                aliases=("layers_block_type",),
                nullable=True,
            ),
            Field("base.position_embedding_type", "position_embedding_type", "str", default=None,
                  nullable=True),
            size("mamba.num_heads", "mamba_n_heads", default=128),
            size("mamba.num_groups", "mamba_n_groups", default=1),
            size("mamba.state_size", "mamba_d_state", default=256),
            Field("mamba.head_dim", "mamba_d_head", "int_or_str", default="auto", minimum=1),
            size("mamba.conv_kernel_size", "mamba_d_conv", default=4),
            size("mamba.expand", "mamba_expand", default=2),
            flag("mamba.conv_bias", "mamba_conv_bias", default=True),
            flag("mamba.proj_bias", "mamba_proj_bias", default=False),
        ),
        **{k: v for k, v in MOE_FIELDS.items() if k not in ("moe.norm_topk_prob",)},
        **field_table(
            count("moe.num_experts", "num_local_experts", default=8),
            size("moe.expert_intermediate_size", "intermediate_size", default=11008),
            size("moe.shared_expert_intermediate_size", "shared_intermediate_size", default=1024),
        ),
    },
    base__vocab_size=32000,
    base__max_position_embeddings=2048,
    moe__num_experts_per_tok=2,
)

#: Granite's spellings and transformers' (which it remaps "mamba"/"attention" to).
LAYER_KINDS = {
    "mamba": MAMBA,
    "attention": FULL_ATTENTION,
    "linear_attention": MAMBA,
    "full_attention": FULL_ATTENTION,
}


def read_mamba(reader: Reader, hidden_size: int) -> MambaConfig:
    """Mamba-2 shape; `mamba_d_head` "auto" means mamba_expand × hidden_size / mamba_n_heads."""
    intermediate = reader.get("mamba.expand") * hidden_size
    heads = reader.get("mamba.num_heads")
    if intermediate % heads:
        raise reader.invalid(
            "mamba_n_heads", f"{heads} does not divide mamba_expand × hidden_size ({intermediate})"
        )
    head_dim = reader.get("mamba.head_dim")
    if head_dim == "auto":
        head_dim = reader.derived("mamba.head_dim", intermediate // heads)
    elif isinstance(head_dim, str):
        raise reader.invalid("mamba_d_head", f'must be a positive integer or "auto", got "{head_dim}"')
    if head_dim * heads != intermediate:
        raise reader.invalid(
            "mamba_d_head",
            f"{head_dim} × mamba_n_heads ({heads}) is not mamba_expand × hidden_size ({intermediate})",
        )
    return MambaConfig(
        version=2,
        intermediate_size=intermediate,
        state_size=reader.get("mamba.state_size"),
        conv_kernel_size=reader.get("mamba.conv_kernel_size"),
        conv_bias=reader.get("mamba.conv_bias"),
        proj_bias=reader.get("mamba.proj_bias"),
        num_heads=heads,
        num_groups=reader.get("mamba.num_groups"),
    )


def parse(reader: Reader) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    layer_types = read_layer_kinds(reader, "base.layer_types", num_layers, LAYER_KINDS)
    if layer_types is None:
        layer_types = reader.derived("base.layer_types", (MAMBA,) * num_layers)
    num_experts = reader.get("moe.num_experts")
    shared_size = reader.get("moe.shared_expert_intermediate_size")
    moe = None
    if num_experts > 0:
        moe = MoeConfig(
            num_experts=num_experts,
            num_experts_per_tok=read_top_k(reader, num_experts),
            expert_intermediate_size=reader.get("moe.expert_intermediate_size"),
            moe_layers=tuple(range(num_layers)),
            norm_topk_prob=None,
            num_shared_experts=1,
            shared_expert_intermediate_size=shared_size,
        )
    # Without experts the shared MLP is the layer's only MLP: moecfg calls it the dense MLP.
    base = read_base(
        reader,
        intermediate_size=None if moe is not None else shared_size,
        layer_types=layer_types,
    )
    if reader.get("base.position_embedding_type") != "rope":
        base = replace(base, rope_theta=None, rope_scaling=None)
    if MAMBA in layer_types:
        base = replace(base, mamba=read_mamba(reader, base.hidden_size))
    return Parsed(base=base, moe=moe)


GRANITEMOEHYBRID = Family(
    model_type="granitemoehybrid",
    architectures=("GraniteMoeHybridForCausalLM",),
    fields=FIELDS,
    parse=parse,
    summary="Granite 4.0 hybrid: Mamba-2 layers + a few attention layers, MoE + shared MLP",
)
