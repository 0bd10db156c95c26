"""Strings from a config, a file name or the command line are data: no table reads them as Rich
markup (`[/]` used to crash, `[bold]x` lost its brackets) or as emoji codes."""

from __future__ import annotations

import copy
import io
from collections.abc import Callable
from typing import Any

import pytest
from rich.console import Console

from moecfg.compare import build_comparison
from moecfg.core import inspect_source
from moecfg.deploy import build_deployment_spec
from moecfg.family_docs import families_report
from moecfg.render.checkpoint_table import render_checkpoint
from moecfg.render.compare_table import render_compare
from moecfg.render.deployment_table import render_deployment
from moecfg.render.families import render_families
from moecfg.render.table import render_inspect
from tests.conftest import load_sample, run_cli, sample

#: A closing tag with nothing to close (MarkupError), tags that vanish, an emoji code.
HOSTILE = ("[/]", "[bold]x", "[red]y[/red]", ":smile:")
QWEN3_MOE = "Qwen3-30B-A3B.json"


def rendered(render: Callable[[Any, Console], None], document: Any) -> str:
    """What a renderer prints without colour, wide enough that no cell wraps, as `words`."""
    buffer = io.StringIO()
    render(document, Console(file=buffer, width=400, color_system=None, highlight=False))
    return words(buffer.getvalue())


def words(text: str) -> str:
    """Output with each run of whitespace (padding, line breaks) as one space."""
    return " ".join(text.split())


@pytest.mark.parametrize("value", HOSTILE)
def test_set_value_is_shown_verbatim(value):
    result = run_cli("inspect", str(sample("Qwen3-8B.json")), "--set", f"dtype={value}")
    assert result.exit_code == 0, result
    assert f"override: base.dtype = {value} (was bfloat16)\n" in result.stdout
    dtype_row = next(
        line for line in result.stdout.splitlines() if line.strip().startswith("dtype")
    )
    assert dtype_row.split() == ["dtype", value, "override"]


@pytest.mark.parametrize("value", HOSTILE)
def test_config_value_is_shown_verbatim(value, write_config):
    config = load_sample(QWEN3_MOE)
    config["torch_dtype"] = value
    result = run_cli("inspect", str(write_config(config)))
    assert result.exit_code == 0, result
    dtype_row = next(
        line for line in result.stdout.splitlines() if line.strip().startswith("dtype")
    )
    assert dtype_row.split() == ["dtype", value, "alias:torch_dtype"]


@pytest.mark.parametrize("value", HOSTILE)
def test_model_type_read_through_architectures_is_shown_verbatim(value, write_config):
    config = load_sample(QWEN3_MOE)
    config["model_type"] = value
    path = write_config(config)
    result = run_cli("inspect", str(path))
    assert result.exit_code == 0, result
    assert words(result.stdout).startswith(f"{path} — {value} (read as qwen3_moe) MoE Model ")
    assert result.stderr == (
        f"moecfg: warning: {path}: model_type '{value}' is not a known family; read as "
        "'qwen3_moe' because architectures[0] is 'Qwen3MoeForCausalLM'\n"
    )


#: Hostile file names: "/" cannot be in a name, so "[/]" is a folder "[" holding "]x.json".
HOSTILE_NAMES = ("[/]x.json", "[bold]x.json", "[red]y[", ":smile:.json")


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_file_name_is_shown_verbatim(name, tmp_path):
    path = tmp_path / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(sample("Qwen3-8B.json").read_text())
    result = run_cli("inspect", str(path))
    assert result.exit_code == 0, result
    assert words(result.stdout).startswith(f"{path} — qwen3 dense Model ")


#: Stems for compare columns: names cannot hold "/", and a ":" reads as a source prefix.
HOSTILE_STEMS = ("[bold]", "[bold]x", "[red]y", "[i]z")


