"""JetMoE: a mixture of attention heads (MoA) and a mixture of MLP experts in every layer.

As transformers 5 builds `jetmoe`:
- attention: one shared kv_proj (h → 2 · kv heads · `kv_channels`, unbiased) and a bank of
  `num_local_experts` attention experts, each a q projection (h → kv heads · kv_channels) and an
  o projection back, unbiased; a router Linear(h, experts) picks `num_experts_per_tok` of them
  per token, and one bias (h) follows. transformers sets `num_attention_heads` to
  kv heads × num_experts_per_tok, whatever the config says.
- MLP: `num_local_experts` gated experts of `intermediate_size` (input_linear h → 2I,
  output_linear I → h, unbiased), the same kind of router, and one bias (h) after them.
- routers: top-k of the logits, softmax over those k. No dense layers; tied embeddings by
  default.
"""

from __future__ import annotations

from moecfg.families.base import (
    BASE_FIELDS,
    Family,
    Parsed,
    field_table,
    read_rope_scaling,
    read_top_k,
)
from moecfg.families.fields import Field, Reader, flag, size
from moecfg.model import FULL_ATTENTION, BaseConfig, MoeConfig

FIELDS = {
    **field_table(
        size("base.hidden_size", "hidden_size"),
        size("base.num_hidden_layers", "num_hidden_layers"),
        size("base.num_key_value_heads", "num_key_value_heads", default=16),
        size("base.head_dim", "kv_channels", default=128, aliases=("head_dim",)),
        #: Read only to say that transformers replaces it.
        Field(
            "base.num_attention_heads",
            "num_attention_heads",
            default=None,
            minimum=1,
            nullable=True,
        ),
        size("base.vocab_size", "vocab_size"),
        size("base.max_position_embeddings", "max_position_embeddings", default=4096),
        flag("base.tie_word_embeddings", "tie_word_embeddings", default=True),
    ),
    **{
        k: BASE_FIELDS[k]
        for k in ("base.rope_theta", "base.rope_scaling", "base.rope_parameters", "base.dtype")
    },
    "base.rms_norm_eps": BASE_FIELDS["base.rms_norm_eps"].with_default(1e-6),
    **field_table(
        size("moe.num_experts", "num_local_experts", default=8),
        size("moe.num_experts_per_tok", "num_experts_per_tok", default=2),
        size("moe.expert_intermediate_size", "intermediate_size", default=5632),
    ),
}


def parse(reader: Reader) -> Parsed:
    num_layers = reader.get("base.num_hidden_layers")
    num_experts = reader.get("moe.num_experts")
    top_k = read_top_k(reader, num_experts)
    kv_heads = reader.get("base.num_key_value_heads")
    heads = kv_heads * top_k
    given = reader.get("base.num_attention_heads")
    if given is not None and given != heads:
        reader.warnings.append(
            f"num_attention_heads ({given}) is ignored by transformers' jetmoe, which uses "
            f"num_key_value_heads × num_experts_per_tok ({heads})"
        )
    base = BaseConfig(
        hidden_size=reader.get("base.hidden_size"),
        num_hidden_layers=num_layers,
        num_attention_heads=reader.derived("base.num_attention_heads", heads),
        num_key_value_heads=kv_heads,
        head_dim=reader.get("base.head_dim"),
        intermediate_size=None,
        vocab_size=reader.get("base.vocab_size"),
        max_position_embeddings=reader.get("base.max_position_embeddings"),
        tie_word_embeddings=reader.get("base.tie_word_embeddings"),
        rope_theta=float(reader.get("base.rope_theta")),
        rope_scaling=read_rope_scaling(reader),
        rms_norm_eps=float(reader.get("base.rms_norm_eps")),
        dtype=reader.get("base.dtype"),
        attention_output_bias=True,
        attention_experts=num_experts,
        attention_experts_per_tok=top_k,
        layer_types=(FULL_ATTENTION,) * num_layers,
    )
    moe = MoeConfig(
        num_experts=num_experts,
        num_experts_per_tok=top_k,
        expert_intermediate_size=reader.get("moe.expert_intermediate_size"),
        moe_layers=tuple(range(num_layers)),
        norm_topk_prob=None,
        scoring_func="topk_softmax",
        output_bias=True,
    )
    return Parsed(base=base, moe=moe)


JETMOE = Family(
    model_type="jetmoe",
    architectures=("JetMoeForCausalLM",),
    fields=FIELDS,
    parse=parse,
    summary="JetMoE: mixture of attention heads and of MLP experts in every layer, top-k softmax",
)
