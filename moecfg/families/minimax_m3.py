"""MiniMax-M3's language model (`minimax_m3_vl_text`): MiniMax-M2's sigmoid-routed experts with
a shared expert, dense layers and block-sparse attention.

As transformers 5 builds it:
- attention: unbiased q/k/v/o with per-head q/k RMSNorm (head_dim each); layers whose
  `layer_types` entry is "minimax_m3_sparse" also carry a block indexer (`self_attn.indexer`,
  `index_n_heads` × `index_head_dim`, read from the hidden state). A sparse layer still caches
  every key and value, so for the KV cache it is a full-attention layer.
- MLP: "sparse" layers of `mlp_layer_types` (all, by default) hold `num_local_experts` experts
  of `intermediate_size` and one shared expert of `shared_intermediate_size`; "dense" layers one
  MLP of `dense_intermediate_size`. Gate and up are fused (`gate_up_proj`), which changes no count.
- router: sigmoid scores; experts chosen on scores plus the `e_score_correction_bias` buffer,
  always renormalised, then × `routed_scaling_factor`.

Released configs spell the schedules the remote-code way, which the config class still reads:
`moe_layer_freq` (1 = sparse) and `sparse_attention_config` (`sparse_attention_freq`, 1 = sparse,
and the indexer's `sparse_num_index_heads` / `sparse_index_dim`).
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
from moecfg.families.fields import Field, Reader, count, size
from moecfg.families.mixer_layers import layers_of, read_layer_kinds
from moecfg.model import FULL_ATTENTION, BlockIndexerConfig, MoeConfig

_SPARSE_ATTENTION = "minimax_m3_sparse"
_ATTENTION_KINDS = {FULL_ATTENTION: FULL_ATTENTION, _SPARSE_ATTENTION: _SPARSE_ATTENTION}
_MLP_KINDS = {"dense": "dense", "sparse": "sparse"}
_FLAGS = {0: False, 1: True}
_LEGACY = "sparse_attention_config."

_FIELDS = with_defaults(
    {
        **{
            k: v
            for k, v in BASE_FIELDS.items()
            if k not in ("base.attention_bias", "base.mlp_bias", "base.sliding_window")
        },
        **field_table(
            size("base.intermediate_size", "dense_intermediate_size"),
            size("base.rotary_dim", "rotary_dim", default=64),
            Field("base.layer_types", "layer_types", "str_list", default=None, nullable=True),
            Field(
                "base.sparse_attention_freq",
                _LEGACY + "sparse_attention_freq",
                "int_list",
                default=None,
                nullable=True,
            ),
            size(
                "base.block_indexer.num_heads",
                "index_n_heads",
                aliases=(_LEGACY + "sparse_num_index_heads",),
            ),
            size(
                "base.block_indexer.head_dim",
                "index_head_dim",
                aliases=(_LEGACY + "sparse_index_dim",),
            ),
            size("moe.num_experts", "num_local_experts", aliases=("num_experts",)),
            size("moe.num_experts_per_tok", "num_experts_per_tok"),
            size("moe.expert_intermediate_size", "intermediate_size"),
            count("moe.shared_expert_intermediate_size", "shared_intermediate_size"),
            Field("moe.routed_scaling_factor", "routed_scaling_factor", "float", minimum=0),
            Field(
                "moe.mlp_layer_types", "mlp_layer_types", "str_list", default=None, nullable=True
            ),
            Field("moe.moe_layer_freq", "moe_layer_freq", "int_list", default=None, nullable=True),
        ),
    },
    base__num_key_value_heads=4,
    base__head_dim=128,
    base__intermediate_size=12288,
    base__max_position_embeddings=524288,
    base__rope_theta=5000000.0,
    base__block_indexer__num_heads=4,
    base__block_indexer__head_dim=128,
    moe__num_experts=128,
    moe__num_experts_per_tok=4,
    moe__expert_intermediate_size=3072,
    moe__shared_expert_intermediate_size=3072,
    moe__routed_scaling_factor=2.0,
)


def _schedule(
    reader: Reader,
    listed: str,
    legacy: str,
    spellings: dict[str, str],
    legacy_hit: str,
    default: str,
    num_layers: int,
) -> tuple[str, ...]:
    """A per-layer list as transformers reads it: listed, else the legacy 0/1 list, else all
    `default`."""
    kinds = read_layer_kinds(reader, listed, num_layers, spellings)
    if kinds is not None:
        return kinds
    miss = next(kind for kind in spellings if kind != legacy_hit)
    flags = read_layer_kinds(reader, legacy, num_layers, _FLAGS)
    if flags is not None:
        return tuple(legacy_hit if flag else miss for flag in flags)
    return (default,) * num_layers


def _parse_minimax_m3(reader: Reader) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    mlp_kinds = _schedule(
        reader,
        "moe.mlp_layer_types",
        "moe.moe_layer_freq",
        _MLP_KINDS,
        "sparse",
        "sparse",
        num_layers,
    )
    moe_layers = layers_of(mlp_kinds, "sparse")
    num_experts = reader.get("moe.num_experts")
    moe = MoeConfig(
        num_experts=num_experts,
        num_experts_per_tok=read_top_k(reader, num_experts),
        expert_intermediate_size=reader.get("moe.expert_intermediate_size"),
        moe_layers=moe_layers,
        num_shared_experts=1,
        shared_expert_intermediate_size=reader.get("moe.shared_expert_intermediate_size"),
        norm_topk_prob=True,
        scoring_func="sigmoid",
        score_correction_bias=True,
        routed_scaling_factor=float(reader.get("moe.routed_scaling_factor")),
    )
    attention_kinds = _schedule(
        reader,
        "base.layer_types",
        "base.sparse_attention_freq",
        _ATTENTION_KINDS,
        _SPARSE_ATTENTION,
        FULL_ATTENTION,
        num_layers,
    )
    # The dense MLP width is a config default here, needed or not, as transformers has it.
    base = read_base(
        reader,
        intermediate_size=reader.get("base.intermediate_size"),
        qk_norm=True,
        layer_types=(FULL_ATTENTION,) * num_layers,
    )
    indexer = BlockIndexerConfig(
        num_heads=reader.get("base.block_indexer.num_heads"),
        head_dim=reader.get("base.block_indexer.head_dim"),
        layers=layers_of(attention_kinds, _SPARSE_ATTENTION),
    )
    rotary_dim = reader.get("base.rotary_dim")
    return Parsed(
        base=replace(
            base,
            block_indexer=indexer if indexer.layers else None,
            partial_rotary_factor=min(rotary_dim / base.head_dim, 1.0),
        ),
        moe=moe,
    )


MINIMAX_M3_TEXT = Family(
    model_type="minimax_m3_vl_text",
    architectures=("MiniMaxM3VLForCausalLM",),
    fields=_FIELDS,
    parse=_parse_minimax_m3,
    summary="MiniMax-M3 text: sigmoid router, shared expert, dense layers, sparse attention",
)
