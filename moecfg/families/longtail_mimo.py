"""MiMo-V2-Flash (Xiaomi): GQA whose sliding layers differ from its full ones, and DeepSeek-V3's
routed experts without a shared expert.

As transformers 5 builds `mimo_v2_flash`:
- attention: q/k heads of `head_dim` (192) but value heads of `v_head_dim` (128), so v_proj and
  o_proj are narrower than q_proj and k_proj; `attention_bias` on q/k/v, never on o_proj. The
  sliding layers have twice `num_key_value_heads` and one learned sink per head; the full layers
  have neither. Full attention on layer 0 and every sixth layer, sliding elsewhere, unless
  `layer_types` lists them; the window is `sliding_window`, or `sliding_window_size` + 1.
- MLP: dense on the layers `mlp_layer_types` calls "dense" (else only layer 0); elsewhere
  `n_routed_experts` experts of `moe_intermediate_size` under DeepSeek-V3's grouped sigmoid
  router with the `e_score_correction_bias` buffer; a null `routed_scaling_factor` means 1.
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
from moecfg.families.deepseek import _check_groups
from moecfg.families.fields import Field, Reader, flag, size
from moecfg.families.layer_kinds import read_layer_types
from moecfg.families.longtail_deepseek import _MLP_LAYER_TYPES, _mlp_layer_kinds
from moecfg.model import FULL_ATTENTION, SLIDING_ATTENTION, KindAttention, MoeConfig


def _layer_types(reader: Reader, num_layers: int) -> tuple[str, ...]:
    """Listed, else full attention on layer 0 and every sixth layer, sliding elsewhere."""
    default = [
        FULL_ATTENTION if i == 0 or (i + 1) % 6 == 0 else SLIDING_ATTENTION
        for i in range(num_layers)
    ]
    return read_layer_types(reader, num_layers, default)


def _router(reader: Reader, num_experts: int, top_k: int) -> dict[str, Any]:
    """DeepSeek-V3's grouped sigmoid router (deepseek.py's "sigmoid" router)."""
    n_group, topk_group = reader.get("moe.n_group"), reader.get("moe.topk_group")
    _check_groups(reader, num_experts, top_k, n_group, topk_group, top2=True)
    scale = reader.get("moe.routed_scaling_factor")
    return {
        "scoring_func": "sigmoid",
        "topk_method": "noaux_tc",
        "score_correction_bias": True,
        "norm_topk_prob": reader.get("moe.norm_topk_prob"),
        "routed_scaling_factor": 1.0 if scale is None else float(scale),
        "n_group": n_group,
        "topk_group": topk_group,
    }


def _parse_mimo_v2_flash(reader: Reader) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    moe_layers = _mlp_layer_kinds(reader, num_layers, 1)
    num_experts = reader.get("moe.num_experts")
    top_k = read_top_k(reader, num_experts)
    moe = MoeConfig(
        num_experts=num_experts,
        num_experts_per_tok=top_k,
        expert_intermediate_size=reader.get("moe.expert_intermediate_size"),
        moe_layers=moe_layers,
        **_router(reader, num_experts, top_k),
    )
    base = read_base(
        reader,
        intermediate_size=read_dense_intermediate_size(reader, num_layers - len(moe_layers)),
        output_bias=False,
        layer_types=_layer_types(reader, num_layers),
    )
    window = reader.get("base.sliding_window")
    window_size = reader.get("base.sliding_window_size")
    if window_size is not None:
        # transformers attends to `sliding_window_size` previous tokens plus the query itself.
        window = reader.derived("base.sliding_window", window_size + 1)
    sliding = KindAttention(
        kind=SLIDING_ATTENTION,
        num_key_value_heads=2 * base.num_key_value_heads,
        attention_sinks=True,
    )
    base = replace(
        base,
        sliding_window=window,
        value_head_dim=reader.get("base.value_head_dim"),
        attention_by_kind=(sliding,),
    )
    return Parsed(base=base, moe=moe)


MIMO_V2_FLASH = Family(
    model_type="mimo_v2_flash",
    architectures=("MiMoV2FlashForCausalLM",),
    fields=with_defaults(
        {
            **{k: v for k, v in BASE_FIELDS.items() if k != "base.mlp_bias"},
            "base.rope_theta": Field(
                "base.rope_theta",
                "rope_theta",
                "float",
                default=5_000_000.0,
                aliases=("rope_parameters.full_attention.rope_theta", "rope_parameters.rope_theta"),
                minimum=0,
            ),
            **field_table(
                size("base.value_head_dim", "v_head_dim", default=128),
                Field("base.layer_types", "layer_types", "str_list", default=None, nullable=True),
                Field(
                    "base.sliding_window_size",
                    "sliding_window_size",
                    default=None,
                    minimum=1,
                    nullable=True,
                ),
                size("moe.num_experts", "n_routed_experts", aliases=("num_local_experts",)),
                size("moe.num_experts_per_tok", "num_experts_per_tok"),
                size("moe.expert_intermediate_size", "moe_intermediate_size"),
                flag("moe.norm_topk_prob", "norm_topk_prob"),
                Field(
                    "moe.routed_scaling_factor",
                    "routed_scaling_factor",
                    "float",
                    default=1.0,
                    minimum=0,
                    nullable=True,
                ),
                size("moe.n_group", "n_group"),
                size("moe.topk_group", "topk_group"),
                _MLP_LAYER_TYPES,
            ),
        },
        base__num_key_value_heads=4,
        base__head_dim=192,
        base__intermediate_size=16384,
        base__max_position_embeddings=131072,
        base__rms_norm_eps=1e-5,
        base__sliding_window=129,
        moe__num_experts=256,
        moe__num_experts_per_tok=8,
        moe__expert_intermediate_size=2048,
        moe__norm_topk_prob=True,
        moe__n_group=1,
        moe__topk_group=1,
    ),
    parse=_parse_mimo_v2_flash,
    summary=(
        "MiMo-V2-Flash: sliding layers with 2× KV heads and sinks, narrower value heads, "
        "grouped sigmoid router"
    ),
)
