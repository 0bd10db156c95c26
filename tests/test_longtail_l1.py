"""Kolibri-1, Flint, Laguna, Doge, Gemma 4: exact against transformers, readable through the CLI.

Each case is transformers' own default config for the model type (what `tests/coverage.py`
builds) with keys written over it; where the dimensions come from is said next to each case.
No released config.json of these models is in sample_configs, so none claims a released
model's dimensions beyond what transformers' defaults carry. The oracle is the transformers
model on the meta device.
"""

from __future__ import annotations

from typing import Any

import pytest

from moecfg.families import parse_config
from moecfg.loading.files import RawConfig
from tests.family_cases import case_configs, case_tests, parse_error

pytestmark = pytest.mark.oracle

#: case → (model_type, keys written over transformers' default config, where they come from).
CASES: dict[str, tuple[str, dict[str, Any], str]] = {
    "kolibri1": ("kolibri1", {}, "transformers default (384 experts, 50 layers)"),
    "kolibri1-listed": (
        "kolibri1",
        {
            "num_hidden_layers": 3,
            "norm_topk_prob": True,
            "shared_expert_intermediate_size": 0,
            "layer_types": ["full_attention", "sliding_attention", "full_attention"],
        },
        "transformers default, 3 layers listed, no shared expert, renormalised top-k",
    ),
    "flint": ("flint", {}, "transformers default (256 experts, 49 layers, 2 dense)"),
    "flint-schedule": (
        "flint",
        {
            "num_hidden_layers": 6,
            "mlp_only_layers": None,
            "decoder_sparse_step": 2,
            "attention_bias": True,
            "layer_types": None,
        },
        "transformers default, 6 layers, every 2nd sparse, dense [0, 1] from null, biased q/k/v/o",
    ),
    "laguna": ("laguna", {}, "transformers default (256 experts, 40 layers, first dense)"),
    "laguna-per-layer": (
        "laguna",
        {
            "num_hidden_layers": 4,
            "num_attention_heads_per_layer": [48, 64, 32, 48],
            "gating": "per-element",
            "attention_bias": True,
            "mlp_layer_types": ["dense", "sparse", "dense", "sparse"],
            "layer_types": [
                "full_attention",
                "sliding_attention",
                "sliding_attention",
                "full_attention",
            ],
        },
        "transformers default, 4 layers with their own head counts, per-channel gate, biases",
    ),
    "doge": ("doge", {}, "transformers default = Doge-320M shape (dense: is_moe false)"),
    "doge-cdmoe": (
        "doge",
        {"is_moe": True, "num_hidden_layers": 4},
        "transformers default with is_moe, 4 layers (16384 one-neuron experts, top 64)",
    ),
    "doge-cdmoe-biased": (
        "doge",
        {
            "is_moe": True,
            "num_hidden_layers": 3,
            "num_experts": 1024,
            "num_experts_per_tok": 8,
            "num_key_value_heads": 4,
            "attention_bias": True,
            "mlp_bias": True,
        },
        "transformers default with is_moe, 3 layers, 1024 experts, GQA, biased projections",
    ),
}


case_config = case_configs(CASES, none_means_absent=False)
test_counts_match_transformers, test_inspect_in_both_formats = case_tests(CASES, case_config)


def test_kolibri1_layer_types_must_list_every_layer() -> None:
    config = {**case_config("kolibri1"), "layer_types": ["full_attention"]}
    assert parse_error(config) == (
        "invalid value for 'layer_types': lists 1 layers but num_hidden_layers is 50"
    )


def test_flint_top_k_cannot_exceed_the_experts() -> None:
    config = {**case_config("flint"), "num_experts_per_tok": 300}
    assert parse_error(config) == (
        "invalid value for 'num_experts_per_tok': 300 exceeds the number of experts (256)"
    )


def test_laguna_heads_per_layer_must_list_every_layer() -> None:
    config = {**case_config("laguna"), "num_attention_heads_per_layer": [48, 48]}
    assert parse_error(config) == (
        "invalid value for 'num_attention_heads_per_layer': lists 2 layers but "
        "num_hidden_layers is 40"
    )


def test_laguna_names_an_unknown_gating() -> None:
    config = {**case_config("laguna"), "gating": "per-token"}
    assert parse_error(config) == (
        'invalid value for \'gating\': "per-token" is not one of true, false, "per-head", '
        '"per-element"'
    )
    config = {**case_config("laguna"), "gating": 1}
    assert parse_error(config) == (
        "wrong type for 'gating': expected a boolean or a string, got an integer (1)"
    )


def test_doge_warns_when_its_router_cannot_reach_every_expert() -> None:
    config = {**case_config("doge-cdmoe"), "num_experts": 1000, "num_experts_per_tok": 8}
    warnings = parse_config(RawConfig(source="test", data=config)).warnings
    assert warnings == (
        "num_experts (1000) is not a perfect square: Doge's product-key router reaches only "
        "31² = 961 of them",
    )


def test_doge_is_dense_unless_is_moe() -> None:
    config = parse_config(RawConfig(source="test", data=case_config("doge")))
    assert config.moe is None
