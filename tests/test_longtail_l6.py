"""DeepSeek-V4 and ZAYA: exact against transformers, readable through the CLI, caches measured.

Each case is transformers' own default config for the model type (what `tests/coverage.py`
builds), with keys written over it where a case needs another path through the adapter; the
source of each config is said next to it. The oracle is the transformers model on the meta
device (tests/oracle.py). The KV-cache tests run a tiny model on the CPU and add up what
transformers' cache layers hold after a forward.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from moecfg.metrics import count_params, kv_cache, kv_cache_bytes, kv_cache_bytes_per_token
from moecfg.model import (
    COMPRESSED_SPARSE_ATTENTION,
    HEAVILY_COMPRESSED_ATTENTION,
    SLIDING_ATTENTION,
    HyperConnectionConfig,
)
from tests.conftest import run_cli
from tests.family_cases import case_configs, case_tests, parse, parse_error
from tests.oracle import require_oracle

pytestmark = pytest.mark.oracle

CSA, HCA = COMPRESSED_SPARSE_ATTENTION, HEAVILY_COMPRESSED_ATTENTION

#: case → (model_type, keys written over transformers' default config, where they come from).
CASES: dict[str, tuple[str, dict[str, Any], str]] = {
    "deepseek_v4": (
        "deepseek_v4",
        {},
        "transformers default, whose config class names DeepSeek-V4-Flash-Base (43 layers, "
        "64 heads of 512, 256 experts, top-6)",
    ),
    "deepseek_v4-legacy-keys": (
        "deepseek_v4",
        {
            "num_hidden_layers": 5,
            # Released configs list the MTP layer too: one entry more than num_hidden_layers.
            "layer_types": None,
            "compress_ratios": [0, 4, 128, 4, 0, 4],
            "compress_rates": None,
            "compress_rate_csa": 8,
            "compress_rate_hca": 64,
            "mlp_layer_types": None,
            "num_hash_layers": 1,
            "hc_mult": 2,
            "o_groups": 4,
            "o_lora_rank": 256,
            "index_n_heads": 8,
            "index_head_dim": 64,
            "scoring_func": "sigmoid",
        },
        "transformers default, 5 layers from the legacy compress_ratios (sliding-only layers "
        "included) and compress_rate_csa/hca, 2 hyper-connection streams, 4 output groups",
    ),
    "zaya": (
        "zaya",
        {},
        "transformers default, whose config class names Zyphra/ZAYA1-8B (40 layers, 16 "
        "experts, top-1)",
    ),
    "zaya-sliding-biased": (
        "zaya",
        {
            "num_hidden_layers": 4,
            "layer_types": ["hybrid", "hybrid_sliding", "hybrid_sliding", "hybrid"],
            "sliding_window": 512,
            "attention_bias": True,
            "lm_head_bias": True,
            "tie_word_embeddings": False,
            "cca_time0": 3,
            "cca_time1": 4,
            "router_hidden_size": 128,
            "num_experts": 8,
        },
        "transformers default, 4 layers with sliding ones, biased attention and lm_head, untied "
        "embeddings, 3- and 4-tap convolutions, a 128-wide router MLP over 8 experts",
    ),
}


case_config = case_configs(CASES, none_means_absent=True)
test_counts_match_transformers, test_inspect_in_both_formats = case_tests(CASES, case_config)


def run_tiny(config: dict[str, Any], tokens: int) -> Any:
    """The cache transformers fills running a tiny model of `config` over `tokens` tokens."""
    torch, transformers = require_oracle()
    hf_config = transformers.AutoConfig.for_model(**config)
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(hf_config).eval()
    with torch.no_grad():
        return model(torch.arange(tokens).unsqueeze(0), use_cache=True).past_key_values


def stored_values(*tensors: Any) -> int:
    return sum(t.numel() for t in tensors if t is not None)


# --- DeepSeek-V4 ---


def test_deepseek_v4_reads_the_released_layout() -> None:
    config = parse(case_config("deepseek_v4"))
    kinds = config.base.layer_types
    assert kinds[:4] == (HCA, HCA, HCA, CSA)
    assert (kinds.count(CSA), kinds.count(HCA)) == (20, 23)
    # (2 + 4) · 4 mixes of 4 streams and 3 scales around each block.
    assert config.base.hyper_connections == HyperConnectionConfig(streams=4, mixes=24, scales=3)
    assert config.base.num_key_value_heads == 1
    assert config.moe is not None
    assert (config.moe.scoring_func, config.moe.shared_expert_intermediate_size) == (
        "sqrtsoftplus",
        2048,
    )


def test_deepseek_v4_kv_cache_per_token_by_hand() -> None:
    """43 sliding windows of one 512-wide key that is also the value; 20 compressed-sparse
    layers add a 512 + 128 entry per 4 tokens, 23 heavily-compressed layers 512 per 128."""
    config = parse(case_config("deepseek_v4"))
    groups = {group.kind: group for group in kv_cache(config)}
    assert groups[SLIDING_ATTENTION].bytes_per_token == 43 * 512 * 2
    assert groups[SLIDING_ATTENTION].window == 128
    assert (groups[CSA].bytes_per_entry, groups[CSA].compress_rate) == (20 * 640 * 2, 4)
    assert groups[CSA].bytes_per_token == 20 * 640 * 2 // 4
    assert (groups[HCA].bytes_per_entry, groups[HCA].compress_rate) == (23 * 512 * 2, 128)
    assert groups[HCA].bytes_per_token == 23 * 512 * 2 // 128
    assert kv_cache_bytes_per_token(config) == 44032 + 6400 + 184
    # A million tokens: the windows stay at 128 tokens, the compressed entries grow.
    million = 1_048_576
    expected = (
        44032 * 128
        + million // 4 * 20 * 640 * 2
        + million // 128 * 23 * 512 * 2
        + groups[CSA].state_bytes
        + groups[HCA].state_bytes
    )
    assert kv_cache_bytes(config, million) == expected


#: A DeepSeek-V4 small enough to run: a sliding-only, a compressed-sparse (every 4 tokens) and a
#: heavily-compressed (every 8 tokens) layer, heads of 32, an indexer of 16.
TINY_V4 = {
    "model_type": "deepseek_v4",
    "vocab_size": 64,
    "hidden_size": 64,
    "moe_intermediate_size": 16,
    "num_hidden_layers": 3,
    "num_attention_heads": 4,
    "head_dim": 32,
    "q_lora_rank": 16,
    "o_groups": 2,
    "o_lora_rank": 8,
    "index_n_heads": 2,
    "index_head_dim": 16,
    "index_topk": 4,
    "n_routed_experts": 4,
    "num_experts_per_tok": 2,
    "hc_mult": 2,
    "sliding_window": 64,
    "layer_types": [SLIDING_ATTENTION, CSA, HCA],
    "compress_rates": {CSA: 4, HCA: 8},
    "mlp_layer_types": ["hash_moe", "moe", "moe"],
}


def test_deepseek_v4_kv_cache_is_what_transformers_holds() -> None:
    """23 tokens: within the window, 5 compressed-sparse and 2 heavily-compressed entries, and
    the unfinished windows at their fullest (3 and 7 tokens buffered)."""
    tokens = 23
    cache = run_tiny(TINY_V4, tokens)
    measured = 0
    for layer in cache.layers:
        # Compressed layers alias keys and values; the sliding-only layer stores both.
        measured += stored_values(layer.keys) * (1 if layer.values is layer.keys else 2)
        for states in ("compressed_kv", "buffer_kv", "buffer_gate", "overlap_kv", "overlap_gate"):
            measured += stored_values(*getattr(layer, states, {}).values())
    assert kv_cache_bytes(parse(TINY_V4), tokens) == 2 * measured


def test_deepseek_v4_kv_groups_of_the_tiny_model_by_hand() -> None:
    groups = {group.kind: group for group in kv_cache(parse(TINY_V4))}
    # The sliding-only layer caches its key and its value copy; the others one shared tensor.
    assert groups[SLIDING_ATTENTION].bytes_per_token == (2 * 32 + 32 + 32) * 2
    # Compressor (32) and indexer (16) entries; 3 buffered tokens of kv and gate, 2 · 48 wide;
    # the last window's overlapping half, 4 tokens of kv and gate.
    assert groups[CSA].bytes_per_entry == 48 * 2
    assert groups[CSA].state_bytes == (3 * 2 * 2 * 48 + 2 * 4 * 48) * 2
    assert groups[HCA].bytes_per_entry == 32 * 2
    assert groups[HCA].state_bytes == 7 * 2 * 32 * 2


def test_deepseek_v4_table_shows_compressed_entries_and_state(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(TINY_V4))
    result = run_cli("inspect", str(path))
    assert result.exit_code == 0, result
    assert "(one entry per 4 tokens)" in result.stdout
    assert "(one entry per 8 tokens)" in result.stdout
    assert "compressed_sparse_attention state, 1 layers" in result.stdout


def test_deepseek_v4_warns_where_transformers_ignores_a_key() -> None:
    config = parse(
        {**TINY_V4, "n_shared_experts": 2, "norm_topk_prob": False, "num_key_value_heads": 2}
    )
    assert config.base.num_key_value_heads == 1
    assert config.provenance["base.num_key_value_heads"] == "architecture"
    assert config.warnings == (
        "num_key_value_heads is 2, but transformers' deepseek_v4 attends with one key head "
        "that is also the value; that one is counted",
        "n_shared_experts is 2, but transformers' deepseek_v4 builds one shared expert of "
        "moe_intermediate_size (16); that one is counted",
        "norm_topk_prob false is ignored by transformers' deepseek_v4: its router always "
        "renormalises the top-k weights",
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"layer_types": [SLIDING_ATTENTION, "full_attention", HCA]},
            "invalid value for 'layer_types[1]': \"full_attention\" is not one of "
            '"sliding_attention", "compressed_sparse_attention", "heavily_compressed_attention"',
        ),
        (
            {"layer_types": [SLIDING_ATTENTION, CSA]},
            "invalid value for 'layer_types': lists 2 layers but num_hidden_layers is 3",
        ),
        (
            {"layer_types": None, "compress_ratios": [0, 4, 16]},
            "invalid value for 'compress_ratios[2]': 16 is not one of 0, 4, 128",
        ),
        (
            {"mlp_layer_types": ["moe", "dense", "moe"]},
            'invalid value for \'mlp_layer_types[1]\': "dense" is not one of "hash_moe", "moe"',
        ),
        (
            {"o_groups": 3},
            "invalid value for 'o_groups': 3 groups do not split num_attention_heads * head_dim "
            "(128)",
        ),
    ],
)
def test_deepseek_v4_errors_name_the_key(changes: dict[str, Any], message: str) -> None:
    config = {k: v for k, v in {**TINY_V4, **changes}.items() if v is not None}
    assert parse_error(config) == message


# --- ZAYA ---


def test_zaya_counts_by_hand() -> None:
    """The parts transformers does not build the usual way, from the module shapes."""
    counts = count_params(parse(case_config("zaya")))
    h, layers, router = 2048, 40, 256
    router_mlp = (h * router + router) + router + 2 * (router * router + router) + router * 17
    assert counts.parts["router"] == layers * router_mlp + (layers - 1) * router
    channels = (8 + 2) * 128
    attention = h * 1024 + h * 256 + 2 * h * 128 + 1024 * h
    convolutions = channels * 2 + channels + channels * 128 * 2 + channels + 2
    assert counts.parts["attention"] == layers * (attention + convolutions)
    assert counts.parts["other"] == (8 * layers + 2) * h


#: A ZAYA small enough to run: a full and a sliding layer, 4 heads of 16 over 2 KV heads.
TINY_ZAYA = {
    "model_type": "zaya",
    "vocab_size": 64,
    "hidden_size": 64,
    "moe_intermediate_size": 16,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "num_experts": 4,
    "router_hidden_size": 16,
    "cca_time0": 2,
    "cca_time1": 3,
    "layer_types": ["hybrid", "hybrid_sliding"],
    "sliding_window": 32,
}


def test_zaya_kv_cache_is_what_transformers_holds() -> None:
    """5 tokens of K and V (2 heads of 16 each), the last 1 + 2 q/k convolution inputs
    ((4 + 2) · 16 channels) and the previous token's delayed values (2 · 16 / 2)."""
    tokens = 5
    cache = run_tiny(TINY_ZAYA, tokens)
    measured = sum(
        stored_values(
            layer.keys, layer.values, *layer.conv_states.values(), *layer.recurrent_states.values()
        )
        for layer in cache.layers
    )
    config = parse(TINY_ZAYA)
    assert kv_cache_bytes(config, tokens) == 2 * measured
    state = (6 * 16 * 3 + 16) * 2
    assert [(g.kind, g.bytes_per_token, g.state_bytes) for g in kv_cache(config)] == [
        ("full_attention", 2 * 2 * 16 * 2, state),
        (SLIDING_ATTENTION, 2 * 2 * 16 * 2, state),
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"num_experts_per_tok": 2},
            "invalid value for 'num_experts_per_tok': 2, but transformers' zaya routes each "
            "token to exactly 1 expert",
        ),
        (
            {"sliding_window": None},
            "invalid value for 'sliding_window': null, but layer_types has "
            '"hybrid_sliding" layers',
        ),
        (
            {"layer_types": ["hybrid", "full_attention"]},
            'invalid value for \'layer_types[1]\': "full_attention" is not one of "hybrid", '
            '"hybrid_sliding"',
        ),
    ],
)
def test_zaya_errors_name_the_key(changes: dict[str, Any], message: str) -> None:
    assert parse_error({**TINY_ZAYA, **changes}) == message
