"""Gemma 4: sliding/full attention with a larger head on full layers, KV-sharing layers,
per-layer input embeddings, and (26B-A4B style) experts beside every layer's dense MLP.

What `Gemma4TextConfig` and `modeling_gemma4` build, layer by layer:

- Attention: q_proj, o_proj and a q_norm on every layer; k_proj, v_proj and a k_norm (v_norm has
  no weight) on layers that keep their own KV. Full-attention layers take their head size and
  KV heads from `per_layer_config` when the config has one, else `global_head_dim` (default 512)
  and, with `attention_k_eq_v`, `num_global_key_value_heads`. With `attention_k_eq_v` the
  full-attention layers have no v_proj: the keys are the values (both are still cached).
- The last `num_kv_shared_layers` layers reuse the KV of the last earlier layer of their kind:
  no k/v projections or k_norm and no KV cache; with `use_double_wide_mlp` their MLP is twice
  `intermediate_size` wide.
- Every layer has the dense MLP and four norms. `enable_moe_block` adds, on every layer, a
  router (an unweighted RMSNorm, `proj` h → E, a learned input `scale` and `per_expert_scale`),
  the experts (`moe_intermediate_size`, `top_k_experts`, renormalised softmax) and three more
  norms; the dense MLP keeps running on every token.
- `hidden_size_per_layer_input` > 0 adds the per-layer input embeddings (model.PerLayerInputConfig).

The multimodal config (`gemma4`) nests these keys under `text_config` and ties the lm_head by
its outer `tie_word_embeddings`; its vision and audio towers are not counted.
"""

from __future__ import annotations

from collections.abc import Mapping
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
from moecfg.families.fields import Field, Reader, check_value, count, flag, size
from moecfg.families.layer_kinds import read_layer_types
from moecfg.model import FULL_ATTENTION, SLIDING_ATTENTION, MoeConfig, PerLayerInputConfig

#: Gemma4TextConfig's default schedule: five sliding layers, then one full (`(i + 1) % 6`).
_SLIDING_PATTERN = 6
#: The per-layer overrides Gemma 4's modules read from `per_layer_config`.
_LAYER_OVERRIDES = ("head_dim", "num_key_value_heads")
_BIDIRECTIONAL = ("all", "vision")


def _nullable(name: str, key: str, minimum: int) -> Field:
    return Field(name, key, "int", default=None, minimum=minimum, nullable=True)


_FIELDS = with_defaults(
    {
        **{k: v for k, v in BASE_FIELDS.items() if k not in ("base.mlp_bias", "base.rope_theta")},
        **field_table(
            # The full-attention layers' theta (the sliding layers use their own, 10 000).
            Field(
                "base.rope_theta",
                "rope_parameters.full_attention.rope_theta",
                "float",
                default=1_000_000.0,
                minimum=0,
            ),
            Field("base.layer_types", "layer_types", "str_list", default=None, nullable=True),
            Field(
                "base.per_layer_config", "per_layer_config", "object", default=None, nullable=True
            ),
            size("base.global_head_dim", "global_head_dim", default=512),
            _nullable("base.num_global_key_value_heads", "num_global_key_value_heads", 1),
            flag("base.attention_k_eq_v", "attention_k_eq_v", default=False),
            count("base.num_kv_shared_layers", "num_kv_shared_layers", default=0),
            flag("base.use_double_wide_mlp", "use_double_wide_mlp", default=False),
            _nullable("base.hidden_size_per_layer_input", "hidden_size_per_layer_input", 0),
            size("base.vocab_size_per_layer_input", "vocab_size_per_layer_input", default=262_144),
            Field(
                "base.use_bidirectional_attention",
                "use_bidirectional_attention",
                "str",
                default=None,
                nullable=True,
            ),
            flag("moe.enable_moe_block", "enable_moe_block", default=False),
            _nullable("moe.num_experts", "num_experts", 1),
            _nullable("moe.num_experts_per_tok", "top_k_experts", 1),
            _nullable("moe.expert_intermediate_size", "moe_intermediate_size", 1),
        ),
    },
    base__vocab_size=262_144,
    base__hidden_size=2304,
    base__intermediate_size=9216,
    base__num_hidden_layers=30,
    base__num_attention_heads=8,
    base__num_key_value_heads=4,
    base__head_dim=256,
    base__max_position_embeddings=131_072,
    base__tie_word_embeddings=True,
    base__sliding_window=512,
    base__hidden_size_per_layer_input=256,
)


