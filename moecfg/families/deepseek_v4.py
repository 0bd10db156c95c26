"""DeepSeek-V4: compressed attention, hyper-connections and DeepSeek's expert block.

Each layer attends to a sliding window of one key head that is also the value, plus, on most
layers, a compressed history: "compressed_sparse_attention" layers pool every
`compress_rates.compressed_sparse_attention` tokens into one entry and pick among them with a
lightning indexer; "heavily_compressed_attention" layers pool every
`compress_rates.heavily_compressed_attention` tokens (model.CompressedAttentionConfig has the
modules). Queries go through a q_lora_rank latent, the output through `o_groups` groups of
`o_lora_rank`. The residual stream is `hc_mult` streams mixed by hyper-connections whose maps
produce (2 + hc_mult) · hc_mult mixes and 3 scales.

Every layer is MoE: routed experts and one shared MLP of `moe_intermediate_size` (transformers
builds one whatever `n_shared_experts` says). Routers score with `scoring_func` and always
renormalise the k weights; the first layers ("hash_moe" in `mlp_layer_types`) pick experts from
a frozen token → expert table, a buffer, so both kinds have the same parameters.

Per-layer lists (`layer_types`, the legacy `compress_ratios`, `mlp_layer_types`) may be longer
than num_hidden_layers (released configs list the MTP layer too); transformers keeps the first
num_hidden_layers entries, and so does moecfg. The MTP layer itself is not built by
transformers and not counted.
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
    read_top_k,
    with_defaults,
)
from moecfg.families.deepseek import DEEPSEEK_MOE_FIELDS
from moecfg.families.fields import Field, Reader, size
from moecfg.model import (
    COMPRESSED_SPARSE_ATTENTION,
    HEAVILY_COMPRESSED_ATTENTION,
    SLIDING_ATTENTION,
    CompressedAttentionConfig,
    HyperConnectionConfig,
    MoeConfig,
)

_ATTENTION_KINDS = (SLIDING_ATTENTION, COMPRESSED_SPARSE_ATTENTION, HEAVILY_COMPRESSED_ATTENTION)
#: The legacy `compress_ratios` spell a layer's kind by its compression rate.
_KIND_BY_RATIO = {
    0: SLIDING_ATTENTION,
    4: COMPRESSED_SPARSE_ATTENTION,
    128: HEAVILY_COMPRESSED_ATTENTION,
}
_MLP_KINDS = ("hash_moe", "moe")

_FIELDS = {
    **{
        k: v
        for k, v in BASE_FIELDS.items()
        if k not in ("base.intermediate_size", "base.attention_bias", "base.mlp_bias")
    },
    **field_table(
        Field(
            "base.partial_rotary_factor",
            "partial_rotary_factor",
            "float",
            default=None,
            nullable=True,
        ),
        Field("base.layer_types", "layer_types", "str_list", default=None, nullable=True),
        Field("base.compress_ratios", "compress_ratios", "int_list", default=None, nullable=True),
        size("base.compressed_attention.q_lora_rank", "q_lora_rank", default=1024),
        size("base.compressed_attention.output_groups", "o_groups", default=8),
        size("base.compressed_attention.output_lora_rank", "o_lora_rank", default=1024),
        size(
            "base.compressed_attention.sparse_compress_rate",
            "compress_rates.compressed_sparse_attention",
            default=4,
            aliases=("compress_rate_csa",),
        ),
        size(
            "base.compressed_attention.heavy_compress_rate",
            "compress_rates.heavily_compressed_attention",
            default=128,
            aliases=("compress_rate_hca",),
        ),
        size("base.compressed_attention.index_n_heads", "index_n_heads", default=64),
        size("base.compressed_attention.index_head_dim", "index_head_dim", default=128),
        size("base.hyper_connections.streams", "hc_mult", default=4),
        size("moe.num_experts", "n_routed_experts", aliases=("num_local_experts",)),
        Field("moe.num_shared_experts", "n_shared_experts", default=1, minimum=0),
        Field("moe.scoring_func", "scoring_func", "str", default="sqrtsoftplus"),
        Field("moe.mlp_layer_types", "mlp_layer_types", "str_list", default=None, nullable=True),
    ),
    **{
        name: DEEPSEEK_MOE_FIELDS[name]
        for name in (
            "moe.num_experts_per_tok",
            "moe.expert_intermediate_size",
            "moe.norm_topk_prob",
            "moe.routed_scaling_factor",
        )
    },
}


def _per_layer(
    reader: Reader, name: str, num_layers: int, allowed: tuple[Any, ...]
) -> list[Any] | None:
    """A per-layer list: at least num_hidden_layers entries from `allowed`, the first kept."""
    listed = reader.get(name)
    if listed is None:
        return None
    key = reader.fields[name].key
    if len(listed) < num_layers:
        raise reader.invalid(
            key, f"lists {len(listed)} layers but num_hidden_layers is {num_layers}"
        )
    for index, kind in enumerate(listed[:num_layers]):
        if kind not in allowed:
            shown = ", ".join(f'"{a}"' if isinstance(a, str) else str(a) for a in allowed)
            value = f'"{kind}"' if isinstance(kind, str) else str(kind)
            raise reader.invalid(f"{key}[{index}]", f"{value} is not one of {shown}")
    return list(listed[:num_layers])


def _layer_types(reader: Reader, num_layers: int) -> tuple[str, ...]:
    """`layer_types`, else the legacy `compress_ratios`, else two heavily-compressed layers and
    then compressed-sparse and heavily-compressed layers in turn."""
    listed = _per_layer(reader, "base.layer_types", num_layers, _ATTENTION_KINDS)
    if listed is not None:
        return tuple(listed)
    ratios = _per_layer(reader, "base.compress_ratios", num_layers, tuple(_KIND_BY_RATIO))
    if ratios is not None:
        return reader.derived("base.layer_types", tuple(_KIND_BY_RATIO[r] for r in ratios))
    interleaved = [
        COMPRESSED_SPARSE_ATTENTION if i % 2 else HEAVILY_COMPRESSED_ATTENTION
        for i in range(max(num_layers - 2, 0))
    ]
    kinds = [HEAVILY_COMPRESSED_ATTENTION] * min(num_layers, 2) + interleaved
    return reader.defaulted("base.layer_types", tuple(kinds))


def _read_moe(reader: Reader, num_layers: int) -> MoeConfig:
    num_experts = reader.get("moe.num_experts")
    top_k = read_top_k(reader, num_experts)
    expert_size = reader.get("moe.expert_intermediate_size")
    # Every layer is MoE; the kinds only say how experts are picked (hash_moe: a fixed table).
    _per_layer(reader, "moe.mlp_layer_types", num_layers, _MLP_KINDS)
    shared = reader.get("moe.num_shared_experts")
    if shared != 1:
        reader.warnings.append(
            f"n_shared_experts is {shared}, but transformers' deepseek_v4 builds one shared "
            f"expert of moe_intermediate_size ({expert_size}); that one is counted"
        )
    if not reader.get("moe.norm_topk_prob"):
        reader.warnings.append(
            "norm_topk_prob false is ignored by transformers' deepseek_v4: its router always "
            "renormalises the top-k weights"
        )
    return MoeConfig(
        num_experts=num_experts,
        num_experts_per_tok=top_k,
        expert_intermediate_size=expert_size,
        moe_layers=tuple(range(num_layers)),
        norm_topk_prob=True,
        scoring_func=reader.get("moe.scoring_func"),
        routed_scaling_factor=float(reader.get("moe.routed_scaling_factor")),
        score_correction_bias=True,
        num_shared_experts=1,
        shared_expert_intermediate_size=expert_size,
    )


def _parse(reader: Reader) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    base = read_base(reader, intermediate_size=None, qkv_bias=False, output_bias=False)
    streams = reader.get("base.hyper_connections.streams")
    attention = CompressedAttentionConfig(
        q_lora_rank=reader.get("base.compressed_attention.q_lora_rank"),
        output_groups=reader.get("base.compressed_attention.output_groups"),
        output_lora_rank=reader.get("base.compressed_attention.output_lora_rank"),
        sparse_compress_rate=reader.get("base.compressed_attention.sparse_compress_rate"),
        heavy_compress_rate=reader.get("base.compressed_attention.heavy_compress_rate"),
        index_n_heads=reader.get("base.compressed_attention.index_n_heads"),
        index_head_dim=reader.get("base.compressed_attention.index_head_dim"),
    )
    groups = attention.output_groups
    if (base.num_attention_heads * base.head_dim) % groups:
        raise reader.invalid(
            "o_groups",
            f"{groups} groups do not split num_attention_heads * head_dim "
            f"({base.num_attention_heads * base.head_dim})",
        )
    if base.num_key_value_heads != 1:
        reader.warnings.append(
            f"num_key_value_heads is {base.num_key_value_heads}, but transformers' deepseek_v4 "
            "attends with one key head that is also the value; that one is counted"
        )
    reader.provenance["base.num_key_value_heads"] = "architecture"
    rotary = reader.get("base.partial_rotary_factor")
    base = replace(
        base,
        num_key_value_heads=1,
        partial_rotary_factor=float(rotary) if rotary is not None else 64 / 512,
        attention_sinks=True,
        layer_types=_layer_types(reader, num_layers),
        compressed_attention=attention,
        hyper_connections=HyperConnectionConfig(
            streams=streams, mixes=(2 + streams) * streams, scales=3
        ),
    )
    return Parsed(base=base, moe=_read_moe(reader, num_layers))


DEEPSEEK_V4 = Family(
    model_type="deepseek_v4",
    architectures=("DeepseekV4ForCausalLM",),
    fields=with_defaults(
        _FIELDS,
        base__hidden_size=4096,
        base__num_hidden_layers=43,
        base__num_attention_heads=64,
        base__num_key_value_heads=1,
        base__head_dim=512,
        base__vocab_size=129280,
        base__max_position_embeddings=1048576,
        base__sliding_window=128,
        moe__num_experts=256,
        moe__num_experts_per_tok=6,
        moe__expert_intermediate_size=2048,
        moe__norm_topk_prob=True,
        moe__routed_scaling_factor=1.5,
    ),
    parse=_parse,
    summary=(
        "DeepSeek-V4: sliding + compressed attention with indexers, hyper-connections, "
        "every layer MoE"
    ),
)
