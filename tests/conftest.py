"""Shared fixtures: run the CLI in-process, and locate the sample configs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from moecfg.cli import app

# The shared case-table tests assert in a helper module; pytest explains their failures too.
pytest.register_assert_rewrite("tests.family_cases")

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_configs"


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def __repr__(self) -> str:
        return f"CliResult(exit_code={self.exit_code}, stdout={self.stdout!r}, stderr={self.stderr!r})"


def run_cli(*args: str, stdin: str | bytes | None = None) -> CliResult:
    result = CliRunner().invoke(app, list(args), input=stdin, catch_exceptions=False)
    return CliResult(result.exit_code, result.stdout, result.stderr)


def sample(name: str) -> Path:
    return SAMPLES / name


def load_sample(name: str) -> dict[str, Any]:
    return json.loads(sample(name).read_text())


@pytest.fixture
def write_config(tmp_path: Path):
    """Write a dict (or raw text/bytes) as a config file and return its path."""

    def write(content: dict[str, Any] | str | bytes, name: str = "config.json") -> Path:
        path = tmp_path / name
        if isinstance(content, dict):
            path.write_text(json.dumps(content))
        elif isinstance(content, str):
            path.write_text(content)
        else:
            path.write_bytes(content)
        return path

    return write


def pytest_terminal_summary(terminalreporter) -> None:
    """Print the family-coverage summary line when the coverage test ran."""
    import sys

    module = sys.modules.get("tests.test_coverage")
    for line in getattr(module, "SUMMARY", []):
        terminalreporter.write_line(line)
    # Property tests record how many examples they ran (`record_property("hypothesis_examples")`).
    counts = {
        report.nodeid: max(v for name, v in report.user_properties if name == "hypothesis_examples")
        for report in terminalreporter.stats.get("passed", [])
        if report.when == "call" and any(n == "hypothesis_examples" for n, _ in report.user_properties)
    }
    if counts:
        terminalreporter.write_line(
            f"hypothesis: {sum(counts.values())} examples in {len(counts)} property tests"
        )
