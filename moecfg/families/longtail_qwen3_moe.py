"""Families built like Qwen3-MoE: routed experts only, per-head q/k RMSNorm, softmax router.

- mellum (JetBrains Mellum MoE): the dense layers are listed in `mlp_layer_types` ("dense" /
  "sparse", all sparse by default) and the attention kinds in `layer_types`; `attention_bias`
  biases q/k/v/o. Its `rope_parameters` are given per attention kind. The checkpoint's
  multi-token-prediction layer (`num_nextn_predict_layers`) is not built by transformers and not
  counted.
"""

from __future__ import annotations

from moecfg.families.base import (
    BASE_FIELDS,
    MOE_FIELDS,
    Family,
    Parsed,
    field_table,
    read_base,
    read_dense_intermediate_size,
    read_top_k,
    with_defaults,
)
from moecfg.families.fields import Field, Reader
from moecfg.families.mixer_layers import layers_of, read_layer_kinds
from moecfg.model import FULL_ATTENTION, SLIDING_ATTENTION, MoeConfig

_ATTENTION_KINDS = {"full_attention": FULL_ATTENTION, "sliding_attention": SLIDING_ATTENTION}
_MLP_KINDS = {"dense": "dense", "sparse": "sparse"}


def _parse_mellum(reader: Reader) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    mlp_kinds = read_layer_kinds(reader, "moe.mlp_layer_types", num_layers, _MLP_KINDS)
    moe_layers = layers_of(mlp_kinds, "sparse") if mlp_kinds else tuple(range(num_layers))
    num_experts = reader.get("moe.num_experts")
    moe = MoeConfig(
        num_experts=num_experts,
        num_experts_per_tok=read_top_k(reader, num_experts),
        expert_intermediate_size=reader.get("moe.expert_intermediate_size"),
        moe_layers=moe_layers,
        norm_topk_prob=reader.get("moe.norm_topk_prob"),
    )
    base = read_base(
        reader,
        intermediate_size=read_dense_intermediate_size(reader, num_layers - len(moe_layers)),
        qk_norm=True,
        layer_types=read_layer_kinds(reader, "base.layer_types", num_layers, _ATTENTION_KINDS),
    )
    return Parsed(base=base, moe=moe)


MELLUM = Family(
    model_type="mellum",
    architectures=("MellumForCausalLM",),
    fields=with_defaults(
        {
            **{k: v for k, v in BASE_FIELDS.items() if k != "base.mlp_bias"},
            "base.rope_theta": Field(
                "base.rope_theta",
                "rope_theta",
                "float",
                default=500000.0,
                aliases=("rope_parameters.rope_theta", "rope_parameters.full_attention.rope_theta"),
                minimum=0,
            ),
            **MOE_FIELDS,
            **field_table(
                Field("base.layer_types", "layer_types", "str_list", default=None, nullable=True),
                Field(
                    "moe.mlp_layer_types",
                    "mlp_layer_types",
                    "str_list",
                    default=None,
                    nullable=True,
                ),
            ),
        },
        base__num_key_value_heads=4,
        base__head_dim=128,
        base__intermediate_size=7168,
        base__max_position_embeddings=131072,
        base__sliding_window=1024,
        moe__num_experts=64,
        moe__num_experts_per_tok=8,
        moe__expert_intermediate_size=896,
        moe__norm_topk_prob=True,
    ),
    parse=_parse_mellum,
    summary="Mellum: Qwen3-MoE-style experts and q/k norm, mlp_layer_types and layer_types lists",
)

FAMILIES = (MELLUM,)
