"""Jamba: Mamba layers with an attention layer every `attn_layer_period`, MoE every other layer.

Layer i attends iff i % attn_layer_period == attn_layer_offset (8, 4: one in eight) and runs
Mamba-1 otherwise; its MLP is the MoE block iff i % expert_layer_period == expert_layer_offset
(2, 1) and `num_experts` > 1, else a dense MLP of the same `intermediate_size`. Attention has
no RoPE and no biases; the Mamba mixer is shaped by the `mamba_*` keys.
"""

from __future__ import annotations

import math
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
from moecfg.families.mixer_layers import layers_of, periodic
from moecfg.model import FULL_ATTENTION, MAMBA, MambaConfig, MoeConfig

FIELDS = with_defaults(
    {
        **{
            k: v
            for k, v in BASE_FIELDS.items()
            if k not in ("base.attention_bias", "base.mlp_bias", "base.sliding_window")
        },
        **field_table(
            size("base.attn_layer_period", "attn_layer_period", default=8),
            count("base.attn_layer_offset", "attn_layer_offset", default=4),
            size("mamba.state_size", "mamba_d_state", default=16),
            size("mamba.conv_kernel_size", "mamba_d_conv", default=4),
            size("mamba.expand", "mamba_expand", default=2),
            Field("mamba.time_step_rank", "mamba_dt_rank", "int_or_str", default="auto", minimum=1),
            flag("mamba.conv_bias", "mamba_conv_bias", default=True),
            flag("mamba.proj_bias", "mamba_proj_bias", default=False),
        ),
        **{k: v for k, v in MOE_FIELDS.items() if k not in ("moe.norm_topk_prob",)},
        **field_table(
            size("moe.num_experts", "num_experts", default=16, aliases=("num_local_experts",)),
            size("moe.expert_intermediate_size", "intermediate_size", default=14336),
            size("moe.expert_layer_period", "expert_layer_period", default=2),
            count("moe.expert_layer_offset", "expert_layer_offset", default=1),
        ),
    },
    base__num_key_value_heads=8,
    base__intermediate_size=14336,
    base__max_position_embeddings=262144,
    moe__num_experts_per_tok=2,
)


def _period(reader: Reader, period_name: str, offset_name: str) -> tuple[int, int]:
    """A (period, offset) pair; transformers raises when the offset is not below the period."""
    period, offset = reader.get(period_name), reader.get(offset_name)
    if offset >= period:
        period_key, offset_key = reader.fields[period_name].key, reader.fields[offset_name].key
        raise reader.invalid(offset_key, f"{offset} must be smaller than {period_key} ({period})")
    return period, offset


def read_mamba(reader: Reader, hidden_size: int) -> MambaConfig:
    """Mamba-1 shape; `mamba_dt_rank` "auto" means ceil(hidden_size / 16)."""
    rank = reader.get("mamba.time_step_rank")
    if rank == "auto":
        rank = reader.derived("mamba.time_step_rank", math.ceil(hidden_size / 16))
    elif isinstance(rank, str):
        raise reader.invalid("mamba_dt_rank", f'must be a positive integer or "auto", got "{rank}"')
    return MambaConfig(
        version=1,
        intermediate_size=reader.get("mamba.expand") * hidden_size,
        state_size=reader.get("mamba.state_size"),
        conv_kernel_size=reader.get("mamba.conv_kernel_size"),
        conv_bias=reader.get("mamba.conv_bias"),
        proj_bias=reader.get("mamba.proj_bias"),
        time_step_rank=rank,
    )


def parse(reader: Reader) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    attn_period, attn_offset = _period(reader, "base.attn_layer_period", "base.attn_layer_offset")
    layer_types = periodic(num_layers, attn_period, attn_offset, FULL_ATTENTION, MAMBA)
    num_experts = reader.get("moe.num_experts")
    expert_period, expert_offset = _period(reader, "moe.expert_layer_period", "moe.expert_layer_offset")
    moe = None
    if num_experts > 1:
        moe_layers = layers_of(periodic(num_layers, expert_period, expert_offset, "moe", "mlp"), "moe")
        moe = MoeConfig(
            num_experts=num_experts,
            num_experts_per_tok=read_top_k(reader, num_experts),
            expert_intermediate_size=reader.get("moe.expert_intermediate_size"),
            moe_layers=moe_layers,
            norm_topk_prob=None,
        )
    base = read_base(
        reader, intermediate_size=reader.get("base.intermediate_size"), layer_types=layer_types
    )
    if MAMBA in layer_types:
        base = replace(base, mamba=read_mamba(reader, base.hidden_size))
    return Parsed(base=base, moe=moe)


JAMBA = Family(
    model_type="jamba",
    architectures=("JambaForCausalLM",),
    fields=FIELDS,
    parse=parse,
    summary="Jamba: Mamba-1 layers with attention every 8th, MoE every 2nd layer",
)
