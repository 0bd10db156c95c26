"""Llama 4, Qwen3-VL-MoE, ERNIE 4.5 MoE and HunYuan MoE v1: counts identical to transformers,
published figures, the CLI on each family, architecture fallback and `moecfg families`."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from moecfg.families import CORE_FIELDS, FAMILIES, parse_config
from moecfg.families.fields import REQUIRED
from moecfg.loading.files import RawConfig
from moecfg.metrics import count_params
from tests.conftest import load_sample, run_cli, sample
from tests.oracle import oracle_counts, require_oracle

SCOUT = "Llama-4-Scout-17B-16E-Instruct.json"
#: Qwen3VLMoeForConditionalGeneration's vision tower; moecfg counts the rest.
QWEN3_VL_VISION = r"^model\.visual\."


def moecfg_counts(config: dict[str, Any]) -> dict[str, int]:
    counts = count_params(parse_config(RawConfig(source="test", data=config)))
    return {**counts.parts, "total": counts.total, "active": counts.active}


def parsed(config: dict[str, Any]):
    return parse_config(RawConfig(source="test", data=config))


# --- configs -------------------------------------------------------------------------------


def scout(**text_changes: Any) -> dict[str, Any]:
    """The real Llama-4-Scout config (v4 spelling), with `text_config` keys changed or dropped."""
    config = load_sample(SCOUT)
    for key, value in text_changes.items():
        if value is None:
            config["text_config"].pop(key, None)
        else:
            config["text_config"][key] = value
    return config


def scout_v5() -> dict[str, Any]:
    """Scout as transformers 5 writes it: rope_parameters carry the theta, `dtype` not torch_dtype."""
    config = scout(rope_theta=None, rope_scaling=None, torch_dtype=None)
    config["text_config"]["dtype"] = "bfloat16"
    config["text_config"]["rope_parameters"] = {
        "rope_type": "llama3", "rope_theta": 500000.0, "factor": 16.0, "high_freq_factor": 1.0,
        "low_freq_factor": 1.0, "original_max_position_embeddings": 8192,
    }
    return config


def scout_text_only() -> dict[str, Any]:
    """The text config on its own, as `llama4_text` (what Llama4ForCausalLM checkpoints carry)."""
    text = dict(load_sample(SCOUT)["text_config"])
    return {**text, "architectures": ["Llama4ForCausalLM"], "model_type": "llama4_text"}


#: Qwen3-VL-30B-A3B's dimensions (Qwen/Qwen3-VL-30B-A3B-Instruct config.json).
QWEN3_VL_TEXT = {
    "hidden_size": 2048, "intermediate_size": 6144, "num_hidden_layers": 48,
    "num_attention_heads": 32, "num_key_value_heads": 4, "head_dim": 128, "num_experts": 128,
    "num_experts_per_tok": 8, "moe_intermediate_size": 768, "vocab_size": 151936,
    "max_position_embeddings": 262144, "rms_norm_eps": 1e-6, "decoder_sparse_step": 1,
    "mlp_only_layers": [], "attention_bias": False,
}
QWEN3_VL_VISION_CONFIG = {
    "depth": 27, "hidden_size": 1152, "intermediate_size": 4304, "num_heads": 16,
    "out_hidden_size": 2048, "patch_size": 16, "spatial_merge_size": 2, "temporal_patch_size": 2,
    "num_position_embeddings": 2304, "deepstack_visual_indexes": [8, 16, 24],
}


def qwen3_vl_v4(**text_changes: Any) -> dict[str, Any]:
    """Qwen3-VL-30B-A3B written as its released config is: rope_theta/rope_scaling, torch_dtype."""
    text = {
        **QWEN3_VL_TEXT, "model_type": "qwen3_vl_moe_text", "torch_dtype": "bfloat16",
        "rope_theta": 5000000.0, "norm_topk_prob": True,
        "rope_scaling": {"mrope_interleaved": True, "mrope_section": [24, 20, 20], "rope_type": "default"},
        **text_changes,
    }
    return {
        "architectures": ["Qwen3VLMoeForConditionalGeneration"], "model_type": "qwen3_vl_moe",
        "tie_word_embeddings": False, "text_config": text, "vision_config": dict(QWEN3_VL_VISION_CONFIG),
    }


def qwen3_vl_v5(**outer: Any) -> dict[str, Any]:
    """The same dimensions through transformers' Qwen3VLMoeConfig: v5 spelling (num_local_experts,
    rope_parameters, dtype), and a text_config whose own tie_word_embeddings (true) is ignored."""
    _, transformers = require_oracle()
    config = transformers.Qwen3VLMoeConfig(
        text_config=dict(QWEN3_VL_TEXT), vision_config=dict(QWEN3_VL_VISION_CONFIG), **outer
    ).to_dict()
    config["architectures"] = ["Qwen3VLMoeForConditionalGeneration"]
    return json.loads(json.dumps(config))


#: ERNIE-4.5-21B-A3B's dimensions (baidu/ERNIE-4.5-21B-A3B-PT config.json), v4 spelling.
ERNIE_21B = {
    "architectures": ["Ernie4_5_MoeForCausalLM"], "model_type": "ernie4_5_moe",
    "hidden_size": 2560, "intermediate_size": 12288, "num_hidden_layers": 28,
    "num_attention_heads": 20, "num_key_value_heads": 4, "vocab_size": 103424,
    "max_position_embeddings": 131072, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
    "use_bias": False, "tie_word_embeddings": True, "torch_dtype": "bfloat16",
    "moe_num_experts": 64, "moe_k": 6, "moe_intermediate_size": 1536, "moe_num_shared_experts": 2,
    "moe_layer_start_index": 1, "moe_layer_end_index": 27, "moe_layer_interval": 1,
}


def ernie(**changes: Any) -> dict[str, Any]:
    config = {**ERNIE_21B, **changes}
    return {k: v for k, v in config.items() if v is not None}


def ernie_v5() -> dict[str, Any]:
    _, transformers = require_oracle()
    dims = {k: v for k, v in ERNIE_21B.items() if k not in ("architectures", "model_type", "torch_dtype", "rope_theta")}
    config = transformers.Ernie4_5_MoeConfig(**dims, rope_parameters={"rope_type": "default", "rope_theta": 500000.0}).to_dict()
    return json.loads(json.dumps({**config, "architectures": ["Ernie4_5_MoeForCausalLM"]}))


#: Hunyuan-A13B's dimensions (tencent/Hunyuan-A13B-Instruct config.json), as transformers reads
#: them: experts and the shared MLP are `intermediate_size` wide; `moe_topk` is one k per layer.
HUNYUAN_A13B = {
    "architectures": ["HunYuanMoEV1ForCausalLM"], "model_type": "hunyuan_v1_moe",
    "hidden_size": 4096, "intermediate_size": 3072, "num_hidden_layers": 32,
    "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 128, "vocab_size": 128167,
    "max_position_embeddings": 32768, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
    "tie_word_embeddings": True, "attention_bias": False, "torch_dtype": "bfloat16",
    "num_experts": 64, "moe_topk": [8] * 32,
}


def hunyuan(**changes: Any) -> dict[str, Any]:
    config = {**HUNYUAN_A13B, **changes}
    return {k: v for k, v in config.items() if v is not None}


def hunyuan_v5() -> dict[str, Any]:
    _, transformers = require_oracle()
    dims = {k: v for k, v in HUNYUAN_A13B.items() if k not in ("architectures", "model_type", "torch_dtype", "rope_theta")}
    config = transformers.HunYuanMoEV1Config(**dims).to_dict()
    return json.loads(json.dumps({**config, "architectures": ["HunYuanMoEV1ForCausalLM"]}))


# --- oracle --------------------------------------------------------------------------------

ORACLE_CASES: dict[str, tuple[Any, dict[str, Any]]] = {
    "llama4-scout": (lambda: load_sample(SCOUT), {}),
    "llama4-scout-v5-spelling": (scout_v5, {}),
    "llama4-text-only": (scout_text_only, {}),
    "llama4-interleave-2-128e": (lambda: scout(interleave_moe_layer_step=2, num_local_experts=128), {}),
    "llama4-moe-layers-list": (lambda: scout(moe_layers=[1, 5, 47, 60], interleave_moe_layer_step=3), {}),
    "llama4-tied-bias": (lambda: scout(tie_word_embeddings=True, attention_bias=True), {}),
    "llama4-no-head-dim": (lambda: scout(head_dim=None), {}),
    "qwen3-vl-moe-v4-spelling": (qwen3_vl_v4, {}),
    "qwen3-vl-moe-v5-spelling": (qwen3_vl_v5, {}),
    "qwen3-vl-moe-tied": (lambda: qwen3_vl_v5(tie_word_embeddings=True), {}),
    "qwen3-vl-moe-mlp-only": (lambda: qwen3_vl_v4(mlp_only_layers=[0, 47], decoder_sparse_step=2), {}),
    "ernie-21b-v4-spelling": (ernie, {}),
    "ernie-21b-v5-spelling": (ernie_v5, {}),
    "ernie-attribute-map-aliases": (
        lambda: ernie(moe_num_experts=None, moe_k=None, num_experts=64, num_experts_per_tok=6), {}
    ),
    "ernie-use-bias-tied": (lambda: ernie(use_bias=True), {}),
    "ernie-use-bias-untied": (lambda: ernie(use_bias=True, tie_word_embeddings=False), {}),
    "ernie-schedule-window": (
        lambda: ernie(moe_layer_start_index=3, moe_layer_end_index=20, moe_layer_interval=2), {}
    ),
    "ernie-end-minus-one-no-shared": (
        lambda: ernie(moe_layer_end_index=-1, moe_num_shared_experts=0), {}
    ),
    # The core keys given, every other key at its transformers default; the dense width is
    # required (layer 0 is dense).
    "ernie-defaults": (
        lambda: {"model_type": "ernie4_5_moe", "architectures": ["Ernie4_5_MoeForCausalLM"],
                 "hidden_size": 2560, "num_hidden_layers": 28, "num_attention_heads": 20,
                 "vocab_size": 103424, "moe_num_experts": 64, "moe_k": 6,
                 "moe_intermediate_size": 1536, "intermediate_size": 12288},
        {},
    ),
    "hunyuan-a13b-topk-list": (hunyuan, {"top_k_key": "moe_topk"}),
    "hunyuan-a13b-v5-spelling": (hunyuan_v5, {"top_k_key": "moe_topk"}),
    "hunyuan-int-topk-aliases": (
        lambda: hunyuan(moe_topk=None, num_experts=None, num_experts_per_tok=8, num_local_experts=64),
        {"top_k_key": "moe_topk"},
    ),
    "hunyuan-ignored-moe-intermediate-size": (
        lambda: hunyuan(moe_intermediate_size=[2048] * 32), {"top_k_key": "moe_topk"}
    ),
    "hunyuan-per-layer-topk": (
        lambda: hunyuan(moe_topk=[1, 2, 4, 8] * 8, tie_word_embeddings=False, attention_bias=True),
        {"top_k_key": "moe_topk"},
    ),
}


@pytest.mark.oracle
@pytest.mark.parametrize("case", sorted(ORACLE_CASES))
def test_counts_identical_to_transformers(case, tmp_path):
    build, oracle_options = ORACLE_CASES[case]
    config = build()
    if config["model_type"] == "qwen3_vl_moe":
        oracle_options = {"model_class": "AutoModelForImageTextToText", "skip": QWEN3_VL_VISION}
    assert moecfg_counts(config) == oracle_counts(copy.deepcopy(config), tmp_path, **oracle_options)


@pytest.mark.oracle
def test_llama4_scout_matches_published_figures(tmp_path):
    """meta-llama's model card: 109B total, 17B activated (SOURCES.md).

    The 109B includes the vision tower and projector that moecfg leaves out (it counts what
    AutoModelForCausalLM builds): text 107.77B + vision 1.71B (transformers'
    Llama4ForConditionalGeneration, vision parameters only) rounds to 109B. Active 17.17B counts
    embeddings, lm_head, attention, router, the shared expert and one routed expert per layer.
    """
    counts = moecfg_counts(load_sample(SCOUT))
    vision = oracle_counts(
        load_sample(SCOUT), tmp_path, model_class="AutoModelForImageTextToText",
        skip=r"^language_model\.",
    )["total"]
    assert round(counts["active"] / 1e9) == 17
    assert round(counts["total"] / 1e9) == 108
    assert round((counts["total"] + vision) / 1e9) == 109


# --- composed config and router facts -------------------------------------------------------


def test_llama4_router_shared_expert_and_exclusion():
    config = parsed(load_sample(SCOUT))
    assert config.family == "llama4"
    assert (config.moe.norm_topk_prob, config.moe.scoring_func, config.moe.router_bias) == (False, "sigmoid", False)
    assert (config.moe.num_shared_experts, config.moe.shared_expert_intermediate_size) == (1, 8192)
    assert config.excluded == FAMILIES["llama4"].excluded
    assert config.provenance["moe.num_experts"] == "present"


def test_llama4_interleave_step_makes_dense_layers_of_intermediate_size_mlp():
    config = parsed(scout(interleave_moe_layer_step=2))
    assert config.moe.moe_layers == tuple(range(1, 48, 2))
    assert config.base.intermediate_size == 16384


def test_llama4_dense_layers_need_intermediate_size_mlp():
    result = run_cli("inspect", "-", stdin=json.dumps(scout(interleave_moe_layer_step=2, intermediate_size_mlp=None)))
    assert result.exit_code == 1
    assert result.stderr == "moecfg: error: <stdin>: missing required key 'text_config.intermediate_size_mlp'\n"


def test_llama4_moe_layers_beyond_the_model_warn():
    config = parsed(scout(moe_layers=[1, 60]))
    assert config.moe.moe_layers == (1,)
    assert config.warnings == (
        "text_config.moe_layers names layers [60] beyond num_hidden_layers (48); transformers ignores them",
    )


def test_qwen3_vl_moe_router_always_renormalises_and_ties_by_the_outer_key():
    config = parsed(qwen3_vl_v4(norm_topk_prob=None, tie_word_embeddings=True))
    assert config.moe.norm_topk_prob is True
    assert config.base.tie_word_embeddings is False  # the outer key (false) decides
    assert config.provenance["base.tie_word_embeddings"] == "present"
    assert config.provenance["moe.norm_topk_prob"] == "architecture"
    assert config.base.qk_norm is True


def test_qwen3_vl_moe_norm_topk_prob_false_is_ignored_with_a_warning():
    config = parsed(qwen3_vl_v4(norm_topk_prob=False))
    assert config.moe.norm_topk_prob is True
    assert config.warnings == (
        "text_config.norm_topk_prob is false, but the Qwen3-VL-MoE router always renormalises "
        "its top-k weights; transformers ignores the key",
    )


def test_ernie_router_and_biases():
    config = parsed(ernie(use_bias=True))
    moe = config.moe
    assert (moe.norm_topk_prob, moe.scoring_func, moe.router_bias) == (True, "softmax", True)
    assert (moe.num_shared_experts, moe.shared_expert_intermediate_size, moe.shared_expert_bias) == (2, 3072, True)
    assert moe.expert_bias is False
    assert (config.base.attention_bias, config.base.mlp_bias, config.base.lm_head_bias) == (True, True, True)
    assert moe.moe_layers == tuple(range(1, 28))


def test_ernie_dense_layer_needs_intermediate_size():
    result = run_cli("inspect", "-", stdin=json.dumps(ernie(intermediate_size=None)))
    assert result.exit_code == 1
    assert result.stderr == "moecfg: error: <stdin>: missing required key 'intermediate_size'\n"


def test_ernie_aliases_that_disagree_are_an_error_naming_both():
    result = run_cli("inspect", "-", stdin=json.dumps(ernie(num_experts=32)))
    assert result.exit_code == 1
    assert result.stderr == (
        "moecfg: error: <stdin>: conflicting values for 'moe_num_experts' (an integer (64)) and its "
        "alias 'num_experts' (an integer (32))\n"
    )


def test_hunyuan_per_layer_top_k():
    config = parsed(hunyuan(moe_topk=[1, 2] * 16))
    assert config.moe.top_k_by_layer == (1, 2) * 16
    assert config.moe.num_experts_per_tok == 2
    assert (config.moe.norm_topk_prob, config.moe.scoring_func, config.moe.router_bias) == (True, "softmax", False)
    uniform = parsed(hunyuan())
    assert (uniform.moe.top_k_by_layer, uniform.moe.num_experts_per_tok) == ((), 8)
    assert (uniform.moe.num_shared_experts, uniform.moe.shared_expert_intermediate_size) == (1, 3072)
    assert uniform.base.intermediate_size is None
    assert uniform.provenance["moe.shared_expert_intermediate_size"] == "derived"


def test_hunyuan_per_layer_top_k_in_both_formats(write_config):
    path = str(write_config(hunyuan(moe_topk=[1, 2, 4, 8] * 8)))
    report = run_cli("inspect", path, "--format", "json").json()
    assert report["moe"]["top_k_by_layer"] == [1, 2, 4, 8] * 8
    assert report["params"]["active"] == moecfg_counts(hunyuan(moe_topk=[1, 2, 4, 8] * 8))["active"]
    table = run_cli("inspect", path).stdout
    assert "top_k_by_layer" in table and "1, 2, 4, 8, 1, 2" in " ".join(table.split())


def test_hunyuan_moe_intermediate_size_that_transformers_ignores_warns():
    assert parsed(hunyuan(moe_intermediate_size=[3072] * 32)).warnings == ()
    assert parsed(hunyuan(moe_intermediate_size=[2048] * 32)).warnings == (
        "moe_intermediate_size ([2048]) differs from intermediate_size (3072); transformers sizes "
        "the experts and the shared MLP by intermediate_size and ignores it",
    )


def test_hunyuan_uniform_expert_list_reads_as_one_count_with_a_warning():
    config = parsed(hunyuan(num_experts=[64] * 32))
    assert config.moe.num_experts == 64
    assert config.warnings == (
        "num_experts is a per-layer list; transformers accepts only an integer, read as 64",
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"num_experts": [64, 32] * 16},
         "invalid value for 'num_experts': per-layer counts differ ([32, 64]); transformers builds "
         "every layer with one expert count"),
        ({"moe_topk": [8] * 31},
         "invalid value for 'moe_topk': lists 31 layers but num_hidden_layers is 32"),
        ({"moe_topk": [8] * 5 + [65] + [8] * 26},
         "invalid value for 'moe_topk[5]': 65 exceeds the number of experts (64)"),
        ({"moe_topk": 65}, "invalid value for 'moe_topk': 65 exceeds the number of experts (64)"),
        ({"moe_topk": [8, "8"]}, "wrong type for 'moe_topk[1]': expected an integer, got a string (\"8\")"),
        ({"moe_topk": 0}, "invalid value for 'moe_topk': must be positive, got 0"),
    ],
)
def test_hunyuan_bad_lists_are_one_line_errors(changes, message):
    result = run_cli("inspect", "-", stdin=json.dumps(hunyuan(**changes)))
    assert result.exit_code == 1
    assert result.stderr == f"moecfg: error: <stdin>: {message}\n"


# --- the CLI on every family -----------------------------------------------------------------

CLI_SAMPLES = {
    "llama4": lambda: load_sample(SCOUT),
    "llama4_text": scout_text_only,
    "qwen3_vl_moe": qwen3_vl_v4,
    "ernie4_5_moe": ernie,
    "hunyuan_v1_moe": hunyuan,
}


@pytest.mark.parametrize("family", sorted(CLI_SAMPLES))
def test_inspect_each_family_in_both_formats(family, write_config):
    path = str(sample(SCOUT)) if family == "llama4" else str(write_config(CLI_SAMPLES[family]()))
    as_json = run_cli("inspect", path, "--format", "json")
    assert as_json.exit_code == 0, as_json
    report = as_json.json()
    assert (report["family"], report["model_type"]) == (family, family)
    assert report["params"]["total"] == moecfg_counts(CLI_SAMPLES[family]())["total"]
    assert report["excluded"] == list(FAMILIES[family].excluded)
    table = run_cli("inspect", path)
    assert table.exit_code == 0, table
    assert f"{report['params']['total']:,}" in table.stdout
    for fact in ("norm_topk_prob", "scoring_func", "router_bias"):
        assert fact in table.stdout
    for excluded in report["excluded"]:
        assert "not counted:" in table.stdout and excluded.split()[0] in table.stdout


# --- unknown model_type read through architectures ------------------------------------------


@pytest.mark.parametrize(
    ("config", "family", "architecture"),
    [
        (lambda: {**load_sample(SCOUT), "model_type": "scout_finetune"}, "llama4", "Llama4ForConditionalGeneration"),
        (lambda: ernie(model_type="ernie_custom"), "ernie4_5_moe", "Ernie4_5_MoeForCausalLM"),
        (lambda: hunyuan(model_type="hunyuan_a13b"), "hunyuan_v1_moe", "HunYuanMoEV1ForCausalLM"),
    ],
)
def test_unknown_model_type_is_read_by_its_architecture(config, family, architecture, write_config):
    data = config()
    path = write_config(data)
    warning = (
        f"model_type '{data['model_type']}' is not a known family; read as '{family}' "
        f"because architectures[0] is '{architecture}'"
    )
    as_json = run_cli("inspect", str(path), "--format", "json")
    assert as_json.exit_code == 0, as_json
    report = as_json.json()
    assert (report["model_type"], report["family"]) == (data["model_type"], family)
    assert report["warnings"] == [warning]
    assert as_json.stderr == f"moecfg: warning: {path}: {warning}\n"
    table = run_cli("inspect", str(path))
    assert f"moecfg: warning: {path}: {warning}\n" in table.stderr
    assert f"(read as {family})" in table.stdout


def test_unknown_model_type_and_unknown_architecture_is_an_error():
    data = ernie(model_type="ernie_custom", architectures=["ErnieSomethingElse"])
    result = run_cli("inspect", "-", stdin=json.dumps(data))
    assert result.exit_code == 1
    assert result.stderr.startswith("moecfg: error: <stdin>: unsupported model_type 'ernie_custom' (supported: ")


# --- moecfg families -----------------------------------------------------------------------


def _shown_key(family, field, key):
    return key if family.text_config is None or field.top_level else f"{family.text_config}.{key}"


def test_families_json_lists_every_field_of_every_family():
    result = run_cli("families", "--format", "json")
    assert result.exit_code == 0, result
    listed = {entry["model_type"]: entry for entry in result.json()["families"]}
    assert set(listed) == set(FAMILIES)
    for model_type, family in FAMILIES.items():
        entry = listed[model_type]
        assert entry["architectures"] == list(family.architectures)
        assert entry["excluded"] == list(family.excluded)
        assert entry["text_config"] == family.text_config
        assert len(entry["fields"]) == len(family.fields)
        for row, field in zip(entry["fields"], family.fields.values(), strict=True):
            assert row["name"] == field.name
            assert row["key"] == _shown_key(family, field, field.key)
            assert row["aliases"] == [_shown_key(family, field, a) for a in field.aliases]
            assert row["kind"] == field.kind
            assert row["required"] is (field.default is REQUIRED or field.name in CORE_FIELDS)
            if not row["required"]:
                expected = list(field.default) if isinstance(field.default, tuple) else field.default
                assert row["default"] == expected


def test_families_shows_nesting_aliases_and_top_level_keys():
    listed = {e["model_type"]: e for e in run_cli("families", "-f", "json").json()["families"]}
    llama4 = {f["name"]: f for f in listed["llama4"]["fields"]}
    assert llama4["moe.num_experts"]["key"] == "text_config.num_local_experts"
    assert llama4["base.intermediate_size"]["key"] == "text_config.intermediate_size_mlp"
    qwen3_vl = {f["name"]: f for f in listed["qwen3_vl_moe"]["fields"]}
    assert qwen3_vl["base.tie_word_embeddings"]["key"] == "tie_word_embeddings"
    ernie_fields = {f["name"]: f for f in listed["ernie4_5_moe"]["fields"]}
    assert ernie_fields["moe.num_experts"]["aliases"] == ["num_experts"]
    assert ernie_fields["base.tie_word_embeddings"]["default"] is True
    hunyuan_fields = {f["name"]: f for f in listed["hunyuan_v1_moe"]["fields"]}
    assert hunyuan_fields["moe.num_experts_per_tok"]["kind"] == "int_or_int_list"


def test_families_table_and_markdown_name_every_family_and_key(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # wide enough that no key is wrapped
    table = run_cli("families")
    markdown = run_cli("families", "--format", "markdown")
    assert table.exit_code == markdown.exit_code == 0
    for model_type, family in FAMILIES.items():
        assert f"## {model_type}" in markdown.stdout
        assert model_type in table.stdout
        for field in family.fields.values():
            assert f"`{_shown_key(family, field, field.key)}`" in markdown.stdout
            assert _shown_key(family, field, field.key) in table.stdout
    assert "not counted:" in table.stdout


def test_families_lists_core_keys_as_required_whatever_the_class_default():
    """inspect refuses a config without them, so the listing must not offer a default."""
    listing = run_cli("families", "--format", "json").json()
    for family in listing["families"]:
        for entry in family["fields"]:
            if entry["name"] in CORE_FIELDS:
                assert entry["required"] and entry["default"] is None, (family["model_type"], entry)
