"""Families built like Qwen3-MoE: routed experts only, per-head q/k RMSNorm, softmax router.

- mellum (JetBrains Mellum MoE): the dense layers are listed in `mlp_layer_types` ("dense" /
  "sparse", all sparse by default) and the attention kinds in `layer_types`; `attention_bias`
  biases q/k/v/o. Its `rope_parameters` are given per attention kind. The checkpoint's
  multi-token-prediction layer (`num_nextn_predict_layers`) is not built by transformers and not
  counted.
- flint: the Qwen layer schedule (`decoder_sparse_step`, `mlp_only_layers`, by default [0, 1]),
  one ungated shared expert of `shared_expert_intermediate_size`, a sigmoid router (top-k of
  the sigmoid scores, renormalised iff `norm_topk_prob`), per-head q/k norm and one learned
  attention sink per head; full attention on layers 0, 1, every i % 4 == 1 and the last,
  sliding elsewhere, unless `layer_types` lists them.
"""

from __future__ import annotations

from dataclasses import replace

from moecfg.families.base import (
    BASE_FIELDS,
    MOE_FIELDS,
    QWEN_SCHEDULE_FIELDS,
    Family,
    Parsed,
    field_table,
    qwen_moe_layers,
    read_base,
    read_dense_intermediate_size,
    read_top_k,
    with_defaults,
)
from moecfg.families.fields import Field, Reader, size
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
                Field("moe.mlp_layer_types", "mlp_layer_types", "str_list", default=None, nullable=True),
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



def _flint_layer_types(num_layers: int) -> tuple[str, ...]:
    return tuple(
        FULL_ATTENTION if i < 2 or i % 4 == 1 or i == num_layers - 1 else SLIDING_ATTENTION
        for i in range(num_layers)
    )


def _parse_flint(reader: Reader) -> Parsed:
    # A null mlp_only_layers is transformers' default [0, 1] here, not "no dense layers".
    if reader.data.get("mlp_only_layers", ()) is None:
        reader.data = {k: v for k, v in reader.data.items() if k != "mlp_only_layers"}
    num_layers = reader.get("base.num_hidden_layers")
    moe_layers = qwen_moe_layers(reader, num_layers)
    num_experts = reader.get("moe.num_experts")
    moe = MoeConfig(
        num_experts=num_experts,
        num_experts_per_tok=read_top_k(reader, num_experts),
        expert_intermediate_size=reader.get("moe.expert_intermediate_size"),
        moe_layers=moe_layers,
        norm_topk_prob=reader.get("moe.norm_topk_prob"),
        scoring_func="sigmoid",
        num_shared_experts=1,
        shared_expert_intermediate_size=reader.get("moe.shared_expert_intermediate_size"),
    )
    layer_types = read_layer_kinds(reader, "base.layer_types", num_layers, _ATTENTION_KINDS)
    base = read_base(
        reader,
        intermediate_size=read_dense_intermediate_size(reader, num_layers - len(moe_layers)),
        qk_norm=True,
        layer_types=layer_types or _flint_layer_types(num_layers),
    )
    return Parsed(base=replace(base, attention_sinks=True), moe=moe)


FLINT = Family(
    model_type="flint",
    architectures=("FlintForCausalLM",),
    fields=with_defaults(
        {
            **{k: v for k, v in BASE_FIELDS.items() if k != "base.mlp_bias"},
            **MOE_FIELDS,
            **QWEN_SCHEDULE_FIELDS,
            **field_table(
                Field("base.layer_types", "layer_types", "str_list", default=None, nullable=True),
                size("moe.shared_expert_intermediate_size", "shared_expert_intermediate_size"),
                Field("moe.mlp_only_layers", "mlp_only_layers", "int_list", default=(0, 1), minimum=0, nullable=True),
            ),
        },
        base__num_key_value_heads=4,
        base__head_dim=128,
        base__intermediate_size=6144,
        base__max_position_embeddings=262144,
        base__sliding_window=513,
        moe__num_experts=256,
        moe__num_experts_per_tok=6,
        moe__expert_intermediate_size=512,
        moe__shared_expert_intermediate_size=1024,
        moe__norm_topk_prob=True,
    ),
    parse=_parse_flint,
    summary="Flint: Qwen layer schedule, ungated shared expert, sigmoid router, q/k norm, sinks",
)

FAMILIES = (MELLUM, FLINT)