def _read_layer_types(reader: Reader, num_layers: int) -> tuple[str, ...]:
    """`layer_types`, else five sliding layers per full one; the last layer is always full."""
    default = [
        SLIDING_ATTENTION if (i + 1) % _SLIDING_PATTERN else FULL_ATTENTION
        for i in range(num_layers)
    ]
    kinds = list(read_layer_types(reader, num_layers, default))
    if kinds and kinds[-1] != FULL_ATTENTION:
        reader.warnings.append(
            f'{reader.key_name("layer_types")} ends with "{kinds[-1]}"; transformers makes the '
            "last layer full_attention"
        )
        kinds[-1] = FULL_ATTENTION
    return tuple(kinds)


def _read_layer_overrides(
    reader: Reader, layer_types: tuple[str, ...]
) -> dict[int, dict[str, int]]:
    """Each layer's head_dim / num_key_value_heads where it differs, as transformers resolves them.

    A config with `per_layer_config` (what transformers 5 writes) gives them per layer; one without
    gets `global_head_dim` (and, with `attention_k_eq_v`, `num_global_key_value_heads`) on every
    full-attention layer.
    """
    if not reader.has("base.per_layer_config"):
        overrides = {"head_dim": reader.get("base.global_head_dim")}
        kv_heads = reader.get("base.num_global_key_value_heads")
        if reader.get("base.attention_k_eq_v") and kv_heads is not None:
            overrides["num_key_value_heads"] = kv_heads
        return {i: overrides for i, kind in enumerate(layer_types) if kind == FULL_ATTENTION}
    listed: Mapping[str, Any] = reader.get("base.per_layer_config") or {}
    key = reader.key_name(reader.fields["base.per_layer_config"].key)
    by_layer: dict[int, dict[str, int]] = {}
    for index, layer_overrides in listed.items():
        layer = int(index) if index.isdigit() else -1
        if not 0 <= layer < len(layer_types):
            raise reader.invalid(
                "per_layer_config",
                f'"{index}" is not a layer index below num_hidden_layers ({len(layer_types)})',
            )
        check_value(f"{key}.{index}", layer_overrides, "object")
        # transformers drops an override equal to the global value; any other one makes the
        # global attribute per-layer, and Gemma 4's modules, which read it globally, fail.
        unbuildable = sorted(
            name
            for name, value in layer_overrides.items()
            if name not in _LAYER_OVERRIDES and name != "skip" and reader.data.get(name) != value
        )
        if unbuildable:
            raise reader.invalid(
                f"per_layer_config.{index}",
                f"overrides {', '.join(unbuildable)}, which Gemma 4 cannot take per layer "
                "(transformers reads only head_dim and num_key_value_heads there)",
            )
        by_layer[layer] = {
            name: check_value(f"{key}.{index}.{name}", layer_overrides[name], "int", 1)
            for name in _LAYER_OVERRIDES
            if name in layer_overrides
        }
    return by_layer


def _kv_shared_layers(reader: Reader, layer_types: tuple[str, ...]) -> range:
    """The last `num_kv_shared_layers` layers: each reuses an earlier layer's KV of its kind."""
    shared = reader.get("base.num_kv_shared_layers")
    if not shared:
        return range(0)
    first = max(len(layer_types) - shared, 0)
    missing = [kind for kind in dict.fromkeys(layer_types) if kind not in layer_types[:first]]
    if missing:
        raise reader.invalid(
            "num_kv_shared_layers",
            f"{shared} shared layers leave no earlier {', '.join(missing)} layer to reuse",
        )
    return range(first, len(layer_types))


def _per_layer(values: list[int], uniform: int) -> tuple[int, ...]:
    """The per-layer tuple, or () when every layer has the uniform value."""
    return tuple(values) if any(value != uniform for value in values) else ()


