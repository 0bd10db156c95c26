"""`moecfg inspect` on the core families: the JSON contract, provenance, and every failure."""

from __future__ import annotations

import json
import os

import pytest

from tests.conftest import load_sample, run_cli, sample

QWEN3_MOE = "Qwen3-30B-A3B.json"


def test_qwen3_30b_a3b_json_matches_transformers_counts():
    """The figures transformers 5.23 gives on the meta device (tests/test_oracle_core.py)."""
    result = run_cli("inspect", str(sample(QWEN3_MOE)), "--format", "json")
    assert result.exit_code == 0, result
    report = result.json()
    assert report["params"]["total"] == 30532122624
    assert report["params"]["active"] == 3353032704
    assert report["moe"]["num_experts"] == 128
    assert report["moe"]["num_experts_per_tok"] == 8
    assert report["derived"]["sparsity"] == 0.0625
    assert report["derived"]["is_truly_sparse"] is True
    assert report["is_moe"] is True


def test_qwen3_30b_a3b_agrees_with_published_figures():
    """Model card: "30.5B in total and 3.3B activated" (embeddings and lm_head included)."""
    report = run_cli("inspect", str(sample(QWEN3_MOE)), "--format", "json").json()
    assert round(report["params"]["total"] / 1e9, 1) == 30.5
    # 3,353,032,704 active: the card rounds it down to 3.3B
    assert 3.3e9 <= report["params"]["active"] < 3.4e9
    non_embedding = report["params"]["total"] - report["params"]["embedding"] - report["params"]["lm_head"]
    assert round(non_embedding / 1e9, 1) == 29.9


def test_json_contract_fields():
    report = run_cli("inspect", str(sample(QWEN3_MOE)), "--format", "json").json()
    for key in ("source", "model_type", "is_moe", "base", "moe", "derived", "params", "memory",
                "provenance", "warnings"):
        assert key in report
    for key in ("hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
                "head_dim", "intermediate_size", "vocab_size", "max_position_embeddings",
                "tie_word_embeddings"):
        assert key in report["base"]
    for key in ("num_experts", "num_experts_per_tok", "expert_intermediate_size",
                "norm_topk_prob", "moe_layers"):
        assert key in report["moe"]
    for key in ("sparsity", "is_truly_sparse", "gqa_group_size"):
        assert key in report["derived"]
    assert set(report["memory"]["weights_bytes"]) == {"bf16", "fp8", "int4"}


