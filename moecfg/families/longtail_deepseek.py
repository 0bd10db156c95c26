"""Families with DeepSeek-V3's expert block: shared experts and a bias-corrected sigmoid router.

Their MoE layers are DeepSeek-V3's (routed experts of `moe_intermediate_size`, one shared MLP
of n_shared × that width, sigmoid scores chosen with the `e_score_correction_bias` buffer,
mostly in `topk_group` of `n_group` groups), so the grouped router is read by deepseek.py's
reader; the keys, the attention and the layer schedule differ:

- solar_open (Upstage Solar Open): every layer MoE, `n_routed_experts`/`n_shared_experts`,
  `attention_bias` on q/k/v but not o_proj, no dense MLP at all.
- exaone_moe (LG EXAONE MoE): `num_experts`/`num_shared_experts`, dense layers listed in
  `mlp_layer_types` (else the first `first_k_dense_replace`), per-head q/k RMSNorm, sliding
  attention on all but every `sliding_window_pattern`-th layer unless `layer_types` lists them.
- glm4_moe_lite (GLM-4.7-Flash): DeepSeek-V3's latent attention (MLA) and keys, but the dense
  layers are listed in `mlp_layer_types` (else only layer 0); no MTP layers are read.
- deepseek_v32 (DeepSeek-V3.2): glm4_moe_lite's reader with the first `first_k_dense_replace`
  layers dense, plus a DSA lightning indexer (`index_n_heads` × `index_head_dim`) in every layer.
- hy_v3 (Hunyuan 3): GQA with per-head q/k norm and `attention_bias` on q/k/v/o, dense layers
  from `mlp_layer_types` (else only layer 0), `num_experts`/`num_shared_experts` with the shared
  MLP following `mlp_bias`; an ungrouped sigmoid router (scores plus the correction buffer
  choose, always renormalised, then × `router_scaling_factor`).
- afmoe (Arcee AFMoE, Trinity): hy_v3's router (the correction bias here is a Parameter,
  `mlp.expert_bias`, so it is counted, as router bias), `route_scale`, the first
  `num_dense_layers` dense, four norms per layer (pre and post attention and MLP), per-head q/k
  norm and a sigmoid output gate (`self_attn.gate_proj`, heads × head_dim, unbiased); sliding
  attention on all but every `global_attn_every_n_layers`-th layer.
- glm_moe_dsa (GLM-5): the same as deepseek_v32, except that layers marked "shared" in
  `indexer_types` (else chosen by `index_topk_freq` / `index_skip_topk_offset`) reuse the
  previous layer's top-k and have no indexer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
from moecfg.families.deepseek import (
    DEEPSEEK_MOE_FIELDS,
    MLA_FIELDS,
    Variant,
    _read_mla,
    _read_router,
)
from moecfg.families.fields import Field, Reader, count, size
from moecfg.families.mixer_layers import every_nth, read_layer_kinds
from moecfg.model import FULL_ATTENTION, SLIDING_ATTENTION, MoeConfig

#: DeepSeek-V3's router keys, which both families spell the same way.
_ROUTER_FIELDS = {
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
}


def _router_variant(model_type: str, architecture: str, summary: str) -> Variant:
    """The deepseek.py description of a sigmoid-routed GQA family, for its router reader."""
    return Variant(
        model_type=model_type,
        architectures=(architecture,),
        summary=summary,
        attention="gqa",
        router="sigmoid",
        defaults={},
    )


def read_shared_expert_moe(
    reader: Reader, variant: Variant, moe_layers: tuple[int, ...]
) -> MoeConfig:
    """Routed experts plus one shared MLP of n_shared × the expert width; DeepSeek-V3's router."""
    num_experts = reader.get("moe.num_experts")
    top_k = read_top_k(reader, num_experts)
    expert_size = reader.get("moe.expert_intermediate_size")
    num_shared = reader.get("moe.num_shared_experts")
    return MoeConfig(
        num_experts=num_experts,
        num_experts_per_tok=top_k,
        expert_intermediate_size=expert_size,
        moe_layers=moe_layers,
        num_shared_experts=num_shared,
        shared_expert_intermediate_size=num_shared * expert_size,
        **_read_router(reader, variant, num_experts, top_k),
    )


def _family(
    variant: Variant,
    fields: Mapping[str, Field],
    parse: Callable[[Reader, Variant], Parsed],
    **defaults: Any,
) -> Family:
    return Family(
        model_type=variant.model_type,
        architectures=variant.architectures,
        fields=with_defaults(fields, **defaults),
        parse=lambda reader: parse(reader, variant),
        summary=variant.summary,
    )


