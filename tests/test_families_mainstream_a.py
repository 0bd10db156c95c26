"""Qwen2-MoE, Mixtral, OLMoE, PhiMoE, GraniteMoE, gpt-oss and DBRX: exact and published counts.

Every count is checked against transformers on the meta device (the oracle). Real configs are
used where one was published; OLMoE-1B-7B, Phi-3.5-MoE and DBRX are built from transformers'
config classes with the released model's dimensions (the v5 spelling), and written by hand
with the keys their hub config.json uses (the v4 spelling).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from moecfg.errors import ConfigError
from moecfg.families import parse_config
from moecfg.loading.files import RawConfig
from moecfg.metrics import count_params
from tests.conftest import load_sample, run_cli, sample
from tests.oracle import oracle_counts, require_oracle

DROP = object()


def moecfg_counts(config: dict[str, Any]) -> dict[str, int]:
    counts = count_params(parse_config(RawConfig(source="test", data=config)))
    return {**counts.parts, "total": counts.total, "active": counts.active}


def parse(config: dict[str, Any]):
    return parse_config(RawConfig(source="test", data=config))


def variant(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    config = json.loads(json.dumps(base))
    for key, value in changes.items():
        if value is DROP:
            config.pop(key, None)
        else:
            config[key] = value
    return config


def v5_spelling(config: dict[str, Any], *, rope_theta: float, **changes: Any) -> dict[str, Any]:
    """The v4 `rope_theta` + `torch_dtype` keys rewritten as v5 `rope_parameters` + `dtype`."""
    scaling = config.get("rope_scaling") or {"rope_type": "default"}
    return variant(
        config,
        rope_theta=DROP,
        rope_scaling=DROP,
        torch_dtype=DROP,
        dtype="bfloat16",
        rope_parameters={**scaling, "rope_theta": rope_theta},
        **changes,
    )


# --- released dimensions, v4 spelling (as their hub config.json writes them) ---

OLMOE_1B_7B: dict[str, Any] = {
    "architectures": ["OlmoeForCausalLM"],
    "model_type": "olmoe",
    "hidden_size": 2048,
    "intermediate_size": 1024,
    "num_hidden_layers": 16,
    "num_attention_heads": 16,
    "num_key_value_heads": 16,
    "vocab_size": 50304,
    "max_position_embeddings": 4096,
    "rope_theta": 10000.0,
    "rms_norm_eps": 1e-05,
    "num_experts": 64,
    "num_experts_per_tok": 8,
    "norm_topk_prob": False,
    "clip_qkv": None,
    "attention_bias": False,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "pad_token_id": 1,
    "eos_token_id": 50279,
}

PHI_3_5_MOE: dict[str, Any] = {
    "architectures": ["PhimoeForCausalLM"],
    "model_type": "phimoe",
    "hidden_size": 4096,
    "intermediate_size": 6400,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "vocab_size": 32064,
    "max_position_embeddings": 131072,
    "original_max_position_embeddings": 4096,
    "rope_theta": 10000.0,
    "rope_scaling": {
        "type": "longrope",
        "short_factor": [1.0] * 64,
        "long_factor": [1.0] * 64,
        "short_mscale": 1.243163121016122,
        "long_mscale": 1.243163121016122,
        "original_max_position_embeddings": 4096,
    },
    "sliding_window": 131072,
    "attention_bias": True,
    "lm_head_bias": True,
    "rms_norm_eps": 1e-05,
    "num_local_experts": 16,
    "num_experts_per_tok": 2,
    "router_jitter_noise": 0.01,
    "input_jitter_noise": 0.01,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
}

DBRX_132B: dict[str, Any] = {
    "architectures": ["DbrxForCausalLM"],
    "model_type": "dbrx",
    "d_model": 6144,
    "n_heads": 48,
    "n_layers": 40,
    "max_seq_len": 32768,
    "vocab_size": 100352,
    "attn_config": {"kv_n_heads": 8, "clip_qkv": 8, "rope_theta": 500000},
    "ffn_config": {
        "ffn_hidden_size": 10752,
        "moe_num_experts": 16,
        "moe_top_k": 4,
        "moe_jitter_eps": 0.01,
        "moe_loss_weight": 0.05,
        "moe_normalize_expert_weights": 1.0,
    },
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
}


def built_by_transformers(class_name: str, **kwargs: Any) -> dict[str, Any]:
    """The config.json transformers 5 itself writes for these dimensions (v5 spelling)."""
    _, transformers = require_oracle()
    config = getattr(transformers, class_name)(**kwargs).to_dict()
    return json.loads(json.dumps(config))


def olmoe_v5() -> dict[str, Any]:
    dims = {
        k: v for k, v in OLMOE_1B_7B.items() if k not in ("rope_theta", "torch_dtype", "model_type")
    }
    return built_by_transformers(
        "OlmoeConfig",
        **dims,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        dtype="bfloat16",
    )


def phimoe_v5() -> dict[str, Any]:
    dims = {
        k: v
        for k, v in PHI_3_5_MOE.items()
        if k
        not in (
            "rope_theta",
            "rope_scaling",
            "torch_dtype",
            "model_type",
            "original_max_position_embeddings",
        )
    }
    return built_by_transformers(
        "PhimoeConfig",
        **dims,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        dtype="bfloat16",
    )


def dbrx_v5() -> dict[str, Any]:
    return built_by_transformers(
        "DbrxConfig",
        architectures=["DbrxForCausalLM"],
        d_model=6144,
        n_heads=48,
        n_layers=40,
        max_seq_len=32768,
        vocab_size=100352,
        # DbrxAttention still reads attn_config.rope_theta; rotary embeddings read rope_parameters.
        attn_config={"kv_n_heads": 8, "clip_qkv": 8, "rope_theta": 500000.0},
        ffn_config={k: v for k, v in DBRX_132B["ffn_config"].items()},
        rope_parameters={"rope_type": "default", "rope_theta": 500000.0},
        dtype="bfloat16",
    )


QWEN15 = "Qwen1.5-MoE-A2.7B.json"
MIXTRAL = "Mixtral-8x7B-v0.1.json"
GPT_OSS = "gpt-oss-20b.json"
GRANITE = "granite-3.1-1b-a400m-instruct.json"

CASES = {
    # qwen2_moe
    "qwen1.5-moe": lambda: load_sample(QWEN15),
    "qwen1.5-moe-v5": lambda: v5_spelling(load_sample(QWEN15), rope_theta=1000000.0),
    "qwen1.5-moe-qkv-bias-off-mlp-only": lambda: variant(
        load_sample(QWEN15), qkv_bias=False, mlp_only_layers=[0, 3]
    ),
    "qwen1.5-moe-sparse-step-2": lambda: variant(load_sample(QWEN15), decoder_sparse_step=2),
    "qwen1.5-moe-sliding": lambda: variant(load_sample(QWEN15), use_sliding_window=True),
    "qwen2-moe-as-transformers-writes-it": lambda: built_by_transformers(
        "Qwen2MoeConfig", num_hidden_layers=4
    ),
    "qwen1.5-moe-tied-no-shared-size": lambda: variant(
        load_sample(QWEN15), tie_word_embeddings=True, shared_expert_intermediate_size=DROP
    ),
    # mixtral
    "mixtral-8x7b": lambda: load_sample(MIXTRAL),
    "mixtral-8x7b-v5": lambda: v5_spelling(
        load_sample(MIXTRAL), rope_theta=1000000.0, num_local_experts=DROP, num_experts=8
    ),
    "mixtral-sliding-head-dim": lambda: variant(
        load_sample(MIXTRAL), sliding_window=4096, head_dim=64
    ),
    # olmoe
    "olmoe-1b-7b": lambda: OLMOE_1B_7B,
    "olmoe-1b-7b-v5": olmoe_v5,
    "olmoe-alias-bias-gqa": lambda: variant(
        OLMOE_1B_7B,
        num_experts=DROP,
        num_local_experts=64,
        attention_bias=True,
        num_key_value_heads=4,
    ),
    # phimoe
    "phi-3.5-moe": lambda: PHI_3_5_MOE,
    "phi-3.5-moe-v5": phimoe_v5,
    "phi-3.5-moe-no-biases": lambda: variant(PHI_3_5_MOE, attention_bias=False, lm_head_bias=DROP),
    # granitemoe
    "granite-3.1-1b-a400m": lambda: load_sample(GRANITE),
    "granite-3.1-1b-a400m-v5": lambda: v5_spelling(load_sample(GRANITE), rope_theta=1500000.0),
    "granite-untied-bias": lambda: variant(
        load_sample(GRANITE), tie_word_embeddings=False, attention_bias=True
    ),
    # gpt_oss
    "gpt-oss-20b": lambda: load_sample(GPT_OSS),
    "gpt-oss-20b-v5": lambda: v5_spelling(
        load_sample(GPT_OSS), rope_theta=150000.0, num_local_experts=DROP, num_experts=32
    ),
    "gpt-oss-default-layer-types": lambda: variant(
        load_sample(GPT_OSS), layer_types=DROP, num_hidden_layers=5
    ),
    # dbrx
    "dbrx-132b": lambda: DBRX_132B,
    "dbrx-132b-v5": dbrx_v5,
    "dbrx-hf-names-mha": lambda: {
        **variant(DBRX_132B, n_heads=DROP, n_layers=DROP, max_seq_len=DROP),
        "num_attention_heads": 48,
        "num_hidden_layers": 40,
        "max_position_embeddings": 32768,
        "attn_config": {"kv_n_heads": 48, "rope_theta": 500000},
    },
}

#: DBRX flattens its experts into the first dimension of w1/v1/w2, so E comes from the config.
ORACLE_KEYS = {
    "dbrx": {"top_k_key": "ffn_config.moe_top_k", "num_experts_key": "ffn_config.moe_num_experts"},
}


@pytest.mark.oracle
@pytest.mark.parametrize("case", list(CASES))
def test_counts_identical_to_transformers(case: str, tmp_path) -> None:
    config = CASES[case]()
    expected = oracle_counts(config, tmp_path, **ORACLE_KEYS.get(config["model_type"], {}))
    assert moecfg_counts(config) == expected


def test_v5_configs_are_read_through_their_v5_keys() -> None:
    """The v5 spellings are really different keys, found through their aliases."""
    provenance = parse(
        v5_spelling(load_sample(MIXTRAL), rope_theta=1e6, num_local_experts=DROP, num_experts=8)
    ).provenance
    assert provenance["moe.num_experts"] == "alias:num_experts"
    assert provenance["base.rope_theta"] == "alias:rope_parameters.rope_theta"
    assert provenance["base.dtype"] == "present"
    assert parse(load_sample(MIXTRAL)).provenance["base.dtype"] == "alias:torch_dtype"
    dbrx = parse(variant(DBRX_132B, n_layers=DROP, num_hidden_layers=40))
    assert dbrx.provenance["base.num_hidden_layers"] == "alias:num_hidden_layers"
    assert dbrx.base.rope_theta == 500000.0
    assert dbrx.base.num_key_value_heads == 8


# --- published figures (/work/shared/configs/SOURCES.md) ---


def test_qwen15_moe_matches_published_figures() -> None:
    """Qwen README: "14.3B parameters in total and 2.7B activated", embeddings included."""
    counts = moecfg_counts(load_sample(QWEN15))
    assert round(counts["total"] / 1e9, 1) == 14.3
    assert round(counts["active"] / 1e9, 1) == 2.7


def test_mixtral_matches_published_figures_and_checkpoint() -> None:
    """Mistral: "46.7B total parameters ... 12.9B parameters per token", embeddings included.

    The checkpoint index's total_size (93,405,585,408 bytes of bf16) is exactly twice the total.
    """
    counts = moecfg_counts(load_sample(MIXTRAL))
    assert counts["total"] == 93_405_585_408 // 2 == 46_702_792_704
    assert round(counts["active"] / 1e9, 1) == 12.9


def test_gpt_oss_20b_matches_published_figures() -> None:
    """OpenAI card: "21B parameters with 3.6B active".

    The total includes everything. The active figure excludes the token-embedding table (a
    lookup, not a matmul) and includes the unembedding (lm_head): moecfg's active minus the
    embedding is 3.61B.
    """
    counts = moecfg_counts(load_sample(GPT_OSS))
    assert round(counts["total"] / 1e9) == 21
    assert round((counts["active"] - counts["embedding"]) / 1e9, 1) == 3.6


def test_granite_moe_matches_published_figures() -> None:
    """IBM card: "1.3B" total and "400M" active, rounded to 2 and 1 significant figures.

    Embeddings are tied (one 50M table, counted once); active includes it.
    """
    counts = moecfg_counts(load_sample(GRANITE))
    assert round(counts["total"] / 1e9, 1) == 1.3
    assert round(counts["active"] / 1e8) * 1e8 == 400e6


# --- structure and router facts, as each family's transformers code behaves ---


def test_qwen2_moe_structure() -> None:
    config = parse(load_sample(QWEN15))
    assert config.base.attention_bias and not config.base.attention_output_bias
    assert (config.moe.num_shared_experts, config.moe.shared_expert_intermediate_size) == (1, 5632)
    assert config.moe.shared_expert_gate
    assert (config.moe.norm_topk_prob, config.moe.scoring_func) == (False, "softmax")
    assert config.base.sliding_window is None
    assert config.provenance["base.attention_bias"] == "default"  # qkv_bias absent → True


def test_qwen2_moe_zero_window_means_no_window() -> None:
    """Qwen2MoeConfig saves `sliding_window: 0` when use_sliding_window is off."""
    config = parse(variant(load_sample(QWEN15), sliding_window=0))
    assert config.base.sliding_window is None
    assert set(config.base.layer_types) == {"full_attention"}


def test_qwen2_moe_sliding_layers_follow_max_window_layers() -> None:
    config = parse(variant(load_sample(QWEN15), use_sliding_window=True, max_window_layers=4))
    assert config.base.sliding_window == 32768
    assert config.base.layer_types[:5] == (
        "sliding_attention",
        "full_attention",
        "sliding_attention",
        "full_attention",
        "full_attention",
    )


def test_every_layer_moe_families_have_no_dense_mlp() -> None:
    for config in (
        load_sample(MIXTRAL),
        OLMOE_1B_7B,
        PHI_3_5_MOE,
        load_sample(GRANITE),
        load_sample(GPT_OSS),
        DBRX_132B,
    ):
        parsed = parse(config)
        assert parsed.base.intermediate_size is None
        assert parsed.moe.moe_layers == tuple(range(parsed.base.num_hidden_layers))
        assert parsed.dense_layers == ()


@pytest.mark.parametrize(
    ("config", "norm_topk_prob", "scoring_func", "router_bias", "expert_bias"),
    [
        (lambda: load_sample(MIXTRAL), None, "topk_softmax", False, False),
        (lambda: OLMOE_1B_7B, False, "softmax", False, False),
        (lambda: variant(OLMOE_1B_7B, norm_topk_prob=True), True, "softmax", False, False),
        (lambda: PHI_3_5_MOE, None, "sparsemixer", False, False),
        (lambda: load_sample(GRANITE), None, "topk_softmax", False, False),
        (lambda: load_sample(GPT_OSS), None, "topk_softmax", True, True),
        (lambda: DBRX_132B, True, "softmax", False, False),
    ],
)
def test_router_facts(config, norm_topk_prob, scoring_func, router_bias, expert_bias) -> None:
    moe = parse(config()).moe
    assert (moe.norm_topk_prob, moe.scoring_func, moe.router_bias, moe.expert_bias) == (
        norm_topk_prob,
        scoring_func,
        router_bias,
        expert_bias,
    )


def test_olmoe_qk_norms_span_the_whole_projection() -> None:
    base = parse(OLMOE_1B_7B).base
    assert base.qk_norm and base.qk_norm_full_width


def test_phimoe_layernorm_and_lm_head_bias() -> None:
    base = parse(PHI_3_5_MOE).base
    assert (base.norm_bias, base.lm_head_bias, base.attention_bias, base.attention_output_bias) == (
        True,
        True,
        True,
        True,
    )
    assert base.layer_types == ("sliding_attention",) * 32
    assert (
        parse(variant(PHI_3_5_MOE, lm_head_bias=DROP)).provenance["base.lm_head_bias"] == "default"
    )


def test_gpt_oss_sinks_and_alternating_attention() -> None:
    base = parse(load_sample(GPT_OSS)).base
    assert base.attention_sinks
    assert base.sliding_window == 128
    assert base.layer_types[:2] == ("sliding_attention", "full_attention")
    assert base.layer_types.count("sliding_attention") == 12


def test_dbrx_p_norm_other_than_one_is_a_warning() -> None:
    config = parse(
        variant(
            DBRX_132B, ffn_config={**DBRX_132B["ffn_config"], "moe_normalize_expert_weights": 2.0}
        )
    )
    assert config.moe.norm_topk_prob is False
    assert config.warnings == (
        "ffn_config.moe_normalize_expert_weights is 2: the top-k weights are divided by their "
        "2-norm, so they do not sum to one",
    )


# --- errors, verbatim ---


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            lambda: variant(load_sample(MIXTRAL), num_experts=16),
            "conflicting values for 'num_local_experts' (an integer (8)) and its alias "
            "'num_experts' (an integer (16))",
        ),
        (
            lambda: variant(DBRX_132B, tie_word_embeddings=True),
            "invalid value for 'tie_word_embeddings': DBRX does not support tied embeddings",
        ),
        (
            # transformers maps hidden_size to d_model too late: its experts keep the default width.
            lambda: variant(DBRX_132B, d_model=DROP, hidden_size=6144),
            "missing required key 'd_model'",
        ),
        (
            lambda: variant(DBRX_132B, ffn_config={"moe_num_experts": 16, "moe_top_k": 4}),
            "missing required key 'ffn_config.ffn_hidden_size'",
        ),
        (
            lambda: variant(DBRX_132B, attn_config="eight"),
            "wrong type for 'attn_config': expected an object, got a string (\"eight\")",
        ),
        (
            lambda: variant(DBRX_132B, attn_config={"kv_n_heads": 5}),
            "invalid value for 'attn_config.kv_n_heads': "
            "num_attention_heads (48) is not divisible by "
            "num_key_value_heads (5)",
        ),
        (
            lambda: variant(load_sample(GPT_OSS), layer_types=["sliding_attention"] * 23),
            "invalid value for 'layer_types': lists 23 layers but num_hidden_layers is 24",
        ),
        (
            lambda: variant(
                load_sample(GPT_OSS), layer_types=["full_attention"] * 23 + ["chunked"]
            ),
            "invalid value for 'layer_types[23]': \"chunked\" is not one of "
            "full_attention, sliding_attention",
        ),
        (
            lambda: variant(load_sample(QWEN15), num_experts_per_tok=61),
            "invalid value for 'num_experts_per_tok': 61 exceeds the number of experts (60)",
        ),
    ],
)
def test_errors_name_the_key(config, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse(config())
    assert error.value.message == message


def test_alias_conflict_through_the_cli(write_config) -> None:
    path = write_config(variant(load_sample(MIXTRAL), num_experts=16))
    result = run_cli("inspect", str(path), "--format", "json")
    assert result.exit_code == 1
    assert result.json()["error"] == {
        "code": "alias_conflict",
        "key": "num_local_experts",
        "message": "conflicting values for 'num_local_experts' (an integer (8)) and its alias "
        "'num_experts' (an integer (16))",
    }


# --- the real samples through the CLI, in both formats ---

SAMPLES = {
    QWEN15: ("qwen2_moe", 14_315_784_192, 2_689_173_504),
    MIXTRAL: ("mixtral", 46_702_792_704, 12_879_925_248),
    GPT_OSS: ("gpt_oss", 20_914_757_184, 4_187_440_704),
    GRANITE: ("granitemoe", 1_334_628_352, 428_658_688),
}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_sample_inspects_as_json(name: str) -> None:
    family, total, active = SAMPLES[name]
    result = run_cli("inspect", str(sample(name)), "--format", "json")
    assert result.exit_code == 0, result
    report = result.json()
    assert (report["family"], report["params"]["total"], report["params"]["active"]) == (
        family,
        total,
        active,
    )
    assert report["moe"]["moe_layers"] == list(range(report["base"]["num_hidden_layers"]))
    assert total == moecfg_counts(load_sample(name))["total"]


@pytest.mark.parametrize("name", list(SAMPLES))
def test_sample_inspects_as_table(name: str) -> None:
    family, total, active = SAMPLES[name]
    result = run_cli("inspect", str(sample(name)))
    assert result.exit_code == 0, result
    assert family in result.stdout
    assert f"{total:,}" in result.stdout
    assert f"{active:,}" in result.stdout
