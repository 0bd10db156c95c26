"""Dense Llama-family models: llama, mistral, qwen2, qwen3. They have no MoE block."""

from __future__ import annotations

from moecfg.families.base import BASE_FIELDS, Family, Parsed, read_base, with_defaults
from moecfg.families.fields import Reader
from moecfg.model import SLIDING_ATTENTION


def _parse_llama(reader: Reader) -> Parsed:
    return Parsed(base=read_base(reader, intermediate_size=reader.get("base.intermediate_size")), moe=None)


def _parse_mistral(reader: Reader) -> Parsed:
    """Mistral attends over a sliding window on every layer when `sliding_window` is set."""
    window = reader.get("base.sliding_window")
    layers = reader.get("base.num_hidden_layers")
    return Parsed(
        base=read_base(
            reader,
            intermediate_size=reader.get("base.intermediate_size"),
            qkv_bias=False,
            output_bias=False,
            layer_types=(SLIDING_ATTENTION,) * layers if window else None,
        ),
        moe=None,
    )


def _parse_qwen2(reader: Reader) -> Parsed:
    """Qwen2 always biases q, k and v (not o)."""
    return Parsed(
        base=read_base(
            reader,
            intermediate_size=reader.get("base.intermediate_size"),
            qkv_bias=True,
            output_bias=False,
        ),
        moe=None,
    )


def _parse_qwen3(reader: Reader) -> Parsed:
    """Qwen3 adds per-head q/k RMSNorm."""
    return Parsed(
        base=read_base(reader, intermediate_size=reader.get("base.intermediate_size"), qk_norm=True),
        moe=None,
    )


_NO_BIAS = {k: v for k, v in BASE_FIELDS.items() if k not in ("base.attention_bias", "base.mlp_bias")}

LLAMA = Family(
    model_type="llama",
    architectures=("LlamaForCausalLM",),
    fields=BASE_FIELDS,
    parse=_parse_llama,
    summary="Llama 2/3 dense decoder (the base every MoE family wraps)",
)

MISTRAL = Family(
    model_type="mistral",
    architectures=("MistralForCausalLM",),
    fields=with_defaults(
        _NO_BIAS, base__num_key_value_heads=8, base__max_position_embeddings=131072,
        base__sliding_window=4096,
    ),
    parse=_parse_mistral,
    summary="Mistral dense decoder, sliding-window attention when sliding_window is set",
)

QWEN2 = Family(
    model_type="qwen2",
    architectures=("Qwen2ForCausalLM",),
    fields=with_defaults(
        {k: v for k, v in _NO_BIAS.items() if k != "base.sliding_window"},
        base__num_key_value_heads=32,
        base__max_position_embeddings=32768,
    ),
    parse=_parse_qwen2,
    summary="Qwen2 dense decoder, biased q/k/v",
)

QWEN3 = Family(
    model_type="qwen3",
    architectures=("Qwen3ForCausalLM",),
    fields=with_defaults(
        {k: v for k, v in BASE_FIELDS.items() if k not in ("base.mlp_bias", "base.sliding_window")},
        base__num_key_value_heads=32,
        base__head_dim=128,
        base__max_position_embeddings=32768,
    ),
    parse=_parse_qwen3,
    summary="Qwen3 dense decoder, per-head q/k norm",
)

FAMILIES = (LLAMA, MISTRAL, QWEN2, QWEN3)
