"""The Family description and the readers every adapter shares.

A family is data: its model_type, the architectures it claims, the Fields it reads (with the
family's transformers defaults) and a small `parse` function that assembles the composed
config from those Fields. The dense base and the MoE block are read here once, so an adapter
only states how its family differs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from moecfg.families.fields import REQUIRED, Field, Reader, count, flag, size
from moecfg.model import FULL_ATTENTION, BaseConfig, MoeConfig


@dataclass(frozen=True)
class Parsed:
    """What an adapter's parse returns: the composed parts, before provenance is attached."""

    base: BaseConfig
    moe: MoeConfig | None


@dataclass(frozen=True)
class Family:
    """One supported `model_type`, declared as data."""

    model_type: str
    #: transformers classes that build this family; used when `model_type` is unknown.
    architectures: tuple[str, ...]
    fields: Mapping[str, Field]
    parse: Callable[[Reader], Parsed]
    summary: str
    #: Object holding the language model's keys (e.g. "text_config" for Llama 4), when nested.
    text_config: str | None = None
    #: Parts of the checkpoint this adapter deliberately does not count.
    excluded: tuple[str, ...] = field(default=())

    @property
    def is_moe(self) -> bool:
        return any(name.startswith("moe.") for name in self.fields)


def field_table(*fields: Field) -> dict[str, Field]:
    return {f.name: f for f in fields}


def with_defaults(table: Mapping[str, Field], **defaults: Any) -> dict[str, Field]:
    """A copy of `table` with family defaults; keys are output names with '.' spelled '__'."""
    out = dict(table)
    for name, default in defaults.items():
        dotted = name.replace("__", ".")
        out[dotted] = out[dotted].with_default(default)
    return out


#: The keys of the dense Llama-family base. Defaults here are LlamaConfig's; families override.
BASE_FIELDS = field_table(
    size("base.hidden_size", "hidden_size"),
    size("base.num_hidden_layers", "num_hidden_layers"),
    size("base.num_attention_heads", "num_attention_heads"),
    Field("base.num_key_value_heads", "num_key_value_heads", default=None, minimum=1, nullable=True),
    Field("base.head_dim", "head_dim", default=None, minimum=1, nullable=True),
    size("base.intermediate_size", "intermediate_size"),
    size("base.vocab_size", "vocab_size"),
    Field("base.max_position_embeddings", "max_position_embeddings", default=2048, minimum=1),
    flag("base.tie_word_embeddings", "tie_word_embeddings", default=False),
    Field(
        "base.rope_theta",
        "rope_theta",
        "float",
        default=10000.0,
        aliases=("rope_parameters.rope_theta",),
        minimum=0,
    ),
    Field("base.rope_scaling", "rope_scaling", "object", default=None, nullable=True),
    Field("base.rope_parameters", "rope_parameters", "object", default=None, nullable=True),
    Field("base.rms_norm_eps", "rms_norm_eps", "float", default=1e-6, minimum=0),
    Field("base.dtype", "dtype", "str", default=None, aliases=("torch_dtype",), nullable=True),
    flag("base.attention_bias", "attention_bias", default=False),
    flag("base.mlp_bias", "mlp_bias", default=False),
    Field("base.sliding_window", "sliding_window", default=None, minimum=1, nullable=True),
)


def read_rope_scaling(reader: Reader) -> Mapping[str, Any] | None:
    """RoPE scaling from v4 `rope_scaling` or v5 `rope_parameters` (minus the theta)."""
    legacy = reader.get("base.rope_scaling")
    current = reader.get("base.rope_parameters")
    if current:
        scaling = {k: v for k, v in current.items() if k != "rope_theta"}
        if scaling.get("rope_type", "default") != "default":
            reader.provenance["base.rope_scaling"] = f"alias:{reader.key_name('rope_parameters')}"
            return scaling
    return legacy or None