# --- solar_open ---


def _parse_solar_open(reader: Reader, variant: Variant) -> Parsed:
    moe_layers = tuple(range(reader.get("base.num_hidden_layers")))
    moe = read_shared_expert_moe(reader, variant, moe_layers)
    return Parsed(base=read_base(reader, intermediate_size=None, output_bias=False), moe=moe)


SOLAR_OPEN = _family(
    _router_variant(
        "solar_open",
        "SolarOpenForCausalLM",
        "Solar Open: every layer MoE, shared expert, grouped sigmoid router, biased q/k/v",
    ),
    {
        **{
            k: v
            for k, v in BASE_FIELDS.items()
            if k not in ("base.intermediate_size", "base.mlp_bias", "base.sliding_window")
        },
        **field_table(
            size("moe.num_experts", "n_routed_experts", aliases=("num_local_experts",)),
            count("moe.num_shared_experts", "n_shared_experts"),
        ),
        **_ROUTER_FIELDS,
    },
    _parse_solar_open,
    base__num_key_value_heads=8,
    base__head_dim=128,
    base__max_position_embeddings=131072,
    base__rms_norm_eps=1e-5,
    moe__num_experts=128,
    moe__num_experts_per_tok=8,
    moe__expert_intermediate_size=1280,
    moe__num_shared_experts=1,
    moe__norm_topk_prob=True,
    moe__n_group=1,
    moe__topk_group=1,
)


# --- exaone_moe ---

_MLP_KINDS = ("dense", "sparse")


def _listed(
    reader: Reader, name: str, allowed: tuple[str, ...], num_layers: int
) -> tuple[str, ...] | None:
    """A per-layer list of kinds, checked against the allowed words and the layer count."""
    listed = reader.get(name)
    if listed is None:
        return None
    key = reader.fields[name].key
    for index, kind in enumerate(listed):
        if kind not in allowed:
            raise reader.invalid(f"{key}[{index}]", f'"{kind}" is not one of {", ".join(allowed)}')
    if len(listed) != num_layers:
        raise reader.invalid(
            key, f"lists {len(listed)} layers but num_hidden_layers is {num_layers}"
        )
    return tuple(listed)


def _mlp_layer_kinds(reader: Reader, num_layers: int, first_dense: int) -> tuple[int, ...]:
    """The MoE layers: "sparse" in `mlp_layer_types`, else every layer from `first_dense` on."""
    kinds = _listed(reader, "moe.mlp_layer_types", _MLP_KINDS, num_layers)
    if kinds is None:
        kinds = tuple("dense" if i < first_dense else "sparse" for i in range(num_layers))
    return tuple(i for i, kind in enumerate(kinds) if kind == "sparse")


_MLP_LAYER_TYPES = Field(
    "moe.mlp_layer_types", "mlp_layer_types", "str_list", default=None, nullable=True
)


def _exaone_layer_types(reader: Reader, num_layers: int) -> tuple[str, ...]:
    """Listed, else sliding but every `sliding_window_pattern`-th layer (when a window is set)."""
    listed = _listed(reader, "base.layer_types", (FULL_ATTENTION, SLIDING_ATTENTION), num_layers)
    if listed is not None:
        return listed
    pattern = reader.get("base.sliding_window_pattern")
    if reader.get("base.sliding_window") is None or not pattern:
        return (FULL_ATTENTION,) * num_layers
    return tuple(
        FULL_ATTENTION if (i + 1) % pattern == 0 else SLIDING_ATTENTION for i in range(num_layers)
    )


def _parse_exaone_moe(reader: Reader, variant: Variant) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    moe_layers = _mlp_layer_kinds(reader, num_layers, reader.get("moe.first_k_dense_replace"))
    moe = read_shared_expert_moe(reader, variant, moe_layers)
    base = read_base(
        reader,
        intermediate_size=read_dense_intermediate_size(reader, num_layers - len(moe_layers)),
        qkv_bias=False,
        output_bias=False,
        qk_norm=True,
        layer_types=_exaone_layer_types(reader, num_layers),
    )
    return Parsed(base=base, moe=moe)


