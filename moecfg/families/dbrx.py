"""DBRX: every layer MoE, keys nested in `attn_config` / `ffn_config`, MPT-style names.

`DbrxConfig` spells the base as d_model / n_heads / n_layers / max_seq_len (accepting the
usual names for the last three through its attribute_map), keeps KV heads in
`attn_config.kv_n_heads` and the
experts in `ffn_config`. The attention is one fused Wqkv (hidden → hidden + 2·kv·head_dim,
the same weights as separate q/k/v) with head_dim always d_model / n_heads, no biases anywhere,
and bias-free LayerNorms. Tied embeddings are rejected by transformers, and here.
"""

from __future__ import annotations

from dataclasses import replace

from moecfg.families.base import BASE_FIELDS, Family, Parsed, field_table, read_base, read_top_k
from moecfg.families.fields import Field, Reader, flag, size
from moecfg.model import MoeConfig

#: nn.LayerNorm's default epsilon; DBRX does not configure it.
LAYER_NORM_EPS = 1e-5

FIELDS = {
    **field_table(
        Field("base.attn_config", "attn_config", "object", default=None, nullable=True),
        # No `hidden_size` alias: DbrxConfig maps it after sizing the experts from d_model's
        # default, so the model transformers builds from it is inconsistent.
        size("base.hidden_size", "d_model"),
        size("base.num_hidden_layers", "n_layers", aliases=("num_hidden_layers",)),
        size("base.num_attention_heads", "n_heads", aliases=("num_attention_heads",)),
        size("base.num_key_value_heads", "attn_config.kv_n_heads", default=1),
        size("base.vocab_size", "vocab_size"),
        size(
            "base.max_position_embeddings",
            "max_seq_len",
            default=2048,
            aliases=("max_position_embeddings",),
        ),
        flag("base.tie_word_embeddings", "tie_word_embeddings", default=False),
        Field(
            "base.rope_theta",
            "attn_config.rope_theta",
            "float",
            default=10000.0,
            aliases=("rope_parameters.rope_theta", "rope_theta"),
            minimum=0,
        ),
    ),
    **{k: BASE_FIELDS[k] for k in ("base.rope_scaling", "base.rope_parameters", "base.dtype")},
    **field_table(
        Field("moe.ffn_config", "ffn_config", "object", default=None, nullable=True),
        size("moe.num_experts", "ffn_config.moe_num_experts"),
        size("moe.num_experts_per_tok", "ffn_config.moe_top_k"),
        size("moe.expert_intermediate_size", "ffn_config.ffn_hidden_size"),
        Field(
            "moe.moe_normalize_expert_weights",
            "ffn_config.moe_normalize_expert_weights",
            "float",
            default=1.0,
            nullable=True,
            minimum=0,
        ),
    ),
}


def parse(reader: Reader) -> Parsed:
    # Type-check the sub-config objects first, so a non-object fails naming the object.
    reader.get("base.attn_config")
    reader.get("moe.ffn_config")
    if reader.get("base.tie_word_embeddings"):
        raise reader.invalid("tie_word_embeddings", "DBRX does not support tied embeddings")
    num_experts = reader.get("moe.num_experts")
    p_norm = reader.get("moe.moe_normalize_expert_weights")
    if p_norm is not None and p_norm != 1:
        reader.warnings.append(
            f"ffn_config.moe_normalize_expert_weights is {p_norm:g}: the top-k weights are divided "
            f"by their {p_norm:g}-norm, so they do not sum to one"
        )
    moe = MoeConfig(
        num_experts=num_experts,
        num_experts_per_tok=read_top_k(reader, num_experts),
        expert_intermediate_size=reader.get("moe.expert_intermediate_size"),
        moe_layers=tuple(range(reader.get("base.num_hidden_layers"))),
        # DbrxFFN: softmax over all experts, top-k, then divide by the p-norm of the k weights.
        norm_topk_prob=p_norm == 1,
        scoring_func="softmax",
    )
    base = read_base(reader, intermediate_size=None, qkv_bias=False, output_bias=False)
    return Parsed(base=replace(base, rms_norm_eps=LAYER_NORM_EPS), moe=moe)


DBRX = Family(
    model_type="dbrx",
    architectures=("DbrxForCausalLM",),
    fields=FIELDS,
    parse=parse,
    summary="DBRX: every layer MoE, nested attn_config/ffn_config, fused Wqkv, kv_n_heads",
)
