"""Inkling and Inkling 2 text decoders: exact against transformers and readable through the CLI.

Each case is transformers' own default config for the model type (what `tests/coverage.py`
builds; the released checkpoints' text dimensions are not published beside them, so no case
claims a real model's size), with keys written over it where a case needs another path
through the adapter; the source of each config is said next to it. The oracle is the
transformers model on the meta device (tests/oracle.py); the KV-cache test runs a tiny model
on the CPU and measures the cache transformers fills.
"""

from __future__ import annotations

from typing import Any

import pytest

from moecfg.metrics import count_params, kv_cache
from moecfg.model import FULL_ATTENTION, SLIDING_ATTENTION
from tests.family_cases import case_configs, case_tests, parse, parse_error
from tests.oracle import classify, require_oracle

pytestmark = pytest.mark.oracle

#: case → (model_type, keys written over transformers' default config, where they come from).
CASES: dict[str, tuple[str, dict[str, Any], str]] = {
    "inkling": (
        "inkling_text",
        {},
        "transformers default (66 layers, every sixth full; 256 experts, top-6, 2 shared)",
    ),
    "inkling-mixed": (
        "inkling_text",
        {
            "num_hidden_layers": 6,
            "local_layer_ids": [1, 2, 4],
            "mlp_layer_types": ["dense", "sparse", "sparse", "dense", "sparse", "sparse"],
            "swa_num_attention_heads": 32,
            "swa_num_key_value_heads": 4,
            "swa_head_dim": 64,
            "sliding_window_size": 256,
            "rel_extent": 2048,
            "d_rel": 8,
            "conv_kernel_size": 3,
            "n_shared_experts": 1,
            "n_routed_experts": 64,
            "layer_types": None,
        },
        "transformers default, 6 layers: sliding layers from local_layer_ids with their own "
        "heads (32 of 64, 4 KV) and head size, dense layers from mlp_layer_types, 1 shared "
        "expert, other relative-logit and convolution sizes",
    ),
    "inkling-dense-width": (
        "inkling_text",
        {
            "num_hidden_layers": 4,
            "dense_mlp_idx": 1,
            "intermediate_size": 1024,
            "dense_intermediate_size": 8192,
            "mlp_layer_types": None,
            "layer_types": None,
        },
        "transformers default, 4 layers, the first dense (dense_mlp_idx); a checkpoint-style "
        "dense_intermediate_size, which makes intermediate_size the experts' width",
    ),
    "inkling2": (
        "inkling2_text",
        {},
        "transformers default (48 layers, every sixth full; 384 experts, top-8)",
    ),
    "inkling2-listed": (
        "inkling2_text",
        {
            "num_hidden_layers": 5,
            "layer_types": ["hybrid", "hybrid_sliding", "hybrid", "hybrid_sliding", "hybrid"],
            "swa_num_attention_heads": 24,
            "swa_num_key_value_heads": 4,
            "swa_head_dim": 64,
            "intermediate_size": 1024,
            "moe_intermediate_size": None,
            "routed_scaling_factor": 2.0,
            "route_scale": None,
        },
        "transformers default, 5 layers listed with full attention on layer 0 (no attention "
        "queries there), sliding layers with 24 heads of 64 and 4 KV heads, the experts' width "
        "and scale under their aliases",
    ),
}


case_config = case_configs(CASES, none_means_absent=True)
test_counts_match_transformers, test_inspect_in_both_formats = case_tests(CASES, case_config)


def test_inkling_shared_experts_are_shared_and_always_active() -> None:
    """The 3-D shared-expert tensors are shared experts, not routed ones, in the oracle too, and
    every token uses them: active differs from total by the unused routed experts only."""
    for tensor in ("gate_proj", "up_proj", "down_proj"):
        assert classify(f"model.layers.0.mlp.shared_experts.{tensor}") == "shared_experts"
    assert classify("model.layers.0.mlp.experts.gate_up_proj") == "routed_experts"
    assert classify("model.layers.0.mlp.gate.global_scale") == "router"
    assert classify("model.embed_tokens.embed_norm.weight") == "norms"

    config = parse(case_config("inkling"))
    counts = count_params(config)
    h, width = 6144, 3072
    assert counts.parts["shared_experts"] == 66 * 2 * 3 * h * width
    unused = 66 * (256 - 6) * 3 * h * width
    assert counts.total - counts.active == unused


def test_inkling_router_scores_routed_and_shared_experts() -> None:
    moe = parse(case_config("inkling")).moe
    assert (moe.router_outputs, moe.num_shared_experts, moe.router_output_scale) == (258, 2, True)


def test_inkling_lm_head_is_never_tied() -> None:
    config = parse({**case_config("inkling"), "tie_word_embeddings": True})
    assert config.base.tie_word_embeddings is False
    assert config.warnings == (
        "tie_word_embeddings is true, but transformers never ties this family's lm_head to the "
        "embedding; both are counted",
    )


