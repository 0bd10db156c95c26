"""`inspect --as FAMILY`: an unknown model_type read with a named adapter, never silently.

The config is the real Qwen3-30B-A3B sample renamed to a model_type moecfg does not know, with
its `architectures` removed so nothing else could identify it.
"""

from __future__ import annotations

import json

from moecfg.families import supported_model_types
from tests.conftest import load_sample, run_cli, sample
from tests.gguf_files import write_qwen3moe

WARNING = (
    "model_type 'qwen3_moe_successor' read with the 'qwen3_moe' adapter (--as qwen3_moe); the "
    "counts hold only as far as the model is built like qwen3_moe"
)


def unknown_config() -> dict:
    config = load_sample("Qwen3-30B-A3B.json")
    config["model_type"] = "qwen3_moe_successor"
    del config["architectures"]
    return config


def test_unknown_model_type_without_as_is_invalid(write_config) -> None:
    result = run_cli("inspect", str(write_config(unknown_config())), "--format", "json")
    assert result.exit_code == 1
    assert result.json()["error"]["message"] == (
        f"unsupported model_type 'qwen3_moe_successor' (supported: {supported_model_types()})"
    )


def test_as_reads_it_with_a_warning_in_json(write_config) -> None:
    path = write_config(unknown_config())
    result = run_cli("inspect", str(path), "--as", "qwen3_moe", "--format", "json")
    assert result.exit_code == 0, result
    report = result.json()
    expected = run_cli("inspect", str(sample("Qwen3-30B-A3B.json")), "--format", "json").json()
    assert (report["model_type"], report["family"]) == ("qwen3_moe_successor", "qwen3_moe")
    assert report["params"] == expected["params"]
    assert report["warnings"] == [WARNING]
    assert result.stderr == f"moecfg: warning: {path}: {WARNING}\n"


def test_as_warns_in_the_table_too(write_config) -> None:
    path = write_config(unknown_config())
    result = run_cli("inspect", str(path), "--as", "qwen3_moe")
    assert result.exit_code == 0, result
    assert "30,532,122,624" in result.stdout
    assert result.stderr == f"moecfg: warning: {path}: {WARNING}\n"


def test_as_its_own_family_says_nothing(write_config) -> None:
    result = run_cli(
        "inspect", str(sample("Qwen3-30B-A3B.json")), "--as", "qwen3_moe", "--format", "json"
    )
    assert result.exit_code == 0, result
    assert result.json()["warnings"] == []


def test_unknown_family_is_a_usage_error(write_config) -> None:
    path = write_config(unknown_config())
    message = f"unknown family 'qwen9' for --as (supported: {supported_model_types()})"
    as_json = run_cli("inspect", str(path), "--as", "qwen9", "--format", "json")
    assert as_json.exit_code == 2
    assert as_json.json()["error"] == {"code": "unknown_family", "key": None, "message": message}
    as_table = run_cli("inspect", str(path), "--as", "qwen9")
    assert as_table.exit_code == 2
    assert as_table.stderr == f"moecfg: error: {path}: {message}\n"


def test_as_is_refused_for_gguf(tmp_path) -> None:
    path = write_qwen3moe(tmp_path / "model.gguf")
    result = run_cli("inspect", str(path), "--as", "qwen3_moe", "--format", "json")
    assert result.exit_code == 2
    assert (
        result.json()["error"]["message"]
        == "--as applies to config.json input, not to a GGUF header"
    )


def test_as_needs_a_model_type(write_config) -> None:
    config = unknown_config()
    del config["model_type"]
    result = run_cli("inspect", str(write_config(config)), "--as", "qwen3_moe", "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["message"] == "missing required key 'model_type'"