def test_derived_memory_by_hand():
    report = run_cli("inspect", str(sample(QWEN3_MOE)), "--format", "json").json()
    total = report["params"]["total"]
    assert report["memory"]["weights_bytes"] == {"bf16": 2 * total, "fp8": total, "int4": total // 2}
    # K and V, 4 kv heads × head_dim 128, 48 layers, 2 bytes (bf16): 2·4·128·48·2
    assert report["memory"]["kv_cache_bytes_per_token"] == 2 * 4 * 128 * 48 * 2 == 98304
    assert report["derived"]["gqa_group_size"] == 32 // 4
    assert report["derived"]["flops_per_token"] == 2 * report["params"]["active"]


def test_dense_model_has_no_moe_block():
    report = run_cli("inspect", str(sample("Llama-3.1-8B.json")), "--format", "json").json()
    assert report["is_moe"] is False
    assert report["moe"] is None
    assert report["derived"]["sparsity"] is None
    assert report["params"]["active"] == report["params"]["total"] == 8030261248


def test_provenance_kinds(write_config):
    config = load_sample(QWEN3_MOE)
    for key in ("head_dim", "norm_topk_prob", "num_experts", "torch_dtype"):
        del config[key]
    config["num_local_experts"] = 128
    report = run_cli("inspect", str(write_config(config)), "--format", "json").json()
    provenance = report["provenance"]
    assert provenance["base.hidden_size"] == "present"
    assert provenance["moe.num_experts"] == "alias:num_local_experts"
    assert provenance["base.head_dim"] == "derived"
    assert report["base"]["head_dim"] == 2048 // 32
    # transformers' Qwen3MoeConfig.norm_topk_prob default is False
    assert provenance["moe.norm_topk_prob"] == "default"
    assert report["moe"]["norm_topk_prob"] is False
    assert provenance["base.dtype"] == "default"
    assert provenance["base.qk_norm"] == "architecture"


def test_table_shows_provenance_and_parts():
    result = run_cli("inspect", str(sample(QWEN3_MOE)))
    assert result.exit_code == 0, result
    for text in ("Parameters", "routed_experts", "30,532,122,624", "3,353,032,704",
                 "alias:torch_dtype", "all 48", "KV cache per token"):
        assert text in result.stdout


def test_folder_holding_config_json(tmp_path):
    (tmp_path / "config.json").write_text(sample(QWEN3_MOE).read_text())
    report = run_cli("inspect", str(tmp_path), "--format", "json").json()
    assert report["params"]["total"] == 30532122624
    assert report["source"] == str(tmp_path)


def test_stdin():
    result = run_cli("inspect", "-", "--format", "json", stdin=sample(QWEN3_MOE).read_text())
    assert result.exit_code == 0, result
    assert result.json()["source"] == "<stdin>"


@pytest.mark.parametrize("name", sorted(p.name for p in sample("").glob("*.json")))
def test_every_sample_parses_or_is_reported_unsupported(name):
    """Each real sample either inspects cleanly or names its unsupported model_type."""
    result = run_cli("inspect", str(sample(name)), "--format", "json")
    if result.exit_code == 0:
        assert result.json()["params"]["total"] > 0
        assert run_cli("inspect", str(sample(name))).exit_code == 0
    else:
        assert result.json()["error"]["code"] == "unsupported_model_type"


def _qwen(**changes):
    config = load_sample(QWEN3_MOE)
    for key, value in changes.items():
        if value is None:
            config.pop(key)
        else:
            config[key] = value
    return config


FAILURES = [
    # (id, content, exit code, message after "<path>: ", error code, key)
    ("missing-num-experts", _qwen(num_experts=None), 1,
     "missing required key 'num_experts'", "missing_key", "num_experts"),
    ("missing-moe-intermediate", _qwen(moe_intermediate_size=None), 1,
     "missing required key 'moe_intermediate_size'", "missing_key", "moe_intermediate_size"),
    ("missing-hidden-size", _qwen(hidden_size=None), 1,
     "missing required key 'hidden_size'", "missing_key", "hidden_size"),
    ("string-int", _qwen(hidden_size="128"), 1,
     "wrong type for 'hidden_size': expected an integer, got a string (\"128\")", "wrong_type", "hidden_size"),
    ("bool-int", _qwen(num_experts=True), 1,
     "wrong type for 'num_experts': expected an integer, got a boolean (true)", "wrong_type", "num_experts"),
    ("float-int", _qwen(moe_intermediate_size=1.5), 1,
     "wrong type for 'moe_intermediate_size': expected an integer, got a number (1.5)", "wrong_type",
     "moe_intermediate_size"),
    ("null-int", json.dumps(_qwen()).replace('"num_experts": 128', '"num_experts": null'), 1,
     "wrong type for 'num_experts': expected an integer, got null", "wrong_type", "num_experts"),
    ("zero-size", _qwen(hidden_size=0), 1,
     "invalid value for 'hidden_size': must be positive, got 0", "out_of_range", "hidden_size"),
    ("negative-size", _qwen(moe_intermediate_size=-768), 1,
     "invalid value for 'moe_intermediate_size': must be positive, got -768", "out_of_range",
     "moe_intermediate_size"),
    ("huge-size", _qwen(hidden_size=10**30), 1,
     "invalid value for 'hidden_size': 1000000000000000000000000000000 is beyond any real model "
     "(at most 1,099,511,627,776)", "out_of_range", "hidden_size"),
    ("too-many-layers", _qwen(num_hidden_layers=10**9), 1,
     "invalid value for 'num_hidden_layers': 1000000000 layers is beyond any real model "
     "(at most 100,000)", "out_of_range", "num_hidden_layers"),
    ("top-k-above-experts", _qwen(num_experts_per_tok=129), 1,
     "invalid value for 'num_experts_per_tok': 129 exceeds the number of experts (128)", "invalid_value",
     "num_experts_per_tok"),
    ("top-k-zero", _qwen(num_experts_per_tok=0), 1,
     "invalid value for 'num_experts_per_tok': must be positive, got 0", "out_of_range",
     "num_experts_per_tok"),
    ("heads-not-divisible", _qwen(num_key_value_heads=5), 1,
     "invalid value for 'num_key_value_heads': num_attention_heads (32) is not divisible by "
     "num_key_value_heads (5)", "invalid_value", "num_key_value_heads"),
    ("head-dim-not-derivable", _qwen(head_dim=None, hidden_size=2050), 1,
     "invalid value for 'head_dim': absent, and hidden_size (2050) is not divisible by "
     "num_attention_heads (32)", "invalid_value", "head_dim"),
    ("nan", json.dumps(_qwen(rope_theta=None)).replace("{", '{"rope_theta": NaN, ', 1), 1,
     "invalid value for 'rope_theta': NaN is not a finite number", "non_finite", "rope_theta"),
    ("infinity", json.dumps(_qwen(hidden_size=None)).replace("{", '{"hidden_size": -Infinity, ', 1), 1,
     "invalid value for 'hidden_size': -Infinity is not a finite number", "non_finite", "hidden_size"),
    ("alias-conflict", _qwen(num_local_experts=64), 1,
     "conflicting values for 'num_experts' (an integer (128)) and its alias 'num_local_experts' "
     "(an integer (64))", "alias_conflict", "num_experts"),
    ("unsupported", '{"model_type": "bert", "architectures": ["BertModel"]}', 1,
     "unsupported model_type 'bert' (supported: ", "unsupported_model_type", "model_type"),
    ("control-characters-escaped", '{"model_type": "a\\nb\\u2028"}', 1,
     "unsupported model_type 'a\\nb\\u2028' (supported: ", "unsupported_model_type", "model_type"),
    ("no-model-type", '{"hidden_size": 8}', 1,
     "missing required key 'model_type'", "missing_key", "model_type"),
    ("not-utf8", b'{"model_type": "\xff"}', 1,
     "not UTF-8 text (invalid byte 0xff at offset 16)", "not_utf8", None),
    ("not-json", "{'model_type': 'qwen3_moe'}", 1,
     "not valid JSON: Expecting property name enclosed in double quotes at line 1 column 2",
     "not_json", None),
    ("empty-file", "", 1, "not valid JSON: Expecting value at line 1 column 1", "not_json", None),
    ("json-array", "[1, 2]", 1, "JSON top level is an array, expected an object", "not_object", None),
    ("deep-nesting", "[" * 100000 + "]" * 100000, 1, "not valid JSON: nested too deeply", "not_json", None),
]


@pytest.mark.parametrize(("content", "exit_code", "message", "code", "key"),
                         [f[1:] for f in FAILURES], ids=[f[0] for f in FAILURES])
def test_failures_one_line_exact(write_config, content, exit_code, message, code, key):
    path = write_config(content, "bad.json")
    result = run_cli("inspect", str(path))
    assert result.exit_code == exit_code, result
    assert result.stdout == ""
    line = result.stderr
    assert line.count("\n") == 1 and "Traceback" not in line
    assert line.startswith(f"moecfg: error: {path}: {message}"), line
    as_json = run_cli("inspect", str(path), "--format", "json")
    assert as_json.exit_code == exit_code
    error = as_json.json()["error"]
    assert error["code"] == code and error["key"] == key
    assert error["message"].startswith(message)
    assert as_json.json()["source"] == str(path)


def test_unsupported_lists_supported_families(write_config):
    path = write_config('{"model_type": "bert"}')
    stderr = run_cli("inspect", str(path)).stderr
    assert "llama" in stderr and "qwen3_moe" in stderr


def test_no_such_file_exits_2(tmp_path):
    missing = tmp_path / "nope.json"
    result = run_cli("inspect", str(missing))
    assert result.exit_code == 2
    assert result.stderr == f"moecfg: error: {missing}: no such file or directory\n"


def test_folder_without_config_exits_2(tmp_path):
    result = run_cli("inspect", str(tmp_path), "--format", "json")
    assert result.exit_code == 2
    assert result.stderr == f"moecfg: error: {tmp_path}: folder has no config.json\n"
    assert result.json()["error"] == {"code": "no_config", "key": None, "message": "folder has no config.json"}


def test_directory_named_config_json(tmp_path):
    (tmp_path / "config.json").mkdir()
    result = run_cli("inspect", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr == f"moecfg: error: {tmp_path}: config.json is not a regular file\n"


def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "config.json"
    os.mkfifo(fifo)
    result = run_cli("inspect", str(fifo))
    assert result.exit_code == 2
    assert result.stderr == f"moecfg: error: {fifo}: config.json is not a regular file\n"


def test_symlink_loop(tmp_path):
    loop = tmp_path / "loop.json"
    loop.symlink_to(loop)
    result = run_cli("inspect", str(loop))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"moecfg: error: {loop}: cannot read: ")


def test_bom_is_tolerated(write_config):
    path = write_config(b"\xef\xbb\xbf" + sample(QWEN3_MOE).read_bytes())
    assert run_cli("inspect", str(path), "--format", "json").exit_code == 0


def test_json_path_output_is_pure_json_with_warnings_on_stderr(write_config):
    config = load_sample(QWEN3_MOE)
    config["model_type"] = "my_qwen3_finetune"
    result = run_cli("inspect", str(write_config(config)), "--format", "json")
    assert result.exit_code == 0
    warning = ("model_type 'my_qwen3_finetune' is not a known family; read as 'qwen3_moe' because "
               "architectures[0] is 'Qwen3MoeForCausalLM'")
    assert result.json()["warnings"] == [warning]
    assert result.stderr.endswith(f": {warning}\n")


@pytest.mark.parametrize(
    ("name", "key", "shown"),
    [
        ("DeepSeek-V3.json", "n_routed_experts", "n_routed_experts"),
        ("DeepSeek-V3.json", "num_experts_per_tok", "num_experts_per_tok"),
        ("DeepSeek-V3.json", "moe_intermediate_size", "moe_intermediate_size"),
        ("Mixtral-8x7B-v0.1.json", "num_local_experts", "num_local_experts"),
        ("Mixtral-8x7B-v0.1.json", "intermediate_size", "intermediate_size"),
        ("gpt-oss-20b.json", "vocab_size", "vocab_size"),
        ("Llama-4-Scout-17B-16E-Instruct.json", "text_config.num_local_experts",
         "text_config.num_local_experts"),
        ("Qwen3-Next-80B-A3B-Thinking.json", "num_hidden_layers", "num_hidden_layers"),
        ("Llama-3.1-8B.json", "intermediate_size", "intermediate_size"),
    ],
)
def test_core_keys_are_never_defaulted(write_config, name, key, shown):
    """transformers would fill these from its reference checkpoint; moecfg refuses to guess."""
    config = load_sample(name)
    holder = config
    *parents, leaf = key.split(".")
    for parent in parents:
        holder = holder[parent]
    del holder[leaf]
    path = write_config(config)
    result = run_cli("inspect", str(path))
    assert result.exit_code == 1
    assert result.stderr == f"moecfg: error: {path}: missing required key '{shown}'\n"


def test_provenance_names_the_key_read_under_another_name():
    """Llama 4's dense width is `intermediate_size_mlp`; its `intermediate_size` is the experts'."""
    report = run_cli("inspect", str(sample("Llama-4-Scout-17B-16E-Instruct.json")), "--format", "json").json()
    assert report["base"]["intermediate_size"] == 16384
    assert report["keys"]["base.intermediate_size"] == "text_config.intermediate_size_mlp"
    assert report["keys"]["moe.expert_intermediate_size"] == "text_config.intermediate_size"
    table = run_cli("inspect", str(sample("Mixtral-8x7B-v0.1.json"))).stdout
    assert "present as num_local_experts" in table
    assert "present as intermediate_size" in table


def test_v5_rope_parameters_scaling_is_read_through_its_alias(write_config):
    config = load_sample("Llama-3.1-8B.json")
    scaling = config.pop("rope_scaling")
    config["rope_parameters"] = {**scaling, "rope_theta": config.pop("rope_theta")}
    report = run_cli("inspect", str(write_config(config)), "--format", "json").json()
    assert report["base"]["rope_scaling"] == scaling
    assert report["provenance"]["base.rope_scaling"] == "alias:rope_parameters"
    assert report["provenance"]["base.rope_theta"] == "alias:rope_parameters.rope_theta"