def test_inkling_mtp_layers_are_not_counted_and_said_so() -> None:
    config = parse({**case_config("inkling"), "num_mtp_layers": 1})
    assert config.warnings == (
        "num_mtp_layers: transformers does not build Inkling's multi-token-prediction layers, "
        "and they are not counted",
    )


def test_inkling_sliding_layers_use_the_swa_shapes() -> None:
    base = parse(case_config("inkling-mixed")).base
    assert base.layer_types == (
        FULL_ATTENTION,
        SLIDING_ATTENTION,
        SLIDING_ATTENTION,
        FULL_ATTENTION,
        SLIDING_ATTENTION,
        FULL_ATTENTION,
    )
    shapes = {
        kind: (shape.num_attention_heads, shape.num_key_value_heads, shape.head_dim)
        for kind in (FULL_ATTENTION, SLIDING_ATTENTION)
        for shape in [base.of_kind(kind)]
    }
    assert shapes == {FULL_ATTENTION: (64, 8, 128), SLIDING_ATTENTION: (32, 4, 64)}
    assert base.rope_theta is None


#: An Inkling small enough to run: 4 KV heads of 8 on full layers, 2 of 4 on sliding ones.
TINY_INKLING = {
    "model_type": "inkling_text",
    "vocab_size": 32,
    "hidden_size": 32,
    "intermediate_size": 16,
    "moe_intermediate_size": 8,
    "num_hidden_layers": 3,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "head_dim": 8,
    "swa_num_attention_heads": 4,
    "swa_num_key_value_heads": 2,
    "swa_head_dim": 4,
    "n_routed_experts": 4,
    "n_shared_experts": 1,
    "num_experts_per_tok": 2,
    "sliding_window_size": 16,
    "rel_extent": 16,
    "layer_types": ["hybrid", "hybrid_sliding", "hybrid_sliding"],
}


def test_inkling_kv_cache_follows_each_kind_shapes() -> None:
    """Full layers cache 4 KV heads of 8, sliding layers 2 of 4, as transformers' cache does."""
    torch, transformers = require_oracle()
    hf_config = transformers.AutoConfig.for_model(**TINY_INKLING)
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(hf_config).eval()
    tokens = 3
    with torch.no_grad():
        out = model(torch.arange(tokens).unsqueeze(0), use_cache=True)
    measured = [
        2 * (layer.keys.numel() + layer.values.numel()) // tokens
        for layer in out.past_key_values.layers
    ]
    groups = {group.kind: group for group in kv_cache(parse(TINY_INKLING))}
    assert measured == [2 * 2 * 4 * 8, 2 * 2 * 2 * 4, 2 * 2 * 2 * 4]
    assert groups[FULL_ATTENTION].bytes_per_token == measured[0]
    assert groups[SLIDING_ATTENTION].bytes_per_token == measured[1] + measured[2]
    assert groups[SLIDING_ATTENTION].window == 16


def test_names_an_unknown_layer_kind() -> None:
    config = {**TINY_INKLING, "layer_types": ["hybrid", "full_attention", "hybrid"]}
    assert parse_error(config) == (
        "invalid value for 'layer_types[1]': "
        '"full_attention" is not one of "hybrid", "hybrid_sliding"'
    )


def test_names_a_layer_list_of_the_wrong_length() -> None:
    config = {**TINY_INKLING, "layer_types": ["hybrid", "hybrid_sliding"]}
    assert parse_error(config) == (
        "invalid value for 'layer_types': lists 2 layers but num_hidden_layers is 3"
    )


def test_names_sliding_heads_that_kv_heads_do_not_divide() -> None:
    config = {**TINY_INKLING, "swa_num_key_value_heads": 3}
    assert parse_error(config) == (
        "invalid value for 'swa_num_key_value_heads': swa_num_attention_heads (4) is not "
        "divisible by swa_num_key_value_heads (3)"
    )


def test_names_an_unknown_mlp_kind() -> None:
    config = {**TINY_INKLING, "mlp_layer_types": ["dense", "moe", "sparse"]}
    assert parse_error(config) == (
        "invalid value for 'mlp_layer_types[1]': \"moe\" is not one of dense, sparse"
    )


def test_inkling2_attention_residuals_split_qkv_on_full_layers() -> None:
    base = parse(case_config("inkling2-listed")).base
    assert base.attention_residuals is not None
    assert base.attention_residuals.split_qkv_kinds == (FULL_ATTENTION,)
    assert base.short_conv is not None
    assert base.short_conv.dynamic_kinds == (FULL_ATTENTION,)


def test_inkling2_names_conflicting_scale_aliases() -> None:
    config = {**case_config("inkling2"), "routed_scaling_factor": 2.0}
    assert parse_error(config) == (
        "conflicting values for 'route_scale' (a number (8.0)) and its alias "
        "'routed_scaling_factor' (a number (2.0))"
    )
