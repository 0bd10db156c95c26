"""More long-tail MoE families (hybrid layer lists, DeepSeek variants): exact against transformers.

Each case is transformers' own default config for the model type (what `tests/coverage.py`
builds), with keys written over it where a case needs another path; the source of each config
is said next to it. The oracle is the transformers model on the meta device.
"""

from __future__ import annotations

from typing import Any

import pytest

from moecfg.families import parse_config
from moecfg.loading.files import RawConfig
from moecfg.metrics import kv_cache
from moecfg.model import FULL_ATTENTION, MAMBA, NO_MIXER, SLIDING_ATTENTION
from tests.family_cases import case_configs, case_tests, parse_error

pytestmark = pytest.mark.oracle

#: case → (model_type, keys written over transformers' default config, where they come from).
CASES: dict[str, tuple[str, dict[str, Any], str]] = {
    "nemotron_h": ("nemotron_h", {}, "transformers default (Mamba, MoE, attention, MLP layers)"),
    "nemotron_h-pattern-latent": (
        "nemotron_h",
        {
            "layers_block_type": None,
            "hybrid_override_pattern": "MEM*EM-E",
            "num_hidden_layers": 8,
            "hidden_size": 1024,
            "num_attention_heads": 16,
            "num_key_value_heads": 2,
            "head_dim": 64,
            "mamba_num_heads": 32,
            "mamba_head_dim": 32,
            "n_groups": 4,
            "moe_latent_size": 256,
            "n_routed_experts": 16,
            "num_experts_per_tok": 4,
            "moe_intermediate_size": 384,
            "moe_shared_expert_intermediate_size": 512,
            "intermediate_size": 2048,
            "mlp_bias": True,
            "use_bias": True,
            "use_conv_bias": False,
            "n_group": 4,
            "topk_group": 2,
        },
        "transformers default reshaped by hand (dimensions chosen for the test): the remote-code "
        "pattern, latent experts, biased MLPs and Mamba projections",
    ),
    "nemotron_h-legacy-names": (
        "nemotron_h",
        {"layers_block_type": ["mamba", "attention", "moe", "moe", "mamba"], "tie_word_embeddings": True},
        "transformers default with the legacy block names, no dense MLP layer, tie asked for",
    ),
    "axk1": ("axk1", {}, "transformers default (61 layers, 192 experts)"),
    "axk1-layer-freq": (
        "axk1",
        {"num_hidden_layers": 7, "mlp_layer_types": None, "first_k_dense_replace": 2, "moe_layer_freq": 2,
         "attention_bias": True},
        "transformers default, 7 layers, MoE on even layers from 2, biased q_a/kv_a projections",
    ),
    "beam": ("beam", {}, "transformers default (52 layers, 256 experts)"),
    "beam-listed": (
        "beam",
        {"num_hidden_layers": 4, "layer_types": ["full_attention", "sliding_attention", "sliding_attention",
         "full_attention"], "mlp_layer_types": ["dense", "sparse", "dense", "sparse"],
         "tie_word_embeddings": True, "n_group": 1, "topk_group": 1},
        "transformers default, 4 layers with both schedules listed, tied embeddings, one expert group",
    ),
    "bailing_hybrid": ("bailing_hybrid", {}, "transformers default (42 layers, 512 experts)"),
    "bailing_hybrid-derived-linear": (
        "bailing_hybrid",
        {"num_hidden_layers": 5, "layer_types": None, "mlp_layer_types": None, "layer_group_size": 2,
         "first_k_dense_replace": 1, "attention_bias": True},
        "transformers default, 5 layers, both schedules derived, biased MLA",
    ),
}


case_config = case_configs(CASES, none_means_absent=False)
test_counts_match_transformers, test_inspect_in_both_formats = case_tests(CASES, case_config)


# --- nemotron_h ---


