"""DeepSeek-structured MoE families: deepseek_v2/v3, glm4_moe, dots1 and DeepSeek-MoE v1.

They share one decoder: the first `first_k_dense_replace` layers use a dense MLP of
`intermediate_size`, the rest carry `n_routed_experts` experts of `moe_intermediate_size` plus
`n_shared_experts` fused into one always-on MLP of `n_shared_experts · moe_intermediate_size`.
They differ in attention (latent MLA or GQA, q/k norms, which projections are biased), in the
router, and in whether the checkpoint stores multi-token-prediction layers. Each family below
is a `Variant` — data — and `_family` turns it into the shared reader.

Routers, as transformers 5 implements them:
- "sigmoid" (deepseek_v3, glm4_moe, dots1): sigmoid scores; experts chosen on scores plus the
  `e_score_correction_bias` buffer, limited to the `topk_group` best of `n_group` groups (each
  scored by its top-2 sum); renormalised iff `norm_topk_prob`; · `routed_scaling_factor`.
  transformers ignores the remote-code keys `scoring_func` and `topk_method`.
- "softmax_topk_method" (deepseek_v2): softmax; `topk_method` "greedy" or
  "group_limited_greedy" (groups scored by their max); · `routed_scaling_factor`; never
  renormalised (transformers does not read `norm_topk_prob` for this family).
- "softmax" (DeepSeek-MoE v1, remote code only, as mlx-lm's deepseek.py): softmax, top-k,
  renormalised iff `norm_topk_prob`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
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
from moecfg.families.fields import Field, Reader, count, flag, size
from moecfg.model import FULL_ATTENTION, SLIDING_ATTENTION, MlaConfig, MoeConfig

#: Keys of latent attention (MLA); defaults are DeepseekV3Config's (V2's are the same).
MLA_FIELDS = field_table(
    Field("base.mla.q_lora_rank", "q_lora_rank", default=1536, minimum=1, nullable=True),
    size("base.mla.kv_lora_rank", "kv_lora_rank", default=512),
    size("base.mla.qk_nope_head_dim", "qk_nope_head_dim", default=128),
    size("base.mla.qk_rope_head_dim", "qk_rope_head_dim", default=64),
    size("base.mla.v_head_dim", "v_head_dim", default=128),
)

#: The routed/shared expert block and its schedule; each Variant supplies the defaults.
DEEPSEEK_MOE_FIELDS = field_table(
    size("moe.num_experts", "n_routed_experts"),
    size("moe.num_experts_per_tok", "num_experts_per_tok"),
    size("moe.expert_intermediate_size", "moe_intermediate_size"),
    count("moe.num_shared_experts", "n_shared_experts"),
    count("moe.first_k_dense_replace", "first_k_dense_replace"),
    flag("moe.norm_topk_prob", "norm_topk_prob"),
    Field("moe.routed_scaling_factor", "routed_scaling_factor", "float", default=1.0, minimum=0),
    size("moe.n_group", "n_group"),
    size("moe.topk_group", "topk_group"),
    #: Remote-code router keys; read to say when transformers does something else.
    Field("moe.scoring_func", "scoring_func", "str", default=None, nullable=True),
    Field("moe.topk_method", "topk_method", "str", default=None, nullable=True),
    Field("moe.moe_layer_freq", "moe_layer_freq", default=1, minimum=1),
)

MTP_FIELD = count(
    "base.num_mtp_layers", "num_nextn_predict_layers", default=1, aliases=("num_mtp_layers",)
)

#: Dots1: layers from `max_window_layers` on use sliding-window attention when a window is set.
SLIDING_FIELDS = field_table(
    Field("base.sliding_window", "sliding_window", default=4096, minimum=1, nullable=True),
    Field("base.max_window_layers", "max_window_layers", default=62, minimum=0, nullable=True),
    Field("base.layer_types", "layer_types", "str_list", default=None, nullable=True),
)

_SIGMOID, _SOFTMAX_TOPK_METHOD, _SOFTMAX = "sigmoid", "softmax_topk_method", "softmax"
_V2_TOPK_METHODS = ("greedy", "group_limited_greedy")


@dataclass(frozen=True)
class Variant:
    """How one DeepSeek-structured family differs from the shared reader."""

    model_type: str
    architectures: tuple[str, ...]
    summary: str
    #: "mla" (latent attention) or "gqa" (q/k/v/o projections).
    attention: str
    router: str
    #: Family defaults (transformers' config class), keyed as `with_defaults` takes them.
    defaults: Mapping[str, Any]
    #: Alias of `n_routed_experts` the config class maps through its attribute_map.
    experts_alias: str | None = None
    #: q/k RMSNorm: "always" (dots1), "use_qk_norm" (glm4_moe reads the flag), or None.
    qk_norm: str | None = None
    #: Whether o_proj is biased when `attention_bias` is (False for glm4_moe: q/k/v only).
    output_bias: bool = True
    #: The dense MLPs read `mlp_bias` (deepseek_v2).
    mlp_bias: bool = False
    #: The checkpoint may store MTP layers (`num_nextn_predict_layers`).
    mtp: bool = False
    #: Layer schedule also follows `moe_layer_freq` (DeepSeek-MoE v1 remote code).
    layer_freq: bool = False
    #: `sliding_window` / `max_window_layers` / `layer_types` decide the attention kinds (dots1).
    sliding: bool = False
    #: The config class rejects hidden_size not divisible by num_attention_heads (deepseek_v2).
    heads_divide_hidden: bool = False
    excluded: tuple[str, ...] = field(default=())
    #: Said with every config read through this variant.
    note: str | None = None


def _fields(variant: Variant) -> dict[str, Field]:
    drop = {"base.sliding_window"} | (set() if variant.mlp_bias else {"base.mlp_bias"})
    table: dict[str, Field] = {k: v for k, v in BASE_FIELDS.items() if k not in drop}
    if variant.attention == "mla":
        table.update(MLA_FIELDS)
        # transformers sets head_dim to qk_rope_head_dim for latent attention, whatever the
        # config says; it sizes nothing but the rotary embedding.
        table["base.head_dim"] = size("base.head_dim", "qk_rope_head_dim", default=64)
    if variant.qk_norm == "use_qk_norm":
        table["base.qk_norm"] = flag("base.qk_norm", "use_qk_norm", default=False)
    moe = dict(DEEPSEEK_MOE_FIELDS)
    if variant.experts_alias:
        moe["moe.num_experts"] = size(
            "moe.num_experts", "n_routed_experts", aliases=(variant.experts_alias,)
        )
    if variant.router != _SOFTMAX_TOPK_METHOD:
        del moe["moe.topk_method"]
        if variant.router == _SOFTMAX:
            del moe["moe.n_group"], moe["moe.topk_group"], moe["moe.routed_scaling_factor"]
    if not variant.layer_freq and variant.router == _SOFTMAX:
        del moe["moe.moe_layer_freq"]
    table.update(moe)
    if variant.router == _SOFTMAX:
        # DeepSeek-MoE v1 without n_routed_experts is dense; without n_shared_experts, unshared.
        table["moe.num_experts"] = Field(
            "moe.num_experts", "n_routed_experts", default=None, minimum=1, nullable=True
        )
        table["moe.num_shared_experts"] = Field(
            "moe.num_shared_experts", "n_shared_experts", default=None, minimum=0, nullable=True
        )
    if variant.router == _SOFTMAX_TOPK_METHOD:
        table["moe.topk_method"] = Field("moe.topk_method", "topk_method", "str", default="greedy")
        table["moe.n_group"] = Field(
            "moe.n_group", "n_group", default=None, minimum=1, nullable=True
        )
        table["moe.topk_group"] = Field(
            "moe.topk_group", "topk_group", default=None, minimum=1, nullable=True
        )
    if variant.mtp:
        table[MTP_FIELD.name] = MTP_FIELD
    if variant.sliding:
        table.update(SLIDING_FIELDS)
    return with_defaults(table, **variant.defaults)


def _moe_layers(reader: Reader, variant: Variant, num_layers: int) -> tuple[int, ...]:
    """MoE iff i >= first_k_dense_replace (and, for v1, i % moe_layer_freq == 0)."""
    first_dense = reader.get("moe.first_k_dense_replace")
    freq = reader.get("moe.moe_layer_freq") if "moe.moe_layer_freq" in reader.fields else 1
    if freq != 1 and not variant.layer_freq:
        reader.warnings.append(
            f"moe_layer_freq ({freq}) is ignored by transformers' {variant.model_type}: "
            "every layer "
            "from first_k_dense_replace on is MoE"
        )
        freq = 1
    return tuple(i for i in range(num_layers) if i >= first_dense and i % freq == 0)


def _check_groups(
    reader: Reader, num_experts: int, top_k: int, n_group: int, topk_group: int, *, top2: bool
) -> None:
    """The grouped pick must be possible: groups split the experts and hold k of them."""
    per_group = num_experts // n_group
    if num_experts % n_group or (top2 and per_group < 2):
        need = " of at least 2" if top2 else ""
        raise reader.invalid(
            reader.fields["moe.n_group"].key,
            f"{num_experts} routed experts do not split into {n_group} equal groups{need}",
        )
    if topk_group > n_group:
        raise reader.invalid(
            reader.fields["moe.topk_group"].key, f"{topk_group} exceeds n_group ({n_group})"
        )
    if top_k > topk_group * per_group:
        raise reader.invalid(
            reader.fields["moe.num_experts_per_tok"].key,
            f"{top_k} exceeds the {topk_group * per_group} experts in the "
            f"topk_group ({topk_group}) "
            f"groups a token may use",
        )


def _ignored_router_key(reader: Reader, variant: Variant, name: str, used: str) -> None:
    """Warn when a remote-code router key says something transformers does not do."""
    value = reader.get(name)
    # The value used is fixed by the architecture, whatever the key says.
    reader.provenance.pop(name, None)
    if value is not None and value != used:
        key = reader.fields[name].key
        reader.warnings.append(
            f'{key} "{value}" is ignored by transformers\' {variant.model_type}, '
            f'which uses "{used}"'
        )


def _read_router(reader: Reader, variant: Variant, num_experts: int, top_k: int) -> dict[str, Any]:
    """The router facts as transformers (or, for v1, the remote code) uses them."""
    if variant.router == _SOFTMAX:
        _ignored_router_key(reader, variant, "moe.scoring_func", "softmax")
        return {"scoring_func": "softmax", "norm_topk_prob": reader.get("moe.norm_topk_prob")}
    scale = float(reader.get("moe.routed_scaling_factor"))
    if variant.router == _SIGMOID:
        _ignored_router_key(reader, variant, "moe.scoring_func", "sigmoid")
        n_group, topk_group = reader.get("moe.n_group"), reader.get("moe.topk_group")
        _check_groups(reader, num_experts, top_k, n_group, topk_group, top2=True)
        return {
            "scoring_func": "sigmoid",
            "topk_method": "noaux_tc",
            "score_correction_bias": True,
            "norm_topk_prob": reader.get("moe.norm_topk_prob"),
            "routed_scaling_factor": scale,
            "n_group": n_group,
            "topk_group": topk_group,
        }
    _ignored_router_key(reader, variant, "moe.scoring_func", "softmax")
    method = reader.get("moe.topk_method")
    if method not in _V2_TOPK_METHODS:
        raise reader.invalid(
            reader.fields["moe.topk_method"].key,
            f'"{method}" is not one of {", ".join(_V2_TOPK_METHODS)} '
            f"(transformers' {variant.model_type} router)",
        )
    if reader.get("moe.norm_topk_prob"):
        reader.warnings.append(
            f"norm_topk_prob true is ignored by transformers' {variant.model_type}: "
            "its router never "
            "renormalises the top-k weights"
        )
    reader.provenance["moe.norm_topk_prob"] = "architecture"  # whatever the file says
    router: dict[str, Any] = {
        "scoring_func": "softmax",
        "topk_method": method,
        "norm_topk_prob": None,
        "routed_scaling_factor": scale,
    }
    if method == "group_limited_greedy":
        n_group, topk_group = reader.get("moe.n_group"), reader.get("moe.topk_group")
        for name, value in (("moe.n_group", n_group), ("moe.topk_group", topk_group)):
            if value is None:
                raise reader.invalid(
                    reader.fields[name].key,
                    'must be set when topk_method is "group_limited_greedy"',
                )
        _check_groups(reader, num_experts, top_k, n_group, topk_group, top2=False)
        router.update(n_group=n_group, topk_group=topk_group)
    return router


def _layer_types(reader: Reader, num_layers: int) -> tuple[str, ...]:
    """Dots1: `layer_types` as listed, else sliding from `max_window_layers` on (with a window)."""
    listed = reader.get("base.layer_types")
    if listed is not None:
        key = reader.fields["base.layer_types"].key
        for index, kind in enumerate(listed):
            if kind not in (FULL_ATTENTION, SLIDING_ATTENTION):
                raise reader.invalid(
                    f"{key}[{index}]",
                    f'"{kind}" is not one of {FULL_ATTENTION}, {SLIDING_ATTENTION}',
                )
        if len(listed) != num_layers:
            raise reader.invalid(
                key, f"lists {len(listed)} layers but num_hidden_layers is {num_layers}"
            )
        return tuple(listed)
    window, first_sliding = reader.get("base.sliding_window"), reader.get("base.max_window_layers")
    if window is None or first_sliding is None:
        return (FULL_ATTENTION,) * num_layers
    return tuple(
        SLIDING_ATTENTION if i >= first_sliding else FULL_ATTENTION for i in range(num_layers)
    )


def _read_mla(reader: Reader) -> MlaConfig:
    return MlaConfig(
        q_lora_rank=reader.get("base.mla.q_lora_rank"),
        kv_lora_rank=reader.get("base.mla.kv_lora_rank"),
        qk_nope_head_dim=reader.get("base.mla.qk_nope_head_dim"),
        qk_rope_head_dim=reader.get("base.mla.qk_rope_head_dim"),
        v_head_dim=reader.get("base.mla.v_head_dim"),
    )


def _parse(reader: Reader, variant: Variant) -> Parsed:
    if variant.note:
        reader.warnings.append(variant.note)
    num_layers = reader.get("base.num_hidden_layers")
    num_experts = reader.get("moe.num_experts")
    if num_experts is None:  # DeepSeek-MoE v1 without routed experts is a dense model
        moe = None
        dense_layers = num_layers
    else:
        top_k = read_top_k(reader, num_experts)
        moe_layers = _moe_layers(reader, variant, num_layers)
        expert_size = reader.get("moe.expert_intermediate_size")
        num_shared = reader.get("moe.num_shared_experts") or 0
        moe = MoeConfig(
            num_experts=num_experts,
            num_experts_per_tok=top_k,
            expert_intermediate_size=expert_size,
            moe_layers=moe_layers,
            num_shared_experts=num_shared,
            shared_expert_intermediate_size=reader.derived(
                "moe.shared_expert_intermediate_size", num_shared * expert_size
            ),
            # The shared MLP is the dense MLP class, so it follows mlp_bias; routed experts do not.
            shared_expert_bias=variant.mlp_bias and reader.get("base.mlp_bias"),
            **_read_router(reader, variant, num_experts, top_k),
        )
        dense_layers = num_layers - len(moe_layers)
    if variant.heads_divide_hidden:
        hidden, heads = reader.get("base.hidden_size"), reader.get("base.num_attention_heads")
        if hidden % heads:
            raise reader.invalid(
                reader.fields["base.hidden_size"].key,
                f"{hidden} is not a multiple of num_attention_heads ({heads})",
            )
    mla = _read_mla(reader) if variant.attention == "mla" else None
    qk_norm = variant.qk_norm == "always" or (
        variant.qk_norm == "use_qk_norm" and reader.get("base.qk_norm")
    )
    base = read_base(
        reader,
        intermediate_size=read_dense_intermediate_size(reader, dense_layers),
        output_bias=None if variant.output_bias else False,
        qk_norm=qk_norm,
        layer_types=_layer_types(reader, num_layers) if variant.sliding else None,
    )
    extra: dict[str, Any] = {}
    if mla is not None:
        extra["mla"] = mla
    if variant.mtp:
        extra["num_mtp_layers"] = reader.get("base.num_mtp_layers")
    if extra:
        base = replace(base, **extra)
    return Parsed(base=base, moe=moe)


def _family(variant: Variant) -> Family:
    return Family(
        model_type=variant.model_type,
        architectures=variant.architectures,
        fields=_fields(variant),
        parse=lambda reader: _parse(reader, variant),
        summary=variant.summary,
        excluded=variant.excluded,
    )


DEEPSEEK_V3 = Variant(
    model_type="deepseek_v3",
    architectures=("DeepseekV3ForCausalLM",),
    summary="DeepSeek-V3/R1, Kimi-K2: MLA, dense first layers, shared expert, grouped sigmoid, MTP",
    attention="mla",
    router=_SIGMOID,
    experts_alias="num_local_experts",
    mtp=True,
    defaults={
        "base__num_key_value_heads": 128,
        "base__intermediate_size": 18432,
        "base__max_position_embeddings": 4096,
        "moe__num_experts": 256,
        "moe__num_experts_per_tok": 8,
        "moe__expert_intermediate_size": 2048,
        "moe__num_shared_experts": 1,
        "moe__first_k_dense_replace": 3,
        "moe__norm_topk_prob": True,
        "moe__routed_scaling_factor": 2.5,
        "moe__n_group": 8,
        "moe__topk_group": 4,
    },
)

DEEPSEEK_V2 = Variant(
    model_type="deepseek_v2",
    architectures=("DeepseekV2ForCausalLM",),
    summary="DeepSeek-V2/V2-Lite: MLA, shared experts, softmax, greedy or group-limited top-k",
    attention="mla",
    router=_SOFTMAX_TOPK_METHOD,
    experts_alias="num_experts",
    mlp_bias=True,
    heads_divide_hidden=True,
    defaults={
        "base__intermediate_size": 11008,
        "moe__num_experts": 64,
        "moe__expert_intermediate_size": 1407,
        "moe__num_shared_experts": 2,
        "moe__first_k_dense_replace": 0,
        "moe__norm_topk_prob": False,
    },
)

GLM4_MOE = Variant(
    model_type="glm4_moe",
    architectures=("Glm4MoeForCausalLM",),
    summary="GLM-4.5/4.6: GQA, biased q/k/v, optional q/k norm, shared expert, sigmoid, MTP",
    attention="gqa",
    router=_SIGMOID,
    experts_alias="num_local_experts",
    qk_norm="use_qk_norm",
    output_bias=False,
    mtp=True,
    defaults={
        "base__num_key_value_heads": 8,
        "base__intermediate_size": 10944,
        "base__max_position_embeddings": 131072,
        "base__rms_norm_eps": 1e-5,
        "moe__num_experts": 128,
        "moe__num_experts_per_tok": 8,
        "moe__expert_intermediate_size": 1408,
        "moe__num_shared_experts": 1,
        "moe__first_k_dense_replace": 1,
        "moe__norm_topk_prob": True,
        "moe__n_group": 1,
        "moe__topk_group": 1,
    },
)

DOTS1 = Variant(
    model_type="dots1",
    architectures=("Dots1ForCausalLM",),
    summary="dots.llm1: GQA with q/k norm, shared experts, sigmoid router, max_window_layers",
    attention="gqa",
    router=_SIGMOID,
    experts_alias="num_local_experts",
    qk_norm="always",
    sliding=True,
    defaults={
        "base__num_key_value_heads": 32,
        "base__intermediate_size": 10944,
        "moe__expert_intermediate_size": 1408,
        "moe__first_k_dense_replace": 0,
        "moe__norm_topk_prob": False,
        "moe__n_group": 1,
        "moe__topk_group": 1,
    },
)

#: DeepSeek-MoE v1 ships as remote code only; its structure is mlx-lm's models/deepseek.py.
DEEPSEEK_V1 = Variant(
    model_type="deepseek",
    architectures=("DeepseekForCausalLM",),
    summary="DeepSeek-MoE v1 (remote code): GQA, shared experts, softmax router, moe_layer_freq",
    attention="gqa",
    router=_SOFTMAX,
    layer_freq=True,
    note=(
        "deepseek is remote code with no transformers class: counted from its published "
        "structure (mlx-lm models/deepseek.py)"
    ),
    defaults={
        "base__num_key_value_heads": 32,
        "base__intermediate_size": 11008,
        "moe__expert_intermediate_size": 1407,
        "moe__first_k_dense_replace": 0,
        "moe__norm_topk_prob": False,
    },
)

FAMILIES = tuple(_family(v) for v in (DEEPSEEK_V3, DEEPSEEK_V2, GLM4_MOE, DOTS1, DEEPSEEK_V1))