@pytest.mark.parametrize(("value", "stem"), list(zip(HOSTILE, HOSTILE_STEMS, strict=True)))
def test_compare_columns_and_overrides_are_shown_verbatim(value, stem, write_config):
    first = write_config(load_sample("Qwen3-8B.json"), name=f"{stem}.json")
    second = sample("Llama-3.1-8B.json")
    result = run_cli("compare", str(first), str(second), "--set", f"dtype={value}")
    assert result.exit_code == 0, result
    assert words(result.stdout).startswith(f"Comparison {stem} Llama-3.1-8B ─")
    assert f"override {stem}: base.dtype = {value} (was bfloat16)\n" in result.stdout
    assert f"override Llama-3.1-8B: base.dtype = {value} (was bfloat16)\n" in result.stdout


@pytest.mark.parametrize("value", HOSTILE)
def test_excluded_and_by_kind_rows_are_shown_verbatim(value):
    report = inspect_source(str(sample(QWEN3_MOE)))
    report["excluded"] = [f"the {value} part"]
    report["base"]["attention_by_kind"] = [{"kind": value, "num_key_value_heads": 2}]
    report["provenance"]["base.attention_by_kind"] = f"alias:{value}"
    text = rendered(render_inspect, report)
    assert text.endswith(f"not counted: the {value} part")
    assert f"{value} layers 2 KV heads alias:{value}" in text


@pytest.mark.parametrize("value", HOSTILE)
def test_deployment_table_shows_kinds_verbatim(value):
    spec = build_deployment_spec(4096, None, None, None, "80GB")
    deployment = copy.deepcopy(
        inspect_source(str(sample(QWEN3_MOE)), deployment=spec)["deployment"]
    )
    deployment["kv_dtype"] = value
    deployment["kv_cache_groups"][0]["kind"] = value
    text = rendered(render_deployment, deployment)
    assert text.startswith(f"Deployment: 4,096 tokens × batch 1, KV at {value} KV cache ")
    assert f"48 {value} layers 4,096 384.00 MiB" in text


@pytest.mark.parametrize("value", HOSTILE)
def test_checkpoint_table_shows_quantization_and_findings_verbatim(value):
    section = {
        "status": "mismatch",
        "files": 1,
        "tensors": 10,
        "quantization": value,
        "params": {
            "status": "mismatch",
            "checkpoint": 110,
            "config": 100,
            "difference": 10,
            "explained_by": [{"what": value, "params": 10, "tensors": 1}],
        },
        "experts": {"config": 4, "per_layer": {}, "status": "match"},
        "findings": [f"the weights hold {value}"],
    }
    text = rendered(render_checkpoint, section)
    assert text.startswith("Checkpoint — mismatch what value ")
    assert f"quantization {value} " in text
    assert f"explained by {value} +10 1 tensors" in text
    assert text.endswith(f"checkpoint: the weights hold {value}")


@pytest.mark.parametrize("value", HOSTILE)
def test_families_table_shows_every_cell_verbatim(value):
    family = copy.deepcopy(families_report()["families"][0])
    family["model_type"] = value
    family["summary"] = value
    family["architectures"] = [value]
    family["excluded"] = [value]
    family["fields"] = [
        {
            **family["fields"][0],
            "name": value,
            "key": value,
            "aliases": [value],
            "kind": value,
            "required": False,
            "default": value,
        }
    ]
    text = rendered(render_families, {"families": [family]})
    assert text.startswith(f"{value} — {value} reported as key aliases kind default ")
    assert text.endswith(" ".join([value] * 5) + f" architectures: {value} not counted: {value}")


def test_compare_table_shows_model_names_verbatim():
    """Names can also come from Hub ids and GGUF sources, so every hostile string is tried."""
    comparison = build_comparison([inspect_source(str(sample("Qwen3-8B.json")))] * len(HOSTILE))
    for model, value in zip(comparison["models"], HOSTILE, strict=True):
        model["name"] = value
    text = rendered(render_compare, comparison)
    assert text.startswith("Comparison " + " ".join(HOSTILE) + " ─")
