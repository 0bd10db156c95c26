"""The `moecfg-lint` hook of .pre-commit-hooks.yaml, run by pre-commit itself.

`pre-commit try-repo` installs this repository into a fresh hook environment (pip, from the
local path) and runs the hook in a temporary git repository holding a good and a bad config.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

CASES = ROOT / "tests" / "cases" / "invalid"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture(scope="module")
def model_repo(tmp_path_factory) -> Path:
    repo = tmp_path_factory.mktemp("model-repo")
    _git(repo, "init", "-q")
    (repo / "good").mkdir()
    (repo / "bad").mkdir()
    shutil.copy(CASES / "valid-qwen3-moe.json", repo / "good" / "config.json")
    shutil.copy(CASES / "MOE001-experts-per-token-exceeds-expert-count.json", repo / "bad" / "config.json")
    (repo / "tokenizer.json").write_text(json.dumps({"not": "a config"}))
    _git(repo, "add", ".")
    return repo


def _try_repo(repo: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "moecfg-lint", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_hook_runs_through_pre_commit(model_repo, tmp_path_factory):
    home = tmp_path_factory.mktemp("pre-commit-home")
    failing = _try_repo(model_repo, home, "--all-files")
    output = failing.stdout + failing.stderr
    assert failing.returncode == 1, output
    assert "moecfg lint" in output and "Failed" in output
    assert "bad/config.json:19: MOE001 [error] top-k 16 exceeds the number of experts (8)" in output
    assert "good/config.json" not in output.replace("bad/config.json", "")
    assert "tokenizer.json" not in output

    passing = _try_repo(model_repo, home, "--files", "good/config.json")
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "Passed" in passing.stdout
