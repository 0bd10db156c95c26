"""MiMo-V2-Flash, JetMoE and Kimi Linear: exact against transformers and readable through the CLI.

Each case is transformers' own default config for the model type (what `tests/coverage.py`
builds), with keys written over it where a case needs another path through the adapter; the
source of each config is said next to it. The oracle is the transformers model on the meta
device (tests/oracle.py); the KV-cache tests run a tiny model on the CPU and measure the cache
transformers fills.
"""

from __future__ import annotations

from typing import Any

import pytest

from moecfg.metrics import count_params, kv_cache
from moecfg.model import FULL_ATTENTION, SLIDING_ATTENTION
from tests.family_cases import case_configs, case_tests, parse, parse_error
from tests.oracle import require_oracle

pytestmark = pytest.mark.oracle

#: case → (model_type, keys written over transformers' default config, where they come from).
CASES: dict[str, tuple[str, dict[str, Any], str]] = {
    "mimo_v2_flash": (
        "mimo_v2_flash",
        {},
        "transformers default, which has MiMo-V2-Flash's dimensions (48 layers, 256 experts, "
        "top-8; 309B total / 15B active as Xiaomi publishes it)",
    ),
    "mimo_v2_flash-listed": (
        "mimo_v2_flash",
        {
            "num_hidden_layers": 4,
            "layer_types": [
                SLIDING_ATTENTION,
                FULL_ATTENTION,
                SLIDING_ATTENTION,
                SLIDING_ATTENTION,
            ],
            "mlp_layer_types": ["sparse", "dense", "sparse", "dense"],
            "attention_bias": True,
            "num_key_value_heads": 8,
            "v_head_dim": 64,
            "n_routed_experts": 32,
            "n_group": 4,
            "topk_group": 2,
        },
        "transformers default, 4 layers: listed attention and MLP kinds, biased q/k/v, 8 KV "
        "heads (16 on sliding layers), 64-wide value heads, 32 experts in 4 groups",
    ),
    "jetmoe": ("jetmoe", {}, "transformers default (12 layers, 8 experts, top-2)"),
    "jetmoe-8b": (
        "jetmoe",
        {"num_hidden_layers": 24},
        "transformers default with JetMoE-8B's 24 layers (8B total / 2.2B active published)",
    ),
    "jetmoe-small": (
        "jetmoe",
        {
            "num_local_experts": 4,
            "num_experts_per_tok": 1,
            "num_key_value_heads": 4,
            "kv_channels": 64,
            "tie_word_embeddings": False,
            "num_attention_heads": None,
        },
        "transformers default with 4 experts, top-1, 4 KV heads of 64, untied embeddings",
    ),
    "kimi_linear": (
        "kimi_linear",
        {},
        "transformers default, which has Kimi-Linear-48B-A3B's dimensions (27 layers, 256 "
        "experts, top-8; 48B total / 3B active as Moonshot publishes it)",
    ),
    "kimi_linear-checkpoint-keys": (
        "kimi_linear",
        {
            "num_hidden_layers": 5,
            "layer_types": None,
            "mlp_layer_types": None,
            "linear_num_heads": None,
            "linear_head_dim": None,
            "linear_conv_kernel_dim": None,
            "linear_attn_config": {
                "full_attn_layers": [2, 4],
                "kda_layers": [1, 3, 5],
                "num_heads": 16,
                "head_dim": 64,
                "short_conv_kernel_size": 3,
            },
            "first_k_dense_replace": 2,
            "q_lora_rank": 256,
            "attention_bias": True,
        },
        "transformers default, 5 layers scheduled by the checkpoint's linear_attn_config "
        "(1-based layer lists, KDA heads), two dense layers, a query latent, biased attention",
    ),
    "kimi_linear-listed": (
        "kimi_linear",
        {
            "num_hidden_layers": 4,
            "layer_types": [FULL_ATTENTION, "linear_attention", "linear_attention", FULL_ATTENTION],
            "mlp_layer_types": ["sparse", "dense", "sparse", "sparse"],
            "num_experts": 16,
            "num_expert_group": 4,
            "topk_group": 2,
            "num_shared_experts": 2,
        },
        "transformers default, 4 layers: listed attention and MLP kinds, 16 experts in 4 "
        "groups, two shared experts",
    ),
}