EXAONE_MOE = _family(
    _router_variant(
        "exaone_moe",
        "ExaoneMoeForCausalLM",
        "EXAONE MoE: dense first layers, shared expert, grouped sigmoid router, q/k norm",
    ),
    {
        **{
            k: v
            for k, v in BASE_FIELDS.items()
            if k not in ("base.attention_bias", "base.mlp_bias")
        },
        **field_table(
            Field("base.sliding_window_pattern", "sliding_window_pattern", default=4, minimum=0),
            Field("base.layer_types", "layer_types", "str_list", default=None, nullable=True),
            size("moe.num_experts", "num_experts"),
            count("moe.num_shared_experts", "num_shared_experts"),
            _MLP_LAYER_TYPES,
            count("moe.first_k_dense_replace", "first_k_dense_replace"),
        ),
        **_ROUTER_FIELDS,
    },
    _parse_exaone_moe,
    base__num_key_value_heads=32,
    base__intermediate_size=16384,
    base__rms_norm_eps=1e-5,
    base__sliding_window=4096,
    moe__num_experts=64,
    moe__num_experts_per_tok=8,
    moe__expert_intermediate_size=1024,
    moe__num_shared_experts=1,
    moe__first_k_dense_replace=1,
    moe__norm_topk_prob=True,
    moe__routed_scaling_factor=2.5,
    moe__n_group=1,
    moe__topk_group=1,
)


# --- glm4_moe_lite ---


def _read_mla_family(
    reader: Reader, variant: Variant, first_dense: int, indexer_layers=()
) -> Parsed:
    """Latent attention (with DSA indexers in `indexer_layers`) and the DeepSeek-V3 expert block."""
    num_layers = reader.get("base.num_hidden_layers")
    moe_layers = _mlp_layer_kinds(reader, num_layers, first_dense)
    moe = read_shared_expert_moe(reader, variant, moe_layers)
    base = read_base(
        reader, intermediate_size=read_dense_intermediate_size(reader, num_layers - len(moe_layers))
    )
    mla = _read_mla(reader)
    if indexer_layers:
        mla = replace(
            mla,
            index_n_heads=reader.get("base.mla.index_n_heads"),
            index_head_dim=reader.get("base.mla.index_head_dim"),
            indexer_layers=tuple(indexer_layers),
        )
    return Parsed(base=replace(base, mla=mla), moe=moe)


def _parse_glm4_moe_lite(reader: Reader, variant: Variant) -> Parsed:
    return _read_mla_family(reader, variant, first_dense=1)


def _parse_deepseek_v32(reader: Reader, variant: Variant) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    return _read_mla_family(
        reader, variant, reader.get("moe.first_k_dense_replace"), indexer_layers=range(num_layers)
    )


_INDEXER_KINDS = ("full", "shared")


def _parse_glm_moe_dsa(reader: Reader, variant: Variant) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    kinds = _listed(reader, "base.mla.indexer_types", _INDEXER_KINDS, num_layers)
    if kinds is None:
        freq = max(reader.get("base.mla.index_topk_freq"), 1)
        offset = reader.get("base.mla.index_skip_topk_offset")
        kinds = tuple(
            "full" if max(i - offset + 1, 0) % freq == 0 else "shared" for i in range(num_layers)
        )
    indexer_layers = [i for i, kind in enumerate(kinds) if kind == "full"]
    return _read_mla_family(
        reader, variant, reader.get("moe.first_k_dense_replace"), indexer_layers=indexer_layers
    )


GLM4_MOE_LITE = _family(
    _router_variant(
        "glm4_moe_lite",
        "Glm4MoeLiteForCausalLM",
        "GLM-4.7-Flash: MLA, dense layers from mlp_layer_types, shared expert, grouped sigmoid",
    ),
    {
        **{
            k: v
            for k, v in BASE_FIELDS.items()
            if k not in ("base.mlp_bias", "base.sliding_window")
        },
        **MLA_FIELDS,
        # transformers maps head_dim to qk_rope_head_dim; it sizes only the rotary embedding.
        "base.head_dim": size("base.head_dim", "qk_rope_head_dim", default=64),
        **field_table(
            size("moe.num_experts", "n_routed_experts", aliases=("num_local_experts",)),
            count("moe.num_shared_experts", "n_shared_experts"),
            _MLP_LAYER_TYPES,
        ),
        **_ROUTER_FIELDS,
    },
    _parse_glm4_moe_lite,
    base__num_key_value_heads=20,
    base__intermediate_size=10240,
    base__max_position_embeddings=202752,
    base__rms_norm_eps=1e-5,
    base__mla__q_lora_rank=768,
    base__mla__qk_nope_head_dim=192,
    base__mla__v_head_dim=256,
    moe__num_experts=64,
    moe__num_experts_per_tok=4,
    moe__expert_intermediate_size=1536,
    moe__num_shared_experts=1,
    moe__norm_topk_prob=True,
    moe__routed_scaling_factor=1.8,
    moe__n_group=1,
    moe__topk_group=1,
)