def read_head_dim(reader: Reader, hidden_size: int, num_heads: int) -> int:
    """`head_dim` as given, or hidden_size / heads, which must then divide evenly.

    A family whose attention always uses hidden_size / heads (DBRX) declares no head_dim field.
    """
    head_dim = reader.get("base.head_dim") if "base.head_dim" in reader.fields else None
    if head_dim is not None:
        return int(head_dim)
    if hidden_size % num_heads:
        raise reader.invalid(
            "head_dim",
            f"absent, and hidden_size ({hidden_size}) is not divisible by "
            f"num_attention_heads ({num_heads})",
        )
    return reader.derived("base.head_dim", hidden_size // num_heads)


def read_base(
    reader: Reader,
    *,
    intermediate_size: int | None,
    qkv_bias: bool | None = None,
    output_bias: bool | None = None,
    qk_norm: bool = False,
    layer_types: Iterable[str] | None = None,
) -> BaseConfig:
    """The dense base shared by every Llama-style family.

    `qkv_bias`/`output_bias` are the family's fixed choices; None means "as `attention_bias` says".
    `intermediate_size` is passed in because whether it is required depends on the layer schedule.
    """
    hidden_size = reader.get("base.hidden_size")
    num_layers = reader.get("base.num_hidden_layers")
    num_heads = reader.get("base.num_attention_heads")
    num_kv_heads = reader.get("base.num_key_value_heads")
    if num_kv_heads is None:
        num_kv_heads = reader.derived("base.num_key_value_heads", num_heads)
    if num_heads % num_kv_heads:
        raise reader.invalid(
            reader.fields["base.num_key_value_heads"].key,
            f"num_attention_heads ({num_heads}) is not divisible by "
            f"num_key_value_heads ({num_kv_heads})",
        )
    attention_bias = reader.get("base.attention_bias") if "base.attention_bias" in reader.fields else False
    return BaseConfig(
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_kv_heads,
        head_dim=read_head_dim(reader, hidden_size, num_heads),
        intermediate_size=intermediate_size,
        vocab_size=reader.get("base.vocab_size"),
        max_position_embeddings=reader.get("base.max_position_embeddings"),
        tie_word_embeddings=reader.get("base.tie_word_embeddings"),
        rope_theta=float(reader.get("base.rope_theta")),
        rope_scaling=read_rope_scaling(reader),
        rms_norm_eps=float(reader.get("base.rms_norm_eps")) if "base.rms_norm_eps" in reader.fields else None,
        dtype=reader.get("base.dtype"),
        attention_bias=attention_bias if qkv_bias is None else qkv_bias,
        attention_output_bias=attention_bias if output_bias is None else output_bias,
        qk_norm=qk_norm,
        mlp_bias=reader.get("base.mlp_bias") if "base.mlp_bias" in reader.fields else False,
        sliding_window=reader.get("base.sliding_window") if "base.sliding_window" in reader.fields else None,
        layer_types=tuple(layer_types) if layer_types is not None else (FULL_ATTENTION,) * num_layers,
    )


def read_dense_intermediate_size(reader: Reader, dense_layer_count: int) -> int | None:
    """The dense MLP width: required when some layer is dense, else the family default."""
    spec = reader.fields["base.intermediate_size"]
    if dense_layer_count and spec.default is not REQUIRED and not reader.has("base.intermediate_size"):
        reader.fields = {**reader.fields, spec.name: spec.with_default(REQUIRED)}
    return reader.get("base.intermediate_size")


#: The routed-expert keys most MoE families share; adapters override keys, aliases and defaults.
MOE_FIELDS = field_table(
    size("moe.num_experts", "num_experts", aliases=("num_local_experts",)),
    size("moe.num_experts_per_tok", "num_experts_per_tok"),
    size("moe.expert_intermediate_size", "moe_intermediate_size"),
    flag("moe.norm_topk_prob", "norm_topk_prob", default=False),
)

#: Qwen-style layer schedule keys.
QWEN_SCHEDULE_FIELDS = field_table(
    size("moe.decoder_sparse_step", "decoder_sparse_step", default=1),
    Field("moe.mlp_only_layers", "mlp_only_layers", "int_list", default=None, minimum=0, nullable=True),
)


def read_top_k(reader: Reader, num_experts: int) -> int:
    top_k = reader.get("moe.num_experts_per_tok")
    if top_k > num_experts:
        key = reader.fields["moe.num_experts_per_tok"].key
        raise reader.invalid(key, f"{top_k} exceeds the number of experts ({num_experts})")
    return int(top_k)


def qwen_moe_layers(reader: Reader, num_layers: int) -> tuple[int, ...]:
    """MoE iff the layer is not in `mlp_only_layers` and (i + 1) % decoder_sparse_step == 0."""
    step = reader.get("moe.decoder_sparse_step")
    mlp_only = set(reader.get("moe.mlp_only_layers") or ())
    outside = sorted(i for i in mlp_only if i >= num_layers)
    if outside:
        reader.warnings.append(
            f"mlp_only_layers names layers {outside} beyond num_hidden_layers ({num_layers}); "
            "transformers ignores them"
        )
    return tuple(i for i in range(num_layers) if i not in mlp_only and (i + 1) % step == 0)


__all__ = [
    "BASE_FIELDS",
    "MOE_FIELDS",
    "QWEN_SCHEDULE_FIELDS",
    "Family",
    "Parsed",
    "count",
    "field_table",
    "qwen_moe_layers",
    "read_base",
    "read_dense_intermediate_size",
    "read_top_k",
    "with_defaults",
]
