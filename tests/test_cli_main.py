"""The console entry point as users run it: usage errors are one line, exit 2, no Rich box."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import sample

QWEN3_8B = str(sample("Qwen3-8B.json"))


def run_main(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "moecfg", *args], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("inspect",), "moecfg: error: Missing argument 'path'. (see 'moecfg inspect --help')"),
        (
            ("inspect", QWEN3_8B, "--context", "0"),
            "moecfg: error: Invalid value for '--context': Input should be greater than or equal "
            "to 1 (see 'moecfg inspect --help')",
        ),
        (
            ("inspect", QWEN3_8B, "--bogus"),
            "moecfg: error: No such option: --bogus (see 'moecfg inspect --help')",
        ),
        (
            ("lint", "--output-format", "xml", QWEN3_8B),
            "moecfg: error: Invalid value for '--output-format': 'xml' is not one of full, "
            "concise, json, github, sarif, markdown (see 'moecfg lint --help')",
        ),
    ],
    ids=["missing-argument", "out-of-range", "unknown-option", "bad-choice"],
)
def test_usage_errors_are_one_line_exit_2(args, line):
    result = run_main(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == line + "\n"


def test_success_and_config_errors_keep_their_exit_codes(tmp_path):
    assert run_main("inspect", QWEN3_8B, "--format", "json").returncode == 0
    bad = tmp_path / "config.json"
    bad.write_text(sample("Qwen3-8B.json").read_text().replace('"hidden_size": 4096', '"hidden_size": "4096"'))
    result = run_main("inspect", str(bad))
    assert result.returncode == 1
    assert result.stderr == (
        f"moecfg: error: {bad}: wrong type for 'hidden_size': expected an integer, "
        'got a string ("4096")\n'
    )


def test_no_arguments_prints_help_and_exits_2():
    result = run_main()
    assert result.returncode == 2
    assert "Usage: moecfg" in result.stdout
    assert result.stderr == ""
