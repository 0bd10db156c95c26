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
from tests.conftest import load_sample, run_cli, sample
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
    "rope_scaling": {
        "beta_fast": 1.0,
        "beta_slow": 1.0,
        "factor": 32.0,
        "mscale": 1.0,
        "mscale_all_dim": 1.0,
        "original_max_position_embeddings": 4096,
        "type": "yarn",
    },
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
    dims = {
        k: v
        for k, v in GLM_45_AIR.items()
        if k
        not in (
            "architectures",
            "model_type",
            "torch_dtype",
            "rope_theta",
            "num_nextn_predict_layers",
        )
    }
    return from_config_class(
        "Glm4MoeConfig",
        **dims,
        num_mtp_layers=1,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0},
    )


def dots_v5() -> dict:
    dims = {
        k: v
        for k, v in DOTS_LLM1.items()
        if k not in ("architectures", "model_type", "torch_dtype", "rope_theta", "n_routed_experts")
    }
    return from_config_class(
        "Dots1Config",
        **dims,
        num_local_experts=128,
        rope_parameters={"rope_type": "default", "rope_theta": 10000000.0},
    )


def kimi_as_deepseek_v3() -> dict:
    """What transformers can build: the same dimensions under the deepseek_v3 model_type."""
    return {**KIMI_K2, "model_type": "deepseek_v3"}