case_config = case_configs(CASES, none_means_absent=True)
test_counts_match_transformers, test_inspect_in_both_formats = case_tests(CASES, case_config)


def measured_cache(config: dict[str, Any], tokens: int = 3) -> list[tuple[int, int]]:
    """What transformers' cache holds in each layer after a forward of `tokens`, at 2 bytes a
    value: (bytes per token, fixed state bytes). A tiny model of `config` run on the CPU."""
    torch, transformers = require_oracle()
    hf_config = transformers.AutoConfig.for_model(**config)
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(hf_config).eval()
    with torch.no_grad():
        out = model(torch.arange(tokens).unsqueeze(0), use_cache=True)
    sizes = []
    for layer in out.past_key_values.layers:
        if hasattr(layer, "conv_states"):
            states = [*layer.conv_states.values(), *layer.recurrent_states.values()]
            sizes.append((0, 2 * sum(state.numel() for state in states)))
        else:
            sizes.append((2 * (layer.keys.numel() + layer.values.numel()) // tokens, 0))
    return sizes


# --- MiMo-V2-Flash ---

#: A MiMo-V2-Flash small enough to run: 2 KV heads on full layers (4 on sliding), q/k heads of
#: 16 and value heads of 8.
TINY_MIMO = {
    "model_type": "mimo_v2_flash",
    "vocab_size": 32,
    "hidden_size": 32,
    "intermediate_size": 16,
    "moe_intermediate_size": 8,
    "num_hidden_layers": 3,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "v_head_dim": 8,
    "n_routed_experts": 4,
    "num_experts_per_tok": 2,
    "layer_types": [FULL_ATTENTION, SLIDING_ATTENTION, SLIDING_ATTENTION],
}


def test_mimo_kv_cache_follows_each_kind_kv_heads_and_value_width() -> None:
    """Full layers cache 2 KV heads, sliding layers 4, each K of 16 values and V of 8."""
    measured = [per_token for per_token, _state in measured_cache(TINY_MIMO)]
    groups = {group.kind: group for group in kv_cache(parse(TINY_MIMO))}
    assert measured == [2 * 2 * (16 + 8), 2 * 4 * (16 + 8), 2 * 4 * (16 + 8)]
    assert groups[FULL_ATTENTION].bytes_per_token == measured[0]
    assert groups[SLIDING_ATTENTION].bytes_per_token == measured[1] + measured[2]
    assert groups[SLIDING_ATTENTION].window == 129


def test_mimo_sliding_window_size_is_the_window_minus_the_query() -> None:
    config = parse({**TINY_MIMO, "sliding_window_size": 128})
    assert config.base.sliding_window == 129
    assert config.provenance["base.sliding_window"] == "derived"


def test_mimo_null_routed_scaling_factor_is_one() -> None:
    """The released config stores `routed_scaling_factor: null`; transformers reads it as 1."""
    config = parse({**TINY_MIMO, "routed_scaling_factor": None})
    assert config.moe.routed_scaling_factor == 1.0


def test_mimo_names_an_unknown_attention_kind() -> None:
    config = {**TINY_MIMO, "layer_types": [FULL_ATTENTION, "linear_attention", FULL_ATTENTION]}
    assert parse_error(config) == (
        "invalid value for 'layer_types[1]': "
        '"linear_attention" is not one of full_attention, sliding_attention'
    )


def test_mimo_names_an_unknown_mlp_kind() -> None:
    config = {**TINY_MIMO, "mlp_layer_types": ["dense", "moe", "sparse"]}
    assert parse_error(config) == (
        "invalid value for 'mlp_layer_types[1]': \"moe\" is not one of dense, sparse"
    )


# --- JetMoE ---


def test_jetmoe_derives_attention_heads_and_warns_on_another_value() -> None:
    config = parse({**case_config("jetmoe"), "num_attention_heads": 12})
    assert config.base.num_attention_heads == 32
    assert config.provenance["base.num_attention_heads"] == "derived"
    assert config.warnings == (
        "num_attention_heads (12) is ignored by transformers' jetmoe, which uses "
        "num_key_value_heads × num_experts_per_tok (32)",
    )


def test_jetmoe_active_counts_the_attention_experts_a_token_uses() -> None:
    """Per layer a token uses 2 of 8 attention experts (q and o: 2 · 2048 · 16 · 128 each) and
    2 of 8 MLP experts (3 · 2048 · 5632 each)."""
    counts = count_params(parse(case_config("jetmoe")))
    attention_expert, mlp_expert = 2 * 2048 * 16 * 128, 3 * 2048 * 5632
    assert counts.parts["routed_experts"] == 12 * 8 * (attention_expert + mlp_expert)
    assert counts.total - counts.active == 12 * 6 * (attention_expert + mlp_expert)


def test_jetmoe_refuses_more_picks_than_experts() -> None:
    config = {**case_config("jetmoe"), "num_experts_per_tok": 9}
    assert parse_error(config) == (
        "invalid value for 'num_experts_per_tok': 9 exceeds the number of experts (8)"
    )


# --- Kimi Linear ---

#: A Kimi Linear small enough to run: KDA, MLA and KDA layers.
TINY_KIMI = {
    "model_type": "kimi_linear",
    "vocab_size": 32,
    "pad_token_id": None,
    "bos_token_id": None,
    "eos_token_id": None,
    "hidden_size": 32,
    "intermediate_size": 16,
    "moe_intermediate_size": 8,
    "num_hidden_layers": 3,
    "num_attention_heads": 2,
    "num_key_value_heads": 2,
    "kv_lora_rank": 16,
    "qk_nope_head_dim": 8,
    "qk_rope_head_dim": 4,
    "v_head_dim": 8,
    "linear_num_heads": 2,
    "linear_head_dim": 8,
    "linear_conv_kernel_dim": 4,
    "num_experts": 4,
    "num_experts_per_token": 2,
    "layer_types": ["linear_attention", FULL_ATTENTION, "linear_attention"],
}


def test_kimi_linear_cache_is_a_latent_on_mla_layers_and_a_state_on_kda_layers() -> None:
    """MLA keeps kv_lora_rank + qk_rope_head_dim (16 + 4) values a token; KDA a conv state of
    3 · 2 heads · 8 by 4 taps and a recurrent state of 2 heads · 8 · 8, however long the text."""
    measured = measured_cache(TINY_KIMI)
    groups = {group.kind: group for group in kv_cache(parse(TINY_KIMI))}
    assert measured == [
        (0, 2 * (48 * 4 + 2 * 8 * 8)),
        (2 * (16 + 4), 0),
        (0, 2 * (48 * 4 + 2 * 8 * 8)),
    ]
    assert (groups["mla"].layers, groups["mla"].bytes_per_token) == (1, measured[1][0])
    linear = groups["linear_attention"]
    assert (linear.layers, linear.state_bytes) == (2, measured[0][1] + measured[2][1])


def test_kimi_linear_names_a_layer_outside_the_model() -> None:
    config = {
        **case_config("kimi_linear-checkpoint-keys"),
        "linear_attn_config": {"full_attn_layers": [2, 6], "kda_layers": [1, 3, 4, 5]},
    }
    assert parse_error(config) == (
        "invalid value for 'linear_attn_config.full_attn_layers[1]': "
        "layer 6 is outside 1..5 (the list counts layers from 1)"
    )


def test_kimi_linear_names_an_unknown_attention_kind() -> None:
    config = {**TINY_KIMI, "layer_types": ["linear_attention", "sliding_attention", FULL_ATTENTION]}
    assert parse_error(config) == (
        "invalid value for 'layer_types[1]': "
        '"sliding_attention" is not one of "full_attention", "linear_attention"'
    )