def _read_moe(reader: Reader, num_layers: int) -> MoeConfig | None:
    if not reader.get("moe.enable_moe_block"):
        return None
    sizes = {}
    for name in ("moe.num_experts", "moe.num_experts_per_tok", "moe.expert_intermediate_size"):
        sizes[name] = reader.get(name)
        if sizes[name] is None:
            raise reader.invalid(
                reader.fields[name].key, "must be set when enable_moe_block is true"
            )
    num_experts = sizes["moe.num_experts"]
    return MoeConfig(
        num_experts=num_experts,
        num_experts_per_tok=read_top_k(reader, num_experts),
        expert_intermediate_size=sizes["moe.expert_intermediate_size"],
        moe_layers=tuple(range(num_layers)),
        # Gemma4TextRouter: softmax over all experts, top-k, renormalised, then per_expert_scale.
        norm_topk_prob=True,
        dense_mlp_in_moe_layers=True,
        router_input_scale=True,
        router_expert_scale=True,
    )


def _sliding_window(reader: Reader) -> int | None:
    """The window; transformers makes it w // 2 + 1 when every token attends both ways."""
    window = reader.get("base.sliding_window")
    mode = reader.get("base.use_bidirectional_attention")
    if mode is not None and mode not in _BIDIRECTIONAL:
        raise reader.invalid(
            "use_bidirectional_attention", f'"{mode}" is not one of {", ".join(_BIDIRECTIONAL)}'
        )
    if mode == "all" and window is not None:
        return reader.derived("base.sliding_window", window // 2 + 1)
    return window


def parse(reader: Reader) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    layer_types = _read_layer_types(reader, num_layers)
    overrides = _read_layer_overrides(reader, layer_types)
    shared = _kv_shared_layers(reader, layer_types)
    k_eq_v = reader.get("base.attention_k_eq_v")
    dense_size = reader.get("base.intermediate_size")
    wide_shared = reader.get("base.use_double_wide_mlp")
    base = read_base(reader, intermediate_size=dense_size, qk_norm=True, layer_types=layer_types)
    moe = _read_moe(reader, num_layers)
    ple_width = reader.get("base.hidden_size_per_layer_input")
    ple = (
        PerLayerInputConfig(
            vocab_size=reader.get("base.vocab_size_per_layer_input"), width=ple_width
        )
        if ple_width
        else None
    )

    def override(layer: int, name: str, uniform: int) -> int:
        return overrides.get(layer, {}).get(name, uniform)

    layers = range(num_layers)
    kv_projections = [
        0 if i in shared else 1 if k_eq_v and layer_types[i] != SLIDING_ATTENTION else 2
        for i in layers
    ]
    widths = [dense_size * (2 if wide_shared and i in shared else 1) for i in layers]
    by_layer = {
        "head_dim_by_layer": _per_layer(
            [override(i, "head_dim", base.head_dim) for i in layers], base.head_dim
        ),
        "kv_heads_by_layer": _per_layer(
            [override(i, "num_key_value_heads", base.num_key_value_heads) for i in layers],
            base.num_key_value_heads,
        ),
        "kv_projections_by_layer": _per_layer(kv_projections, 2),
        "intermediate_size_by_layer": _per_layer(widths, dense_size),
    }
    for name, values in by_layer.items():
        if values:
            reader.derived(f"base.{name}", values)
    base = replace(
        base,
        **by_layer,
        per_layer_input=ple,
        # input, post-attention, pre- and post-feedforward; the MoE block adds a pre-norm for the
        # experts and post-norms for the dense MLP's and the experts' outputs.
        norms_per_layer=4 + (3 if moe is not None else 0),
        sliding_window=_sliding_window(reader),
    )
    return Parsed(base=base, moe=moe)


GEMMA4_TEXT = Family(
    model_type="gemma4_text",
    architectures=("Gemma4ForCausalLM",),
    fields=_FIELDS,
    parse=parse,
    summary=(
        "Gemma 4 (text config): global head on full layers, KV-sharing layers, per-layer "
        "input embeddings, experts beside the dense MLP"
    ),
)

GEMMA4 = Family(
    model_type="gemma4",
    architectures=("Gemma4ForConditionalGeneration",),
    fields={
        **_FIELDS,
        **field_table(
            Field(
                "base.tie_word_embeddings",
                "tie_word_embeddings",
                "bool",
                default=True,
                top_level=True,
            )
        ),
    },
    parse=parse,
    summary="Gemma 4: the text model of the multimodal config (text_config)",
    text_config="text_config",
    excluded=(
        "vision and audio towers and their embedders (vision_config, audio_config): only the "
        "language model and lm_head of Gemma4ForConditionalGeneration are counted",
    ),
)

FAMILIES = (GEMMA4_TEXT, GEMMA4)
