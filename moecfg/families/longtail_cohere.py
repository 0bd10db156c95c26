"""Cohere 2 MoE: Cohere's parallel block (one LayerNorm per layer) with routed experts.

Attention and the MLP read the same normed input, so each layer has one weight-only LayerNorm
(`layer_norm_eps`). The experts' width is `intermediate_size`, as in Mixtral; the optional
shared experts are one MLP of `num_shared_experts × intermediate_size`; the dense layers
(`mlp_layer_types`, else the first `first_k_dense_replace`) use `prefix_dense_intermediate_size`.
The router picks the top-k logits, then `expert_selection_fn` "softmax" normalises over those k
and "sigmoid" squashes each (renormalised iff `norm_topk_prob`). Sliding-window attention runs on
all layers but every `sliding_window_pattern`-th (`prefix_dense_sliding_window_pattern` in the
dense prefix) unless `layer_types` lists them.
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
from moecfg.families.fields import Field, Reader, count, flag, size
from moecfg.families.mixer_layers import layers_of, read_layer_kinds
from moecfg.model import FULL_ATTENTION, SLIDING_ATTENTION, MoeConfig

_ATTENTION_KINDS = {"full_attention": FULL_ATTENTION, "sliding_attention": SLIDING_ATTENTION}
_MLP_KINDS = {"dense": "dense", "sparse": "sparse"}
_SELECTION = ("softmax", "sigmoid")


def _sliding_pattern(count_: int, pattern: int) -> list[str]:
    return [SLIDING_ATTENTION if (i + 1) % pattern else FULL_ATTENTION for i in range(count_)]


def _parse(reader: Reader) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    first_dense = min(reader.get("moe.first_k_dense_replace"), num_layers)
    mlp_kinds = read_layer_kinds(reader, "moe.mlp_layer_types", num_layers, _MLP_KINDS)
    if mlp_kinds is None:
        mlp_kinds = ("dense",) * first_dense + ("sparse",) * (num_layers - first_dense)
    moe_layers = layers_of(mlp_kinds, "sparse")
    layer_types = read_layer_kinds(reader, "base.layer_types", num_layers, _ATTENTION_KINDS)
    if layer_types is None:
        layer_types = tuple(
            _sliding_pattern(first_dense, reader.get("base.prefix_dense_sliding_window_pattern"))
            + _sliding_pattern(num_layers - first_dense, reader.get("base.sliding_window_pattern"))
        )
    dense_size = reader.get("base.intermediate_size")
    if dense_size is None and len(moe_layers) < num_layers:
        raise reader.invalid(
            "prefix_dense_intermediate_size", "must be set when some layer is dense"
        )

    selection = reader.get("moe.expert_selection_fn")
    if selection not in _SELECTION:
        raise reader.invalid(
            "expert_selection_fn", f'"{selection}" is not one of {", ".join(_SELECTION)}'
        )
    num_experts = reader.get("moe.num_experts")
    expert_size = reader.get("moe.expert_intermediate_size")
    num_shared = reader.get("moe.num_shared_experts")
    moe = MoeConfig(
        num_experts=num_experts,
        num_experts_per_tok=read_top_k(reader, num_experts),
        expert_intermediate_size=expert_size,
        moe_layers=moe_layers,
        num_shared_experts=num_shared,
        shared_expert_intermediate_size=num_shared * expert_size or None,
        scoring_func="topk_softmax" if selection == "softmax" else "sigmoid",
        norm_topk_prob=None if selection == "softmax" else reader.get("moe.norm_topk_prob"),
    )
    base = read_base(reader, intermediate_size=dense_size, layer_types=layer_types)
    return Parsed(base=replace(base, norms_per_layer=1), moe=moe)


COHERE2_MOE = Family(
    model_type="cohere2_moe",
    architectures=("Cohere2MoeForCausalLM",),
    fields=with_defaults(
        {
            **{
                k: v
                for k, v in BASE_FIELDS.items()
                if k not in ("base.mlp_bias", "base.rms_norm_eps", "base.intermediate_size")
            },
            **field_table(
                Field("base.rms_norm_eps", "layer_norm_eps", "float", default=1e-5, minimum=0),
                Field(
                    "base.intermediate_size",
                    "prefix_dense_intermediate_size",
                    default=None,
                    minimum=1,
                    nullable=True,
                ),
                Field("base.layer_types", "layer_types", "str_list", default=None, nullable=True),
                size("base.sliding_window_pattern", "sliding_window_pattern", default=4),
                size(
                    "base.prefix_dense_sliding_window_pattern",
                    "prefix_dense_sliding_window_pattern",
                    default=1,
                ),
                size("moe.num_experts", "num_experts", default=8),
                size("moe.num_experts_per_tok", "num_experts_per_tok", default=2),
                size("moe.expert_intermediate_size", "intermediate_size"),
                count("moe.num_shared_experts", "num_shared_experts", default=0),
                Field(
                    "moe.mlp_layer_types",
                    "mlp_layer_types",
                    "str_list",
                    default=None,
                    nullable=True,
                ),
                count("moe.first_k_dense_replace", "first_k_dense_replace", default=0),
                Field("moe.expert_selection_fn", "expert_selection_fn", "str", default="softmax"),
                flag("moe.norm_topk_prob", "norm_topk_prob", default=True),
            ),
        },
        base__head_dim=128,
        base__max_position_embeddings=8192,
        base__tie_word_embeddings=True,
        base__sliding_window=4096,
    ),
    parse=_parse,
    summary="Cohere 2 MoE: parallel block, one LayerNorm per layer, experts of intermediate_size",
)

FAMILIES = (COHERE2_MOE,)
