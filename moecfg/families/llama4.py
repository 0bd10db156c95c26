"""Llama 4: a shared expert beside the routed ones, MoE layers by `moe_layers` or an interleave step.

The released checkpoints are multimodal (`Llama4ForConditionalGeneration`) with the language
model's keys under `text_config`. moecfg counts what `AutoModelForCausalLM` builds from such a
config, `Llama4ForCausalLM` on the text config, and says that the vision tower is left out.
A text-only config (`llama4_text`) has the same keys at the top level.

Attention is chunked-local on the RoPE layers and full on the NoPE ones: `no_rope_layers`
(1 = uses RoPE) or, when it is empty, every `no_rope_layer_interval`-th layer is NoPE, and
`layer_types` defaults to "chunked_attention" where RoPE is used. Chunked layers cache at most
`attention_chunk_size` tokens, so the KV cache of a long context is bounded on 3 of 4 layers.
"""

from __future__ import annotations

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
from dataclasses import replace

from moecfg.families.fields import Field, Reader, size
from moecfg.families.layer_kinds import read_layer_types
from moecfg.model import CHUNKED_ATTENTION, FULL_ATTENTION, MoeConfig

FIELDS = with_defaults(
    {
        **{
            k: v
            for k, v in BASE_FIELDS.items()
            if k not in ("base.mlp_bias", "base.sliding_window", "base.intermediate_size")
        },
        # The dense layers' MLP; `intermediate_size` is the expert (and shared expert) width.
        **field_table(size("base.intermediate_size", "intermediate_size_mlp", default=16384)),
        **field_table(
            size("moe.num_experts", "num_local_experts", default=16),
            size("moe.num_experts_per_tok", "num_experts_per_tok", default=1),
            size("moe.expert_intermediate_size", "intermediate_size", default=8192),
            Field("moe.moe_layers", "moe_layers", "int_list", default=None, minimum=0, nullable=True),
            size("moe.interleave_moe_layer_step", "interleave_moe_layer_step", default=1),
            Field("base.no_rope_layers", "no_rope_layers", "int_list", default=None, minimum=0,
                  nullable=True),
            size("base.no_rope_layer_interval", "no_rope_layer_interval", default=4),
            Field("base.attention_chunk_size", "attention_chunk_size", "int", default=8192,
                  minimum=1, nullable=True),
            Field("base.layer_types", "layer_types", "str_list", default=None, nullable=True),
        ),
    },
    base__vocab_size=202048,
    base__hidden_size=5120,
    base__num_hidden_layers=48,
    base__num_attention_heads=40,
    base__num_key_value_heads=8,
    base__head_dim=128,
    base__max_position_embeddings=131072,
    base__rms_norm_eps=1e-5,
    base__rope_theta=500000.0,
)


def read_moe_layers(reader: Reader, num_layers: int) -> tuple[int, ...]:
    """`moe_layers` when given (transformers then ignores the step), else every step-th layer."""
    listed = reader.get("moe.moe_layers")
    if listed is None:
        step = reader.get("moe.interleave_moe_layer_step")
        return tuple(range(step - 1, num_layers, step))
    outside = sorted(i for i in set(listed) if i >= num_layers)
    if outside:
        reader.warnings.append(
            f"{reader.key_name('moe_layers')} names layers {outside} beyond num_hidden_layers "
            f"({num_layers}); transformers ignores them"
        )
    return tuple(sorted(i for i in set(listed) if i < num_layers))


def read_attention_kinds(reader: Reader, num_layers: int) -> tuple[str, ...]:
    """Llama4TextConfig's schedule: chunked attention on RoPE layers, full on NoPE layers."""
    uses_rope = reader.get("base.no_rope_layers")
    if uses_rope:
        if len(uses_rope) != num_layers:
            raise reader.invalid(
                "no_rope_layers",
                f"lists {len(uses_rope)} layers but num_hidden_layers is {num_layers}",
            )
    else:
        interval = reader.get("base.no_rope_layer_interval")
        uses_rope = tuple(int((i + 1) % interval != 0) for i in range(num_layers))
    default = tuple(CHUNKED_ATTENTION if rope else FULL_ATTENTION for rope in uses_rope)
    return read_layer_types(reader, num_layers, default, allowed=(FULL_ATTENTION, CHUNKED_ATTENTION))


def parse(reader: Reader) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    num_experts = reader.get("moe.num_experts")
    expert_size = reader.get("moe.expert_intermediate_size")
    moe_layers = read_moe_layers(reader, num_layers)
    moe = MoeConfig(
        num_experts=num_experts,
        num_experts_per_tok=read_top_k(reader, num_experts),
        expert_intermediate_size=expert_size,
        moe_layers=moe_layers,
        # Llama4Router: top-k of the logits, each passed through a sigmoid; never renormalised.
        norm_topk_prob=False,
        scoring_func="sigmoid",
        # Llama4TextMoe always adds one shared expert, a Llama4TextMLP of the expert width.
        num_shared_experts=1,
        shared_expert_intermediate_size=reader.derived("moe.shared_expert_intermediate_size", expert_size),
    )
    dense_size = read_dense_intermediate_size(reader, num_layers - len(moe_layers))
    # `use_qk_norm` is an L2 norm without weights, so it adds no parameters.
    base = read_base(
        reader,
        intermediate_size=dense_size,
        layer_types=read_attention_kinds(reader, num_layers),
    )
    return Parsed(base=replace(base, attention_chunk_size=reader.get("base.attention_chunk_size")),
                  moe=moe)


_SUMMARY = "Llama 4: routed experts plus one shared expert, moe_layers / interleave_moe_layer_step"

LLAMA4 = Family(
    model_type="llama4",
    architectures=("Llama4ForConditionalGeneration",),
    fields=FIELDS,
    parse=parse,
    summary=_SUMMARY + " (text model of the multimodal config)",
    text_config="text_config",
    excluded=(
        "vision tower and multimodal projector (vision_config): only the text model that "
        "AutoModelForCausalLM builds (Llama4ForCausalLM) is counted",
    ),
)

LLAMA4_TEXT = Family(
    model_type="llama4_text",
    architectures=("Llama4ForCausalLM",),
    fields=FIELDS,
    parse=parse,
    summary=_SUMMARY + " (text-only config)",
)

FAMILIES = (LLAMA4, LLAMA4_TEXT)