#: The DSA families' MLA: the indexer reads the query latent, so q_lora_rank must be set.
_DSA_FIELDS = {
    **{k: v for k, v in BASE_FIELDS.items() if k not in ("base.mlp_bias", "base.sliding_window")},
    **MLA_FIELDS,
    "base.mla.q_lora_rank": size("base.mla.q_lora_rank", "q_lora_rank", default=1536),
    "base.head_dim": size("base.head_dim", "qk_rope_head_dim", default=64),
    **field_table(
        size("base.mla.index_n_heads", "index_n_heads", default=64),
        size("base.mla.index_head_dim", "index_head_dim", default=128),
        size("moe.num_experts", "n_routed_experts", aliases=("num_local_experts", "num_experts")),
        count("moe.num_shared_experts", "n_shared_experts"),
        _MLP_LAYER_TYPES,
        count("moe.first_k_dense_replace", "first_k_dense_replace"),
    ),
    **_ROUTER_FIELDS,
}

#: Defaults both DSA config classes share (DeepSeek-V3's expert block).
_DSA_DEFAULTS = {
    "moe__num_experts": 256,
    "moe__num_experts_per_tok": 8,
    "moe__expert_intermediate_size": 2048,
    "moe__num_shared_experts": 1,
    "moe__first_k_dense_replace": 3,
    "moe__norm_topk_prob": True,
    "moe__routed_scaling_factor": 2.5,
}

DEEPSEEK_V32 = _family(
    _router_variant(
        "deepseek_v32",
        "DeepseekV32ForCausalLM",
        "DeepSeek-V3.2: DeepSeek-V3 with a DSA lightning indexer in every layer's attention",
    ),
    _DSA_FIELDS,
    _parse_deepseek_v32,
    base__num_key_value_heads=128,
    base__intermediate_size=18432,
    base__max_position_embeddings=163840,
    moe__n_group=8,
    moe__topk_group=4,
    **_DSA_DEFAULTS,
)

GLM_MOE_DSA = _family(
    _router_variant(
        "glm_moe_dsa",
        "GlmMoeDsaForCausalLM",
        "GLM-5: MLA with DSA indexers (shared on some layers), shared expert, grouped sigmoid",
    ),
    {
        **_DSA_FIELDS,
        **field_table(
            Field(
                "base.mla.indexer_types", "indexer_types", "str_list", default=None, nullable=True
            ),
            Field("base.mla.index_topk_freq", "index_topk_freq", default=1, minimum=0),
            count("base.mla.index_skip_topk_offset", "index_skip_topk_offset", default=2),
        ),
    },
    _parse_glm_moe_dsa,
    base__num_key_value_heads=64,
    base__intermediate_size=12288,
    base__max_position_embeddings=202752,
    base__rms_norm_eps=1e-5,
    base__mla__q_lora_rank=2048,
    base__mla__qk_nope_head_dim=192,
    base__mla__v_head_dim=256,
    base__mla__index_n_heads=32,
    moe__n_group=1,
    moe__topk_group=1,
    **_DSA_DEFAULTS,
)


# --- hy_v3 ---


def _parse_hy_v3(reader: Reader, variant: Variant) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    moe_layers = _mlp_layer_kinds(reader, num_layers, first_dense=1)
    num_experts = reader.get("moe.num_experts")
    expert_size = reader.get("moe.expert_intermediate_size")
    num_shared = reader.get("moe.num_shared_experts")
    moe = MoeConfig(
        num_experts=num_experts,
        num_experts_per_tok=read_top_k(reader, num_experts),
        expert_intermediate_size=expert_size,
        moe_layers=moe_layers,
        num_shared_experts=num_shared,
        shared_expert_intermediate_size=num_shared * expert_size,
        shared_expert_bias=reader.get("base.mlp_bias"),
        norm_topk_prob=True,
        scoring_func="sigmoid",
        score_correction_bias=True,
        routed_scaling_factor=float(reader.get("moe.routed_scaling_factor")),
    )
    base = read_base(
        reader,
        intermediate_size=read_dense_intermediate_size(reader, num_layers - len(moe_layers)),
        qk_norm=True,
    )
    return Parsed(base=base, moe=moe)