CASES = {
    "deepseek-v3": lambda: load_sample("DeepSeek-V3.json"),
    "deepseek-v3-v5-spelling": lambda: v5_spelling(
        load_sample("DeepSeek-V3.json"),
        num_local_experts="n_routed_experts",
        num_mtp_layers="num_nextn_predict_layers",
    ),
    "deepseek-v3-plain-q-biased": lambda: variant(
        load_sample("DeepSeek-V3.json"),
        q_lora_rank=None,
        attention_bias=True,
        first_k_dense_replace=0,
        n_shared_experts=2,
    ),
    "deepseek-v2-lite": lambda: load_sample("DeepSeek-V2-Lite.json"),
    "deepseek-v2-lite-v5-spelling": lambda: v5_spelling(
        load_sample("DeepSeek-V2-Lite.json"), num_experts="n_routed_experts"
    ),
    "deepseek-v2-lora-q-biases-grouped": lambda: variant(
        load_sample("DeepSeek-V2-Lite.json"),
        q_lora_rank=768,
        attention_bias=True,
        mlp_bias=True,
        topk_method="group_limited_greedy",
        n_group=8,
        topk_group=3,
        num_key_value_heads=DROP,
    ),
    "kimi-k2": kimi_as_deepseek_v3,
    "glm-4.5-air": lambda: GLM_45_AIR,
    "glm-4.5-air-v5-from-config-class": glm_v5,
    "glm-4.5-air-qk-norm": lambda: variant(GLM_45_AIR, use_qk_norm=True, first_k_dense_replace=3),
    "dots-llm1": lambda: DOTS_LLM1,
    "dots-llm1-v5-from-config-class": dots_v5,
    "dots-llm1-sliding-biased": lambda: variant(
        DOTS_LLM1, sliding_window=4096, max_window_layers=40, attention_bias=True
    ),
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


#: deepseek-ai/deepseek-moe-16b-base config.json dimensions (remote code, model_type "deepseek").
DEEPSEEK_MOE_16B = {
    "architectures": ["DeepseekForCausalLM"],
    "model_type": "deepseek",
    "hidden_size": 2048,
    "num_hidden_layers": 28,
    "num_attention_heads": 16,
    "num_key_value_heads": 16,
    "intermediate_size": 10944,
    "moe_intermediate_size": 1408,
    "n_routed_experts": 64,
    "n_shared_experts": 2,
    "num_experts_per_tok": 6,
    "first_k_dense_replace": 1,
    "moe_layer_freq": 1,
    "norm_topk_prob": False,
    "scoring_func": "softmax",
    "vocab_size": 102400,
    "max_position_embeddings": 4096,
    "rope_theta": 10000,
    "rms_norm_eps": 1e-06,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
}


def test_deepseek_v3_headline_figures():
    """SOURCES.md: 671B total (+14B MTP module = 685B on HF), 37B activated.

    total 671,026,404,352 is the transformers model: embedding + lm_head + 61 layers (3 dense,
    58 MoE with 256 experts + 1 shared). active 37,552,282,624 counts the embedding table and
    lm_head (0.93B each) and 8 of 256 experts per MoE layer. mtp 13,463,426,048 is model.layers.61
    as stored: one MoE decoder layer (11.61B) + enorm, hnorm, eh_proj, shared_head.norm
    (0.10B) + its copies of the embedding and the output head (0.93B each). checkpoint_total
    684,489,830,400 rounds to HF's 685B once the FP8 block scales (≈0.04B) are added.
    """
    counts = count_params(parse(load_sample("DeepSeek-V3.json")))
    assert (counts.total, counts.active, counts.mtp) == (
        671_026_404_352,
        37_552_282_624,
        13_463_426_048,
    )
    assert round(counts.total / 1e9) == 671
    assert round(counts.active / 1e9) == 38 and counts.active - counts.parts["embedding"] < 37e9
    assert counts.checkpoint_total == 684_489_830_400
    assert abs(counts.checkpoint_total - 685e9) < 1e9
    h, vocab = 7168, 129280
    moe_layer = (
        counts.parts["attention"] // 61
        + 2 * h
        + (counts.parts["router"] + counts.parts["routed_experts"] + counts.parts["shared_experts"])
        // 58
    )
    assert counts.mtp == moe_layer + 3 * h + 2 * h * h + 2 * vocab * h


def test_deepseek_v2_lite_headline_figures():
    """SOURCES.md: 15.7B total (paper), 2.4B activated; the 2.4B leaves out the embedding lookup."""
    counts = count_params(parse(load_sample("DeepSeek-V2-Lite.json")))
    assert (counts.total, counts.active, counts.mtp) == (15_706_484_224, 2_661_150_208, 0)
    assert round(counts.total / 1e9, 1) == 15.7
    assert round((counts.active - counts.parts["embedding"]) / 1e9, 1) == 2.5


def test_other_headline_figures():
    """Published model-card figures: Kimi-K2 1T total / 32B activated; GLM-4.5-Air 106B / 12B;
    dots.llm1 142B / 14B. Activated figures leave out the embedding lookup (and, for GLM, the
    lm_head), which is what separates them from moecfg's active count."""
    kimi = count_params(parse(KIMI_K2))
    assert (kimi.total, kimi.active, kimi.mtp) == (1_026_408_209_408, 32_861_477_888, 0)
    assert round(kimi.total / 1e12, 2) == 1.03
    assert round((kimi.active - kimi.parts["embedding"]) / 1e9) == 32
    glm = count_params(parse(GLM_45_AIR))
    assert (glm.total, glm.active, glm.mtp) == (106_852_245_504, 13_424_123_904, 3_616_573_440)
    assert round(glm.total / 1e9) == 107 and int(glm.total / 1e9) == 106
    assert round((glm.active - glm.parts["embedding"] - glm.parts["lm_head"]) / 1e9) == 12
    dots = count_params(parse(DOTS_LLM1))
    assert (dots.total, dots.active) == (142_774_373_888, 14_016_581_120)
    assert int(dots.total / 1e9) == 142 and round(dots.active / 1e9) == 14


def test_deepseek_moe_v1_from_its_published_structure():
    """deepseek-moe-16b: 16.4B total and 2.8B activated (DeepSeekMoE paper), by hand.

    embedding and lm_head 102400·2048 = 209,715,200 each; attention (MHA, no bias) 4·2048² =
    16,777,216 · 28 layers; layer 0 dense 3·2048·10944 = 67,239,936; 27 MoE layers of router
    64·2048 = 131,072, experts 64·3·2048·1408 = 553,648,128, shared 3·2048·(2·1408) = 17,301,504;
    norms (2·28 + 1)·2048 = 116,736.
    """
    config = parse(DEEPSEEK_MOE_16B)
    counts = count_params(config)
    expected = (
        2 * 209_715_200
        + 28 * 16_777_216
        + 67_239_936
        + 27 * (131_072 + 553_648_128 + 17_301_504)
        + 116_736
    )
    assert counts.total == expected == 16_375_728_128
    assert round(counts.total / 1e9, 1) == 16.4
    assert counts.active == expected - 27 * (64 - 6) * 3 * 2048 * 1408
    assert round(counts.active / 1e9, 1) == 2.8
    assert config.warnings == (
        "deepseek is remote code with no transformers class: counted from its published structure "
        "(mlx-lm models/deepseek.py)",
    )
    every_other = parse(variant(DEEPSEEK_MOE_16B, moe_layer_freq=2))
    assert every_other.moe.moe_layers == tuple(range(2, 28, 2))
    dense = parse(variant(DEEPSEEK_MOE_16B, n_routed_experts=None))
    assert dense.moe is None and count_params(dense).parts["dense_mlp"] == 28 * 67_239_936


def test_mla_kv_cache_by_hand():
    """DeepSeek-V3: latent (512 + 64) values · 61 layers · 2 bytes = 70,272 bytes per token;
    expanded 128·(128 + 64) + 128·128 = 40,960 values · 61 · 2 = 4,997,120.
    DeepSeek-V2-Lite: (512 + 64) · 27 · 2 = 31,104; 16·192 + 16·128 = 5,120 · 27 · 2 = 276,480.
    Kimi-K2 (64 heads): the same latent as V3, 70,272;
    expanded 64·192 + 64·128 = 20,480 · 61 · 2."""
    for config, latent, expanded in (
        (load_sample("DeepSeek-V3.json"), 70_272, 4_997_120),
        (load_sample("DeepSeek-V2-Lite.json"), 31_104, 276_480),
        (KIMI_K2, 70_272, 2_498_560),
    ):
        (group,) = kv_cache(parse(config))
        assert (group.kind, group.bytes_per_token, group.expanded_bytes_per_token) == (
            "mla",
            latent,
            expanded,
        )


@pytest.mark.oracle
def test_mla_latent_is_what_transformers_caches():
    """transformers 5 caches the latent, not the expanded K/V: one 1-head tensor of kv_lora_rank
    and one of qk_rope_head_dim per layer per token."""
    torch, transformers = require_oracle()
    dims = dict(
        vocab_size=64,
        hidden_size=64,
        intermediate_size=96,
        moe_intermediate_size=16,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=4,
        n_routed_experts=8,
        n_group=2,
        topk_group=1,
        num_experts_per_tok=2,
        kv_lora_rank=24,
        q_lora_rank=16,
        qk_rope_head_dim=8,
        qk_nope_head_dim=12,
        v_head_dim=10,
        first_k_dense_replace=1,
    )
    model = transformers.AutoModelForCausalLM.from_config(transformers.DeepseekV3Config(**dims))
    tokens = 5
    cache = model(torch.arange(tokens)[None], use_cache=True).past_key_values
    cached_values = sum(layer.keys.numel() + layer.values.numel() for layer in cache.layers)
    config = parse({**dims, "model_type": "deepseek_v3"})
    (group,) = kv_cache(config, dtype_bytes=1)
    assert cached_values == tokens * group.bytes_per_token == tokens * 3 * (24 + 8)


def test_dots1_sliding_layers_from_max_window_layers():
    config = parse(variant(DOTS_LLM1, sliding_window=4096, max_window_layers=60))
    assert config.base.layer_types == ("full_attention",) * 60 + ("sliding_attention",) * 2
    assert [g.kind for g in kv_cache(config)] == ["full_attention", "sliding_attention"]


V3 = "DeepSeek-V3.json"
V2 = "DeepSeek-V2-Lite.json"

ERRORS = {
    "n_group-split": (
        V3,
        {"n_group": 7},
        "invalid value for 'n_group': 256 routed experts do not split into 7 equal groups "
        "of at least 2",
    ),
    "n_group-singletons": (
        V3,
        {"n_group": 256},
        "invalid value for 'n_group': 256 routed experts do not split into 256 equal groups "
        "of at least 2",
    ),
    "n_group-null": (
        V3,
        {"n_group": None},
        "wrong type for 'n_group': expected an integer, got null",
    ),
    "topk_group": (V3, {"topk_group": 9}, "invalid value for 'topk_group': 9 exceeds n_group (8)"),
    "top-k-beyond-groups": (
        V3,
        {"topk_group": 1, "num_experts_per_tok": 40},
        "invalid value for 'num_experts_per_tok': 40 exceeds the 32 experts in the "
        "topk_group (1) groups a token may use",
    ),
    "v2-topk_method": (
        V2,
        {"topk_method": "noaux_tc"},
        "invalid value for 'topk_method': \"noaux_tc\" is not one of greedy, "
        "group_limited_greedy (transformers' deepseek_v2 router)",
    ),
    "v2-grouped-without-groups": (
        V2,
        {"topk_method": "group_limited_greedy", "n_group": None},
        "invalid value for 'n_group': must be set when topk_method is \"group_limited_greedy\"",
    ),
    "v2-hidden-heads": (
        V2,
        {"hidden_size": 2050},
        "invalid value for 'hidden_size': 2050 is not a multiple of num_attention_heads (16)",
    ),
    "v2-missing-top-k": (
        V2,
        {"num_experts_per_tok": DROP},
        "missing required key 'num_experts_per_tok'",
    ),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_invalid_configs_name_the_key(case, write_config):
    sample, changes, message = ERRORS[case]
    result = run_cli(
        "inspect", str(write_config(variant(load_sample(sample), **changes))), "--format", "json"
    )
    assert result.exit_code == 1
    assert result.json()["error"]["message"] == message


def test_router_keys_transformers_ignores_are_warned():
    v3 = parse(variant(load_sample(V3), scoring_func="softmax", moe_layer_freq=2))
    assert v3.warnings == (
        "moe_layer_freq (2) is ignored by transformers' deepseek_v3: every layer from "
        "first_k_dense_replace on is MoE",
        'scoring_func "softmax" is ignored by transformers\' deepseek_v3, which uses "sigmoid"',
    )
    assert (v3.moe.scoring_func, v3.provenance["moe.scoring_func"]) == ("sigmoid", "architecture")
    v2 = parse(variant(load_sample(V2), norm_topk_prob=True))
    assert v2.warnings == (
        "norm_topk_prob true is ignored by transformers' deepseek_v2: its router never "
        "renormalises the top-k weights",
    )
    assert v2.moe.norm_topk_prob is None


@pytest.mark.parametrize(
    "name", [V3, V2, "kimi-k2.json", "glm-4.5-air.json", "dots-llm1.json", "deepseek-moe-16b.json"]
)
def test_inspect_both_formats(name, write_config):
    fixtures = {
        "kimi-k2.json": KIMI_K2,
        "glm-4.5-air.json": GLM_45_AIR,
        "dots-llm1.json": DOTS_LLM1,
        "deepseek-moe-16b.json": DEEPSEEK_MOE_16B,
    }
    path = str(write_config(fixtures[name], name) if name in fixtures else sample(name))
    report = run_cli("inspect", path, "--format", "json")
    assert report.exit_code == 0, report
    data = report.json()
    assert (
        data["params"]["total"]
        == count_params(parse(fixtures.get(name) or load_sample(name))).total
    )
    table = run_cli("inspect", path)
    assert table.exit_code == 0, table
    assert f"{data['params']['total']:,}" in table.stdout
    if data["base"]["mla"]:
        assert "MLA layers (latent)" in " ".join(table.stdout.split())
        assert "(expanded per" in table.stdout
    if "mtp" in data["params"]:
        assert data["params"]["checkpoint_total"] == data["params"]["total"] + data["params"]["mtp"]
        assert "checkpoint total" in table.stdout
