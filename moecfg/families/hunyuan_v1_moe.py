"""HunYuan MoE v1: every layer MoE with a shared MLP; `moe_topk` may be one k per layer.

In transformers the routed experts and the always-present `shared_mlp` both have width
`intermediate_size` (released configs also carry `moe_intermediate_size`, which transformers
ignores). The router takes a softmax, keeps the top k and always renormalises them. Queries and
keys get a per-head RMSNorm.

Remote-code configs write `num_experts` and `moe_topk` as per-layer lists. transformers reads
`moe_topk[layer]` for each layer's router, so a list `moe_topk` gives per-layer k; it accepts
`num_experts` only as an integer, so a list of one repeated count is read as that count with a
warning, and a list of differing counts is an error.
"""

from __future__ import annotations

from moecfg.families.base import BASE_FIELDS, Family, Parsed, field_table, read_base, with_defaults
from moecfg.families.fields import Field, Reader, size
from moecfg.model import MoeConfig

FIELDS = with_defaults(
    {
        **{
            k: v
            for k, v in BASE_FIELDS.items()
            if k not in ("base.mlp_bias", "base.sliding_window", "base.intermediate_size")
        },
        **field_table(
            Field(
                "moe.num_experts", "num_experts", "int_or_int_list", default=1,
                aliases=("num_local_experts",), minimum=1,
            ),
            Field(
                "moe.num_experts_per_tok", "moe_topk", "int_or_int_list", default=1,
                aliases=("num_experts_per_tok",), minimum=1,
            ),
            size("moe.expert_intermediate_size", "intermediate_size", default=11008),
            # Remote-code key; read only to warn when it disagrees with what transformers builds.
            Field(
                "moe.moe_intermediate_size", "moe_intermediate_size", "int_or_int_list", default=None,
                minimum=1, nullable=True,
            ),
        ),
    },
    base__vocab_size=290943,
    base__hidden_size=4096,
    base__num_hidden_layers=32,
    base__num_attention_heads=32,
    base__max_position_embeddings=2048,
    base__rms_norm_eps=1e-5,
)


def _per_layer(reader: Reader, name: str, num_layers: int) -> tuple[int, ...]:
    """The field as one value per layer; a list must name at least every layer."""
    value = reader.get(name)
    if isinstance(value, int):
        return (value,) * num_layers
    if len(value) < num_layers:
        raise reader.invalid(
            reader.fields[name].key,
            f"lists {len(value)} layers but num_hidden_layers is {num_layers}",
        )
    return tuple(value[:num_layers])


def read_num_experts(reader: Reader, num_layers: int) -> int:
    counts = _per_layer(reader, "moe.num_experts", num_layers)
    key = reader.key_name(reader.fields["moe.num_experts"].key)
    if len(set(counts)) > 1:
        raise reader.invalid(
            reader.fields["moe.num_experts"].key,
            f"per-layer counts differ ({sorted(set(counts))}); transformers builds every layer "
            "with one expert count",
        )
    if not isinstance(reader.get("moe.num_experts"), int):
        reader.warnings.append(
            f"{key} is a per-layer list; transformers accepts only an integer, read as {counts[0]}"
        )
    return counts[0]


def read_top_k_by_layer(reader: Reader, num_layers: int, num_experts: int) -> tuple[int, ...]:
    key = reader.fields["moe.num_experts_per_tok"].key
    top_k = _per_layer(reader, "moe.num_experts_per_tok", num_layers)
    for layer, k in enumerate(top_k):
        if k > num_experts:
            shown = key if isinstance(reader.get("moe.num_experts_per_tok"), int) else f"{key}[{layer}]"
            raise reader.invalid(shown, f"{k} exceeds the number of experts ({num_experts})")
    return top_k


def warn_ignored_expert_size(reader: Reader, expert_size: int) -> None:
    remote = reader.get("moe.moe_intermediate_size")
    sizes = (remote,) if isinstance(remote, int) else tuple(remote or ())
    if any(size != expert_size for size in sizes):
        shown = remote if isinstance(remote, int) else sorted(set(sizes))
        reader.warnings.append(
            f"{reader.key_name('moe_intermediate_size')} ({shown}) differs from intermediate_size "
            f"({expert_size}); transformers sizes the experts and the shared MLP by "
            "intermediate_size and ignores it"
        )


def parse(reader: Reader) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    num_experts = read_num_experts(reader, num_layers)
    top_k = read_top_k_by_layer(reader, num_layers, num_experts)
    expert_size = reader.get("moe.expert_intermediate_size")
    warn_ignored_expert_size(reader, expert_size)
    moe = MoeConfig(
        num_experts=num_experts,
        num_experts_per_tok=max(top_k, default=1),
        expert_intermediate_size=expert_size,
        moe_layers=tuple(range(num_layers)),
        norm_topk_prob=True,
        scoring_func="softmax",
        # HunYuanMoEV1Moe always adds a shared_mlp of intermediate_size.
        num_shared_experts=1,
        shared_expert_intermediate_size=reader.derived("moe.shared_expert_intermediate_size", expert_size),
        top_k_by_layer=top_k if len(set(top_k)) > 1 else (),
    )
    return Parsed(base=read_base(reader, intermediate_size=None, qk_norm=True), moe=moe)


HUNYUAN_V1_MOE = Family(
    model_type="hunyuan_v1_moe",
    architectures=("HunYuanMoEV1ForCausalLM",),
    fields=FIELDS,
    parse=parse,
    summary="HunYuan MoE v1: every layer MoE plus a shared MLP, per-layer moe_topk lists",
)
