"""The long-tail MoE families: exact against transformers and readable through the CLI.

Each case is transformers' own default config for the model type (what `tests/coverage.py`
builds), with the released model's dimensions written over it where they differ; the source
of each config is said next to it. The oracle is the transformers model on the meta device.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from moecfg.errors import ConfigError
from moecfg.families import parse_config
from moecfg.loading.files import RawConfig
from tests.family_cases import case_configs, case_tests

pytestmark = pytest.mark.oracle

#: case → (model_type, keys written over transformers' default config, where they come from).
CASES: dict[str, tuple[str, dict[str, Any], str]] = {
    "flex_olmo": ("flex_olmo", {}, "transformers default = FlexOlmo-7x7B (7 experts of 11008)"),
    "minimax_m2": ("minimax_m2", {}, "transformers default = MiniMax-M2 (256 experts, 62 layers)"),
    "granitemoeshared": ("granitemoeshared", {}, "transformers default (no shared MLP)"),
    "granitemoeshared-shared": (
        "granitemoeshared",
        {
            "hidden_size": 1536,
            "num_hidden_layers": 32,
            "num_attention_heads": 24,
            "num_key_value_heads": 8,
            "intermediate_size": 512,
            "num_local_experts": 32,
            "num_experts_per_tok": 8,
            "shared_intermediate_size": 1024,
            "vocab_size": 49155,
            "tie_word_embeddings": True,
        },
        "transformers default reshaped by hand (dimensions chosen for the test) with a shared MLP",
    ),
    "granitemoe_swa": ("granitemoe_swa", {}, "transformers default"),
    "granitemoe_swa-listed": (
        "granitemoe_swa",
        {
            "num_hidden_layers": 3,
            "shared_intermediate_size": 2048,
            "layer_rope_theta": None,
            "layer_types": ["sliding_attention", "full_attention", "sliding_attention"],
        },
        "transformers default, 3 layers listed, with a shared MLP",
    ),
    "solar_open": (
        "solar_open",
        {},
        "transformers default = Solar Open 100B (128 experts, 48 layers)",
    ),
    "exaone_moe": ("exaone_moe", {}, "transformers default"),
    "exaone_moe-mlp_layer_types": (
        "exaone_moe",
        {
            "num_hidden_layers": 6,
            "mlp_layer_types": ["dense", "sparse", "sparse", "dense", "sparse", "sparse"],
            "layer_types": None,
            "sliding_window_pattern": 3,
        },
        "transformers default, 6 layers with dense layers 0 and 3 listed",
    ),
    "glm4_moe_lite": (
        "glm4_moe_lite",
        {},
        "transformers default = GLM-4.7-Flash (64 experts, 47 layers)",
    ),
    "glm4_moe_lite-plain-q": (
        "glm4_moe_lite",
        {
            "q_lora_rank": None,
            "attention_bias": True,
            "num_hidden_layers": 4,
            "mlp_layer_types": ["dense", "dense", "sparse", "sparse"],
        },
        "transformers default, 4 layers, unfactored q_proj, biased q_a/kv_a",
    ),
    "afmoe": ("afmoe", {}, "transformers default (64 experts, 2 shared, 32 layers)"),
    "afmoe-listed": (
        "afmoe",
        {
            "num_hidden_layers": 5,
            "num_dense_layers": 2,
            "num_key_value_heads": 4,
            "layer_types": [
                "sliding_attention",
                "full_attention",
                "sliding_attention",
                "sliding_attention",
                "full_attention",
            ],
        },
        "transformers default, 5 layers (2 dense) listed, GQA",
    ),
    "cohere2_moe": ("cohere2_moe", {}, "transformers default (8 experts, tied embeddings)"),
    "cohere2_moe-dense-prefix": (
        "cohere2_moe",
        {
            "num_hidden_layers": 5,
            "layer_types": None,
            "mlp_layer_types": None,
            "first_k_dense_replace": 2,
            "prefix_dense_intermediate_size": 4096,
            "num_shared_experts": 1,
            "expert_selection_fn": "sigmoid",
            "tie_word_embeddings": False,
        },
        "transformers default, 5 layers, 2 dense, a shared expert, sigmoid selection, untied",
    ),
    "deepseek_v32": (
        "deepseek_v32",
        {},
        "transformers default = DeepSeek-V3.2 (256 experts, 61 layers)",
    ),
    "glm_moe_dsa": ("glm_moe_dsa", {}, "transformers default = GLM-5 (256 experts, 78 layers)"),
    "glm_moe_dsa-index_topk_freq": (
        "glm_moe_dsa",
        {
            "num_hidden_layers": 7,
            "mlp_layer_types": None,
            "layer_types": None,
            "indexer_types": None,
            "index_topk_freq": 3,
            "index_skip_topk_offset": 1,
        },
        "transformers default, 7 layers, an indexer every third layer",
    ),
    "glm_moe_dsa-indexer_types": (
        "glm_moe_dsa",
        {
            "num_hidden_layers": 4,
            "mlp_layer_types": None,
            "layer_types": None,
            "first_k_dense_replace": 1,
            "indexer_types": ["full", "shared", "shared", "full"],
        },
        "transformers default, 4 layers, indexers listed",
    ),
    "hy_v3": ("hy_v3", {}, "transformers default (192 experts, 80 layers)"),
    "hy_v3-biased": (
        "hy_v3",
        {
            "num_hidden_layers": 3,
            "mlp_layer_types": ["sparse", "dense", "sparse"],
            "attention_bias": True,
            "mlp_bias": True,
        },
        "transformers default, 3 layers, biased attention and MLPs",
    ),
    "mellum": ("mellum", {}, "transformers default"),
    "mellum-listed": (
        "mellum",
        {
            "num_hidden_layers": 3,
            "attention_bias": True,
            "mlp_layer_types": ["dense", "sparse", "sparse"],
            "layer_types": ["sliding_attention", "full_attention", "sliding_attention"],
        },
        "transformers default, 3 layers listed, biased attention",
    ),
    "qwen3_5_moe_text": ("qwen3_5_moe_text", {}, "transformers default"),
    "qwen3_5_moe_text-ignored-keys": (
        "qwen3_5_moe_text",
        {"mlp_only_layers": [0, 1], "decoder_sparse_step": 2, "intermediate_size": 4096},
        "transformers default plus Qwen3-Next schedule keys Qwen3.5 ignores",
    ),
    "qwen3_5_moe-outer-tie": (
        "qwen3_5_moe",
        {"tie_word_embeddings": True},
        "transformers default (text_config nested); the outer tie does not tie the causal LM",
    ),
}


case_config = case_configs(CASES, none_means_absent=False)
test_counts_match_transformers, test_inspect_in_both_formats = case_tests(CASES, case_config)


def test_qwen3_5_says_which_keys_it_ignores(tmp_path: Path) -> None:
    config = case_config("qwen3_5_moe_text-ignored-keys")
    warnings = parse_config(RawConfig(source="test", data=config)).warnings
    assert warnings == (
        "decoder_sparse_step is ignored by transformers' Qwen3.5-MoE",
        "intermediate_size is ignored by transformers' Qwen3.5-MoE",
        "mlp_only_layers is ignored by transformers' Qwen3.5-MoE",
    )


def test_cohere2_moe_dense_layers_need_their_width() -> None:
    config = {**case_config("cohere2_moe-dense-prefix"), "prefix_dense_intermediate_size": None}
    with pytest.raises(ConfigError) as error:
        parse_config(RawConfig(source="test", data=config))
    assert error.value.message == (
        "invalid value for 'prefix_dense_intermediate_size': must be set when some layer is dense"
    )


def test_cohere2_moe_names_an_unknown_selection_function() -> None:
    config = {**case_config("cohere2_moe"), "expert_selection_fn": "sparsemax"}
    with pytest.raises(ConfigError) as error:
        parse_config(RawConfig(source="test", data=config))
    assert error.value.message == (
        "invalid value for 'expert_selection_fn': \"sparsemax\" is not one of softmax, sigmoid"
    )


def test_afmoe_refuses_biased_attention() -> None:
    config = {**case_config("afmoe"), "attention_bias": True}
    with pytest.raises(ConfigError) as error:
        parse_config(RawConfig(source="test", data=config))
    assert error.value.message == (
        "invalid value for 'attention_bias': true is not supported for afmoe "
        "(its output gate has no bias)"
    )


def parse_error(case: str, **changes: Any) -> str:
    config = {**case_config(case), **changes}
    with pytest.raises(ConfigError) as error:
        parse_config(RawConfig(source="test", data=config))
    return error.value.message


def test_mlp_layer_types_words_and_length_are_checked() -> None:
    assert parse_error("exaone_moe-mlp_layer_types", mlp_layer_types=["dense"] * 5 + ["moe"]) == (
        "invalid value for 'mlp_layer_types[5]': \"moe\" is not one of dense, sparse"
    )
    assert parse_error("exaone_moe-mlp_layer_types", mlp_layer_types=["sparse"] * 5) == (
        "invalid value for 'mlp_layer_types': lists 5 layers but num_hidden_layers is 6"
    )


def test_exaone_layer_types_are_checked() -> None:
    assert parse_error("exaone_moe-mlp_layer_types", layer_types=["global"] * 6) == (
        "invalid value for 'layer_types[0]': \"global\" is not one of full_attention, "
        "sliding_attention"
    )


def test_glm_moe_dsa_indexer_types_are_checked() -> None:
    assert parse_error(
        "glm_moe_dsa-indexer_types", indexer_types=["full", "skip", "full", "full"]
    ) == ("invalid value for 'indexer_types[1]': \"skip\" is not one of full, shared")


def test_dsa_families_need_a_query_latent() -> None:
    assert parse_error("deepseek_v32", q_lora_rank=None) == (
        "wrong type for 'q_lora_rank': expected an integer, got null"
    )


def test_grouped_router_is_checked_through_deepseek_reader() -> None:
    assert parse_error("solar_open", n_group=3) == (
        "invalid value for 'n_group': 128 routed experts do not split into 3 equal groups "
        "of at least 2"
    )