HY_V3 = _family(
    _router_variant(
        "hy_v3",
        "HYV3ForCausalLM",
        "Hunyuan 3: q/k norm, dense first layer, shared expert, sigmoid router with bias",
    ),
    {
        **{k: v for k, v in BASE_FIELDS.items() if k != "base.sliding_window"},
        **field_table(
            size("moe.num_experts", "num_experts", aliases=("num_local_experts",)),
            size("moe.num_experts_per_tok", "num_experts_per_tok"),
            size("moe.expert_intermediate_size", "moe_intermediate_size"),
            count("moe.num_shared_experts", "num_shared_experts"),
            Field("moe.routed_scaling_factor", "router_scaling_factor", "float", minimum=0),
            _MLP_LAYER_TYPES,
        ),
    },
    _parse_hy_v3,
    base__num_key_value_heads=8,
    base__head_dim=128,
    base__intermediate_size=13312,
    base__max_position_embeddings=131072,
    base__rms_norm_eps=1e-5,
    moe__num_experts=192,
    moe__num_experts_per_tok=8,
    moe__expert_intermediate_size=1536,
    moe__num_shared_experts=1,
    moe__routed_scaling_factor=2.826,
)


# --- afmoe ---

_ATTENTION_KINDS = {"full_attention": FULL_ATTENTION, "sliding_attention": SLIDING_ATTENTION}


def _parse_afmoe(reader: Reader, variant: Variant) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    first_dense = reader.get("moe.first_k_dense_replace")
    moe_layers = tuple(range(min(first_dense, num_layers), num_layers))
    num_experts = reader.get("moe.num_experts")
    expert_size = reader.get("moe.expert_intermediate_size")
    num_shared = reader.get("moe.num_shared_experts")
    moe = MoeConfig(
        num_experts=num_experts,
        num_experts_per_tok=read_top_k(reader, num_experts),
        expert_intermediate_size=expert_size,
        moe_layers=moe_layers,
        num_shared_experts=num_shared,
        shared_expert_intermediate_size=num_shared * expert_size,
        norm_topk_prob=True,
        scoring_func="sigmoid",
        router_bias=True,
        routed_scaling_factor=float(reader.get("moe.routed_scaling_factor")),
    )
    if reader.get("base.attention_bias"):
        # The output gate is unbiased while q/k/v/o are: a shape the composed config lacks.
        raise reader.invalid(
            "attention_bias", "true is not supported for afmoe (its output gate has no bias)"
        )
    layer_types = read_layer_kinds(reader, "base.layer_types", num_layers, _ATTENTION_KINDS)
    if layer_types is None:
        every = reader.get("base.global_attn_every_n_layers")
        layer_types = every_nth(num_layers, every, FULL_ATTENTION, SLIDING_ATTENTION)
    base = read_base(
        reader,
        intermediate_size=read_dense_intermediate_size(reader, num_layers - len(moe_layers)),
        qk_norm=True,
        layer_types=layer_types,
    )
    return Parsed(base=replace(base, attention_output_gate=True, norms_per_layer=4), moe=moe)


AFMOE = _family(
    _router_variant(
        "afmoe",
        "AfmoeForCausalLM",
        "AFMoE (Trinity): gated attention with q/k norm, four norms per layer, shared experts",
    ),
    {
        **{k: v for k, v in BASE_FIELDS.items() if k != "base.mlp_bias"},
        **field_table(
            Field("base.layer_types", "layer_types", "str_list", default=None, nullable=True),
            size("base.global_attn_every_n_layers", "global_attn_every_n_layers", default=4),
            size("moe.num_experts", "num_experts"),
            size("moe.num_experts_per_tok", "num_experts_per_tok"),
            size("moe.expert_intermediate_size", "moe_intermediate_size"),
            count("moe.num_shared_experts", "num_shared_experts"),
            count("moe.first_k_dense_replace", "num_dense_layers"),
            Field("moe.routed_scaling_factor", "route_scale", "float", minimum=0),
        ),
    },
    _parse_afmoe,
    base__head_dim=128,
    base__intermediate_size=6144,
    base__max_position_embeddings=16384,
    base__rms_norm_eps=1e-5,
    base__sliding_window=1024,
    moe__num_experts=64,
    moe__num_experts_per_tok=6,
    moe__expert_intermediate_size=1408,
    moe__num_shared_experts=2,
    moe__first_k_dense_replace=1,
    moe__routed_scaling_factor=1.0,
)

FAMILIES = (SOLAR_OPEN, EXAONE_MOE, GLM4_MOE_LITE, DEEPSEEK_V32, GLM_MOE_DSA, HY_V3, AFMOE)
