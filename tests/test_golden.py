"""Golden files fix the Markdown and the no-colour Rich output of three real configs.

After an intended change to the output, regenerate them with
`MOECFG_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py` and review the diff.
Trailing spaces are stripped on both sides so editors and whitespace hooks cannot break them.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from rich.console import Console

from moecfg.compare import build_comparison
from moecfg.core import inspect_source
from moecfg.render.compare_table import render_compare
from moecfg.render.markdown import render_compare_markdown, render_inspect_markdown
from moecfg.render.table import render_inspect
from tests.conftest import ROOT

GOLDEN = Path(__file__).parent / "golden"
MODELS = ("Qwen3-30B-A3B", "Qwen3-8B", "Llama-3.1-8B")
#: Fixed so the tables lay out the same on every terminal and in CI.
WIDTH = 100


def normalised(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("MOECFG_UPDATE_GOLDEN") == "1":
        path.write_text(normalised(text))
        return
    assert path.exists(), f"{path} is missing; create it with MOECFG_UPDATE_GOLDEN=1"
    assert normalised(text) == path.read_text()


def plain_console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=WIDTH, color_system=None, highlight=False), buffer


@pytest.fixture(autouse=True)
def _from_repo_root(monkeypatch):
    """Sources appear in the output as given; relative paths keep the golden files portable."""
    monkeypatch.chdir(ROOT)


def report(model: str) -> dict:
    return inspect_source(f"sample_configs/{model}.json")


@pytest.mark.parametrize("model", MODELS)
def test_inspect_markdown(model):
    check_golden(f"{model}.inspect.md", render_inspect_markdown(report(model)))


@pytest.mark.parametrize("model", MODELS)
def test_inspect_rich_without_colour(model):
    console, buffer = plain_console()
    render_inspect(report(model), console)
    assert "\x1b[" not in buffer.getvalue()
    check_golden(f"{model}.inspect.txt", buffer.getvalue())


def test_compare_markdown_and_rich():
    comparison = build_comparison([report(model) for model in MODELS])
    check_golden("compare.md", render_compare_markdown(comparison))
    console, buffer = plain_console()
    render_compare(comparison, console)
    check_golden("compare.txt", buffer.getvalue())
