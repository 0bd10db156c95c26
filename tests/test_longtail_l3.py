"""More long-tail MoE families: exact against transformers and readable through the CLI.

Each case is transformers' own default config for the model type (what `tests/coverage.py`
builds), with keys written over it where a case needs another path through the adapter; the
source of each config is said next to it. The oracle is the transformers model on the meta
device (tests/oracle.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from moecfg.families import parse_config
from moecfg.loading.files import RawConfig
from moecfg.metrics import count_params
from tests.family_cases import case_configs, case_tests, parse_error

pytestmark = pytest.mark.oracle

#: case → (model_type, keys written over transformers' default config, where they come from).
CASES: dict[str, tuple[str, dict[str, Any], str]] = {
    "minimax_m3_vl_text": (
        "minimax_m3_vl_text",
        {},
        "transformers default (128 experts, 60 layers)",
    ),
    "minimax_m3_vl_text-listed": (
        "minimax_m3_vl_text",
        {
            "num_hidden_layers": 4,
            "mlp_layer_types": ["dense", "sparse", "sparse", "dense"],
            "layer_types": [
                "full_attention",
                "minimax_m3_sparse",
                "minimax_m3_sparse",
                "full_attention",
            ],
            "index_n_heads": 8,
        },
        "transformers default, 4 layers: dense and sparse MLPs, indexers on the sparse layers",
    ),
    "minimax_m3_vl_text-remote-keys": (
        "minimax_m3_vl_text",
        {
            "num_hidden_layers": 3,
            "mlp_layer_types": None,
            "layer_types": None,
            "index_n_heads": None,
            "index_head_dim": None,
            "moe_layer_freq": [0, 1, 1],
            "sparse_attention_config": {
                "sparse_attention_freq": [1, 0, 1],
                "sparse_num_index_heads": 2,
                "sparse_index_dim": 64,
            },
        },
        "transformers default, 3 layers scheduled by the remote-code keys a released config uses",
    ),
    "hy_v4": ("hy_v4", {}, "transformers default (256 experts, 34 layers, 4 residual streams)"),
    "hy_v4-listed": (
        "hy_v4",
        {
            "num_hidden_layers": 4,
            "mlp_layer_types": ["sparse", "dense", "sparse", "sparse"],
            "indexer_types": ["full", "shared", "full", "shared"],
            "layer_types": None,
            "hc_mult": 2,
            "attention_bias": True,
        },
        "transformers default, 4 layers, listed MLP and indexer kinds, 2 streams, biased attention",
    ),
    "longcat_flash": (
        "longcat_flash",
        {},
        "transformers default, which has LongCat-Flash's dimensions (28 layers, 512 experts + 256 "
        "zero experts, top-12); see test_longcat_flash_counts_zero_experts_as_transformers_does",
    ),
    "longcat_flash-num_hidden_layers": (
        "longcat_flash",
        {
            "num_layers": 2,
            "num_hidden_layers": 7,
            "router_bias": True,
            "attention_bias": True,
            "zero_expert_num": 0,
            "n_routed_experts": 16,
            "moe_topk": 4,
        },
        "transformers default shrunk by hand: num_hidden_layers 7 decides 3 layers, no zero "
        "experts, biased router and attention",
    ),
    "longcat_flash-small": (
        "longcat_flash",
        {"num_layers": 3, "zero_expert_num": 8, "n_routed_experts": 16, "moe_topk": 4},
        "transformers default shrunk by hand: 3 layers, 16 experts + 8 zero experts",
    ),
}


case_config = case_configs(CASES, none_means_absent=True)
test_counts_match_transformers, test_inspect_in_both_formats = case_tests(CASES, case_config)


def test_minimax_m3_names_an_unknown_attention_kind() -> None:
    config = {
        **case_config("minimax_m3_vl_text-listed"),
        "layer_types": ["full_attention"] * 3 + ["linear"],
    }
    assert parse_error(config) == (
        "invalid value for 'layer_types[3]': "
        '"linear" is not one of "full_attention", "minimax_m3_sparse"'
    )


def test_minimax_m3_checks_the_remote_schedule_length() -> None:
    config = {**case_config("minimax_m3_vl_text-remote-keys"), "moe_layer_freq": [1, 1]}
    assert (
        parse_error(config)
        == "invalid value for 'moe_layer_freq': lists 2 layers but num_hidden_layers is 3"
    )


def test_longcat_flash_counts_zero_experts_as_transformers_does() -> None:
    """transformers' model holds gate/up weights for every zero expert; without them the default
    config (LongCat-Flash's dimensions) is the published 560B model."""
    config = parse_config(RawConfig(source="test", data=case_config("longcat_flash")))
    counts = count_params(config)
    phantom = 256 * 2 * 6144 * 2048 * 28
    assert config.warnings == (
        f"transformers allocates gate/up weights for the 256 zero experts too ({phantom:,} "
        "parameters in all, counted here) that a checkpoint does not store; active assumes all "
        "12 picks are routed experts, the most a token can use",
    )
    assert round((counts.total - phantom) / 1e9) == 561
    assert config.base.num_hidden_layers == 56
    assert config.provenance["base.num_hidden_layers"] == "derived"


def test_longcat_flash_refuses_an_inconsistent_qk_head_dim() -> None:
    config = {**case_config("longcat_flash-small"), "qk_head_dim": 128}
    assert parse_error(config) == (
        "invalid value for 'qk_head_dim': 128 is not qk_nope_head_dim + qk_rope_head_dim (192)"
    )


def test_hy_v4_names_an_unknown_indexer_kind() -> None:
    config = {**case_config("hy_v4-listed"), "indexer_types": ["full", "shared", "full", "none"]}
    assert parse_error(config) == (
        "invalid value for 'indexer_types[3]': \"none\" is not one of full, shared"
    )
