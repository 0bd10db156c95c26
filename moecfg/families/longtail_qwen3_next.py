"""Qwen3.5-MoE: Qwen3-Next's decoder with the delta-net input projection split in four.

`in_proj_qkv` + `in_proj_z` hold exactly Qwen3-Next's `in_proj_qkvz`, and `in_proj_b` +
`in_proj_a` its `in_proj_ba`, so the counts are Qwen3-Next's and so is the reader. What
differs is the schedule: every layer is MoE and the router always renormalises its top-k, so
the config class has no `decoder_sparse_step`, `mlp_only_layers`, `norm_topk_prob` or dense
`intermediate_size`. Those fields are fixed here to what transformers does; a config that
carries one of the keys anyway is told it is ignored.

- qwen3_5_moe_text: the text model's own config.
- qwen3_5_moe: the same keys under `text_config`, beside a vision tower that
  `AutoModelForCausalLM` does not build and moecfg does not count. The causal LM is built from
  `text_config` alone, so its `tie_word_embeddings` is the one that counts, not the outer key.
"""

from __future__ import annotations

from moecfg.families import qwen3_next
from moecfg.families.base import Family, Parsed, with_defaults
from moecfg.families.fields import Reader

#: Keys Qwen3-Next reads that Qwen3.5's config class lacks: fixed to what transformers does.
_FIXED = (
    "base.intermediate_size",
    "moe.decoder_sparse_step",
    "moe.mlp_only_layers",
    "moe.norm_topk_prob",
)

FIELDS = with_defaults(
    qwen3_next.FIELDS,
    base__intermediate_size=None,
    moe__num_experts=256,
    moe__num_experts_per_tok=8,
    moe__norm_topk_prob=True,
)


def parse(reader: Reader) -> Parsed:
    """Qwen3-Next's reader, on the config without the keys Qwen3.5 ignores (each one warned)."""
    ignored = {reader.fields[name].key for name in _FIXED if reader.has(name)}
    for key in sorted(ignored):
        reader.warnings.append(f"{reader.key_name(key)} is ignored by transformers' Qwen3.5-MoE")
    reader.data = {key: value for key, value in reader.data.items() if key not in ignored}
    return qwen3_next.parse(reader)


QWEN3_5_MOE_TEXT = Family(
    model_type="qwen3_5_moe_text",
    architectures=("Qwen3_5MoeForCausalLM",),
    fields=FIELDS,
    parse=parse,
    summary="Qwen3.5-MoE text model: Qwen3-Next's hybrid decoder, every layer MoE, renormalised",
)

QWEN3_5_MOE = Family(
    model_type="qwen3_5_moe",
    architectures=("Qwen3_5MoeForConditionalGeneration",),
    fields=FIELDS,
    parse=parse,
    summary="Qwen3.5-MoE: the Qwen3.5-MoE text model under text_config, beside a vision tower",
    text_config="text_config",
    excluded=(
        "vision tower (vision_config): only the language model and lm_head, as "
        "AutoModelForCausalLM builds them, are counted",
    ),
)

FAMILIES = (QWEN3_5_MOE_TEXT, QWEN3_5_MOE)
