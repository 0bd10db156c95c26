"""LongCat-Flash (`longcat_flash`): two latent-attention sublayers per layer and a shortcut MoE
with zero experts.

As transformers 5 builds it, each of the `num_layers` decoder layers holds two DeepSeek-V3 MLA
blocks (`self_attn.0/1`, always with a query latent), two dense MLPs of `ffn_hidden_size`
(`mlps.0/1`), two of each norm, and one MoE block (`mlp`) fed from the first sublayer. moecfg
describes it the way transformers counts its layers (`num_hidden_layers` = 2 × `num_layers`,
which is also what the KV cache holds): sublayers each with attention, a dense MLP and two
norms, the even ones also carrying the MoE beside their dense MLP.

The MoE has `n_routed_experts` experts of `expert_ffn_hidden_size` and `zero_expert_num` zero
experts, identity functions with no weights of their own. The router (`router.classifier`,
biased iff `router_bias`) scores routed and zero experts together: softmax over all of them,
the `moe_topk` best on scores plus the `e_score_correction_bias` buffer, never renormalised,
× `routed_scaling_factor`. transformers allocates `experts.gate_up_proj` for routed + zero
experts (only `down_proj` is sized by the routed ones), so its model holds gate/up weights for
every zero expert that no checkpoint stores; moecfg counts them as transformers does and says
how many they are.

Active parameters follow transformers' reading of k: `moe_topk` counts picks among routed and
zero experts alike, and a pick that lands on a zero expert computes nothing, so k routed experts
per token is the most a token can use. `params.active` is that upper bound; the average depends
on how often the router picks zero experts.
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
from moecfg.families.deepseek import MLA_FIELDS, _read_mla
from moecfg.families.fields import Field, Reader, count, flag, size
from moecfg.model import FULL_ATTENTION, MoeConfig

_FIELDS = with_defaults(
    {
        **{
            k: v
            for k, v in BASE_FIELDS.items()
            if k not in ("base.mlp_bias", "base.sliding_window")
        },
        **MLA_FIELDS,
        # The query latent is always built: q_a_proj has no plain-q alternative here.
        "base.mla.q_lora_rank": size("base.mla.q_lora_rank", "q_lora_rank"),
        # transformers' head_dim sizes only the rotary embedding: the rope part of each head.
        "base.head_dim": size("base.head_dim", "qk_rope_head_dim"),
        **field_table(
            size("base.num_layers", "num_layers"),
            Field(
                "base.num_hidden_layers",
                "num_hidden_layers",
                default=None,
                minimum=2,
                nullable=True,
            ),
            Field("base.mla.qk_head_dim", "qk_head_dim", default=None, minimum=1, nullable=True),
            size("base.intermediate_size", "ffn_hidden_size", aliases=("intermediate_size",)),
            size("moe.num_experts", "n_routed_experts", aliases=("num_local_experts",)),
            count("moe.num_zero_experts", "zero_expert_num"),
            size("moe.num_experts_per_tok", "moe_topk", aliases=("num_experts_per_tok",)),
            size(
                "moe.expert_intermediate_size",
                "expert_ffn_hidden_size",
                aliases=("moe_intermediate_size",),
            ),
            Field("moe.routed_scaling_factor", "routed_scaling_factor", "float", minimum=0),
            flag("moe.router_bias", "router_bias", default=False),
        ),
    },
    base__num_attention_heads=64,
    base__num_layers=28,
    base__intermediate_size=12288,
    base__vocab_size=131072,
    base__hidden_size=6144,
    base__max_position_embeddings=131072,
    base__rope_theta=10000000.0,
    base__rms_norm_eps=1e-5,
    base__head_dim=64,
    base__mla__q_lora_rank=1536,
    moe__num_experts=512,
    moe__num_zero_experts=256,
    moe__num_experts_per_tok=12,
    moe__expert_intermediate_size=2048,
    moe__routed_scaling_factor=6.0,
)


def _sublayers(reader: Reader) -> int:
    """2 × the decoder layers; `num_hidden_layers`, when given, decides them (halved, floored)."""
    listed = reader.get("base.num_hidden_layers")
    if listed is not None:
        reader.provenance["base.num_layers"] = "derived"
        return 2 * (listed // 2)
    return reader.derived("base.num_hidden_layers", 2 * reader.get("base.num_layers"))


def _parse_longcat_flash(reader: Reader) -> Parsed:
    base = read_base(reader, intermediate_size=reader.get("base.intermediate_size"), layer_types=())
    num_sublayers = _sublayers(reader)
    num_experts = reader.get("moe.num_experts")
    num_zero = reader.get("moe.num_zero_experts")
    top_k = read_top_k(reader, num_experts)
    expert_size = reader.get("moe.expert_intermediate_size")
    moe = MoeConfig(
        num_experts=num_experts,
        num_experts_per_tok=top_k,
        expert_intermediate_size=expert_size,
        moe_layers=tuple(range(0, num_sublayers, 2)),
        norm_topk_prob=False,
        scoring_func="softmax",
        score_correction_bias=True,
        routed_scaling_factor=float(reader.get("moe.routed_scaling_factor")),
        router_bias=reader.get("moe.router_bias"),
        router_outputs=num_experts + num_zero,
        gate_up_only_experts=num_zero,
        dense_mlp_in_moe_layers=True,
    )
    mla = _read_mla(reader)
    qk_head_dim = reader.get("base.mla.qk_head_dim")
    if qk_head_dim is not None and qk_head_dim != mla.qk_head_dim:
        raise reader.invalid(
            "qk_head_dim",
            f"{qk_head_dim} is not qk_nope_head_dim + qk_rope_head_dim ({mla.qk_head_dim})",
        )
    if num_zero:
        phantom = num_zero * 2 * base.hidden_size * expert_size * len(moe.moe_layers)
        reader.warnings.append(
            f"transformers allocates gate/up weights for the {num_zero} zero experts too "
            f"({phantom:,} parameters in all, counted here) that a checkpoint does not store; "
            f"active assumes all {top_k} picks are routed experts, the most a token can use"
        )
    base = replace(
        base,
        num_hidden_layers=num_sublayers,
        layer_types=(FULL_ATTENTION,) * num_sublayers,
        mla=mla,
    )
    return Parsed(base=base, moe=moe)


LONGCAT_FLASH = Family(
    model_type="longcat_flash",
    architectures=("LongcatFlashForCausalLM",),
    fields=_FIELDS,
    parse=_parse_longcat_flash,
    summary="LongCat-Flash: two MLA sublayers and dense MLPs per layer, MoE with zero experts",
)
