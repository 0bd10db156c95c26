"""Exact parameter counts against transformers on the meta device: the core families."""

from __future__ import annotations

import pytest

from moecfg.families import parse_config
from moecfg.loading.files import RawConfig
from moecfg.metrics import count_params
from tests.conftest import load_sample
from tests.oracle import oracle_counts

pytestmark = pytest.mark.oracle


def moecfg_counts(config: dict) -> dict[str, int]:
    counts = count_params(parse_config(RawConfig(source="test", data=config)))
    return {**counts.parts, "total": counts.total, "active": counts.active}


def variant(name: str, **changes) -> dict:
    config = load_sample(name)
    for key, value in changes.items():
        if value is DROP:
            config.pop(key, None)
        else:
            config[key] = value
    return config


DROP = object()

CASES = {
    "qwen3-30b-a3b": lambda: load_sample("Qwen3-30B-A3B.json"),
    "qwen3-8b": lambda: load_sample("Qwen3-8B.json"),
    "llama-3.1-8b": lambda: load_sample("Llama-3.1-8B.json"),
    "qwen3moe-tied": lambda: variant("Qwen3-30B-A3B.json", tie_word_embeddings=True),
    "qwen3moe-mlp-only": lambda: variant("Qwen3-30B-A3B.json", mlp_only_layers=[0, 5, 47]),
    "qwen3moe-sparse-step-2": lambda: variant("Qwen3-30B-A3B.json", decoder_sparse_step=2),
    "qwen3moe-no-head-dim": lambda: variant("Qwen3-30B-A3B.json", head_dim=DROP),
    "qwen3moe-attention-bias": lambda: variant("Qwen3-30B-A3B.json", attention_bias=True),
    "qwen3moe-no-kv-heads": lambda: variant("Qwen3-30B-A3B.json", num_key_value_heads=DROP),
    "qwen3moe-v5-spelling": lambda: {
        **variant("Qwen3-30B-A3B.json", rope_theta=DROP, rope_scaling=DROP, torch_dtype=DROP,
                  num_experts=DROP),
        "num_local_experts": 128,
        "dtype": "bfloat16",
        "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0},
    },
    "llama-tied-bias": lambda: variant("Llama-3.1-8B.json", tie_word_embeddings=True,
                                       attention_bias=True, mlp_bias=True),
    "llama-no-kv-heads": lambda: variant("Llama-3.1-8B.json", num_key_value_heads=DROP),
    "qwen2-dense": lambda: {**variant("Qwen3-8B.json", head_dim=DROP), "model_type": "qwen2",
                            "architectures": ["Qwen2ForCausalLM"]},
    "mistral-dense": lambda: {**variant("Llama-3.1-8B.json", rope_scaling=DROP),
                              "model_type": "mistral", "architectures": ["MistralForCausalLM"],
                              "sliding_window": 4096},
    "qwen3-dense-no-head-dim": lambda: variant("Qwen3-8B.json", head_dim=DROP),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_counts_identical_to_transformers(case, tmp_path):
    config = CASES[case]()
    assert moecfg_counts(config) == oracle_counts(config, tmp_path)
