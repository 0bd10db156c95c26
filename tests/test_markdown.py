"""Markdown output: GitHub pipe tables for inspect, compare and lint."""

from __future__ import annotations

from moecfg.render.markdown import table
from tests.conftest import ROOT, run_cli, sample


def test_pipe_table_escapes_and_aligns():
    assert table(("a", "b"), [("x|y", "1")], "lr") == [
        "| a | b |",
        "| --- | ---: |",
        "| x\\|y | 1 |",
    ]


def test_lint_markdown(monkeypatch):
    monkeypatch.chdir(ROOT)
    case = "tests/cases/invalid/ATT001-heads-not-divisible-by-kv-heads.json"
    result = run_cli("lint", "--isolated", "--output-format", "markdown", case)
    assert result.exit_code == 1
    assert result.stdout == (
        "## moecfg lint\n\nFound 1 error in 1 file (1 file checked).\n\n"
        "| file | line | code | severity | message |\n| --- | ---: | --- | --- | --- |\n"
        f"| `{case}` | 9 | ATT001 | error | num_attention_heads (32) is not divisible by "
        "num_key_value_heads (5) (`$.num_key_value_heads`) |\n"
    )


def test_lint_markdown_clean():
    result = run_cli(
        "lint", "--isolated", "--output-format", "markdown", str(sample("Qwen3-8B.json"))
    )
    assert result.exit_code == 0
    assert result.stdout == "## moecfg lint\n\nAll checks passed! (1 file checked)\n"


def test_inspect_markdown_is_plain_text():
    result = run_cli("inspect", str(sample("Qwen3-30B-A3B.json")), "--format", "markdown")
    assert result.exit_code == 0
    assert "\x1b[" not in result.stdout
    assert "| routed_experts | 28,991,029,248 | 28.99B | 95.0% |" in result.stdout
