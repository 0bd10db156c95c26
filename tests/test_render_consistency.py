"""The table and the Markdown show the same rows with the same text; warnings go to stderr only."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from moecfg.core import inspect_source
from moecfg.render.markdown import render_inspect_markdown
from moecfg.render.table import render_inspect
from tests.conftest import SAMPLES, load_sample, run_cli, sample

MODELS = sorted(path.name for path in SAMPLES.glob("*.json"))


def table_text(report: dict) -> str:
    buffer = io.StringIO()
    render_inspect(report, Console(file=buffer, width=300, color_system=None, highlight=False))
    return buffer.getvalue()


def table_rows(text: str, title: str) -> list[list[str]]:
    """The cells of each row of the Rich table titled `title` (columns are 2+ spaces apart)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.rstrip() == title)
    rule = next(i for i in range(start, len(lines)) if lines[i].lstrip().startswith("─"))
    rows = []
    for line in lines[rule + 1 :]:
        if not line.strip():
            continue  # a section break inside the table
        if not line.startswith("  "):
            break  # the next block of output
        rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


def markdown_rows(text: str, heading: str) -> list[list[str]]:
    """The cells of each pipe-table row under `heading`, without bold marks or trailing blanks."""
    lines = text.splitlines()
    start = lines.index(heading)
    table = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        table.append(line)
    rows = []
    for line in table[2:]:
        cells = [cell.strip().replace("**", "") for cell in line.strip("|").split("|")]
        while cells and not cells[-1]:
            cells.pop()
        rows.append(cells)
    return rows


def config_cell(markdown: str, field: str) -> str:
    row = next(line for line in markdown.splitlines() if line.startswith(f"| {field} |"))
    return row.split(" | ")[1]


@pytest.mark.parametrize("model", MODELS)
def test_parameters_and_memory_rows_are_the_same_in_table_and_markdown(model):
    report = inspect_source(str(sample(model)))
    table, markdown = table_text(report), render_inspect_markdown(report)
    assert table_rows(table, "Parameters") == markdown_rows(markdown, "### Parameters")
    assert table_rows(table, "Memory") == markdown_rows(markdown, "### Memory")


def test_markdown_shows_mtp_and_checkpoint_total():
    """DeepSeek-V3: 671B plus a 14B MTP module, 685B on the Hub (SOURCES.md)."""
    markdown = run_cli("inspect", str(sample("DeepSeek-V3.json")), "--format", "markdown").stdout
    rows = {row[0]: row[1:] for row in markdown_rows(markdown, "### Parameters")}
    assert rows["total"] == ["671,026,404,352", "671.03B", "100.0%"]
    assert rows["MTP layers (checkpoint only)"] == ["13,463,426,048", "13.46B"]
    assert rows["checkpoint total"] == ["684,489,830,400", "684.49B"]
    assert 671_026_404_352 + 13_463_426_048 == 684_489_830_400


def test_markdown_shows_latent_and_expanded_kv_per_group():
    """MLA caches the latent (kv_lora_rank + qk_rope_head_dim per layer); expanded per head is
    num_heads * (qk_nope_head_dim + qk_rope_head_dim + v_head_dim); bf16 is 2 bytes."""
    config = load_sample("DeepSeek-V3.json")
    layers = config["num_hidden_layers"]
    latent = layers * (config["kv_lora_rank"] + config["qk_rope_head_dim"]) * 2
    expanded = (
        layers
        * config["num_attention_heads"]
        * (config["qk_nope_head_dim"] + config["qk_rope_head_dim"] + config["v_head_dim"])
        * 2
    )
    markdown = run_cli("inspect", str(sample("DeepSeek-V3.json")), "--format", "markdown").stdout
    rows = {row[0]: row[1] for row in markdown_rows(markdown, "### Memory")}
    assert rows[f"KV per token, {layers} MLA layers (latent)"] == f"{latent:,}"
    assert rows[f"KV per token, {layers} MLA layers (expanded per head)"] == f"{expanded:,}"
    assert rows["KV cache per token (bf16)"] == f"{latent:,}"


def test_dict_values_read_the_same_in_table_and_markdown():
    """gpt-oss-20b's rope_scaling holds floats (32.0) and a bool (false), in JSON's spelling."""
    expected = (
        "beta_fast=32, beta_slow=1, factor=32, original_max_position_embeddings=4096, "
        "rope_type=yarn, truncate=false"
    )
    report = inspect_source(str(sample("gpt-oss-20b.json")))
    assert config_cell(render_inspect_markdown(report), "base.rope_scaling") == expected
    row = next(r for r in table_rows(table_text(report), "Model") if r[0] == "rope_scaling")
    assert row == ["rope_scaling", expected, "present"]


def test_table_warnings_go_to_stderr_only(write_config):
    config = load_sample("Qwen3-30B-A3B.json")
    config["model_type"] = "my_qwen3_finetune"
    path = write_config(config)
    warning = (
        "model_type 'my_qwen3_finetune' is not a known family; read as 'qwen3_moe' because "
        "architectures[0] is 'Qwen3MoeForCausalLM'"
    )
    result = run_cli("inspect", str(path))
    assert result.exit_code == 0, result
    assert result.stderr == f"moecfg: warning: {path}: {warning}\n"
    assert "is not a known family" not in result.stdout


def test_not_counted_stays_in_the_table():
    """What the counts leave out qualifies them, so it is report output, not a diagnostic."""
    report = inspect_source(str(sample("Llama-4-Scout-17B-16E-Instruct.json")))
    assert report["excluded"]
    lines = table_text(report).splitlines()
    assert lines[-len(report["excluded"]) :] == [
        f"not counted: {excluded}" for excluded in report["excluded"]
    ]