def test_nemotron_h_layers_and_kv_cache() -> None:
    """MLP and MoE layers have no mixer and keep no cache; mixer layers have no MLP."""
    config = parse_config(RawConfig(source="test", data=case_config("nemotron_h-pattern-latent")))
    assert config.base.num_hidden_layers == 8
    assert config.base.layer_types == (
        MAMBA, NO_MIXER, MAMBA, FULL_ATTENTION, NO_MIXER, MAMBA, NO_MIXER, NO_MIXER,
    )
    assert config.base.mlp_free_layers == (0, 2, 3, 5)
    assert config.moe is not None and config.moe.moe_layers == (1, 4, 7)
    assert config.dense_layers == (6,)
    groups = {group.kind: group for group in kv_cache(config)}
    assert set(groups) == {MAMBA, FULL_ATTENTION}
    assert groups[FULL_ATTENTION].layers == 1
    assert groups[FULL_ATTENTION].bytes_per_token == 2 * 2 * 64 * 2
    # Mamba-2 state per layer: conv [1024 + 2·4·128, 4] and SSM [32·32, 128] values, bf16.
    assert groups[MAMBA].layers == 3
    assert groups[MAMBA].state_bytes == 3 * ((1024 + 2 * 4 * 128) * 4 + 1024 * 128) * 2


def test_nemotron_h_warns_about_ignored_keys() -> None:
    config = {**case_config("nemotron_h"), "num_hidden_layers": 52, "num_nextn_predict_layers": 1}
    assert parse_config(RawConfig(source="test", data=config)).warnings == (
        "num_hidden_layers (52) is ignored by transformers' nemotron_h: the layer list has 4 layers",
        "num_nextn_predict_layers (1): the checkpoint's multi-token-prediction layers are not "
        "built by transformers' nemotron_h and not counted",
    )


def test_nemotron_h_never_ties_the_output_head() -> None:
    config = parse_config(RawConfig(source="test", data=case_config("nemotron_h-legacy-names")))
    assert config.base.tie_word_embeddings is False
    assert config.warnings == (
        "tie_word_embeddings true is ignored by transformers' nemotron_h: lm_head has its own weights",
    )


def test_nemotron_h_errors() -> None:
    base = case_config("nemotron_h")
    assert parse_error({**base, "layers_block_type": ["mamba", "ssm"]}) == (
        "invalid value for 'layers_block_type[1]': \"ssm\" is not one of \"linear_attention\", "
        '"mamba", "full_attention", "attention", "moe", "mlp"'
    )
    assert parse_error({**base, "layers_block_type": None, "hybrid_override_pattern": "ME*X"}) == (
        "invalid value for 'hybrid_override_pattern': \"X\" at position 3 is not one of M, *, E, -"
    )
    assert parse_error({**base, "layers_block_type": []}) == (
        "invalid value for 'layers_block_type': lists no layers"
    )
    assert parse_error({**base, "mamba_num_heads": 100, "n_groups": 8}) == (
        "invalid value for 'n_groups': 8 does not divide mamba_num_heads (100)"
    )


# --- axk1 ---


def test_axk1_moe_layers_from_first_dense_and_frequency() -> None:
    config = parse_config(RawConfig(source="test", data=case_config("axk1-layer-freq")))
    assert config.moe is not None and config.moe.moe_layers == (2, 4, 6)
    assert config.moe.output_norm


def test_axk1_names_a_bad_layer_kind() -> None:
    config = {**case_config("axk1"), "num_hidden_layers": 2, "mlp_layer_types": ["dense", "moe"]}
    assert parse_error(config) == "invalid value for 'mlp_layer_types[1]': \"moe\" is not one of dense, sparse"
    assert parse_error({**case_config("axk1"), "q_lora_rank": None}) == (
        "wrong type for 'q_lora_rank': expected an integer, got null"
    )


# --- beam ---


def test_beam_default_schedules() -> None:
    config = parse_config(RawConfig(source="test", data={**case_config("beam"), "num_hidden_layers": 8,
                                                         "layer_types": None, "mlp_layer_types": None}))
    assert config.base.layer_types == (SLIDING_ATTENTION,) * 5 + (FULL_ATTENTION, SLIDING_ATTENTION, FULL_ATTENTION)
    assert config.moe is not None and config.moe.moe_layers == (3, 4, 5, 6, 7)


def test_beam_refuses_biased_attention() -> None:
    assert parse_error({**case_config("beam"), "attention_bias": True}) == (
        "invalid value for 'attention_bias': true is not supported for beam (its output gate has no bias)"
    )
