"""`moecfg inspect org/name[@revision]` against a real Hub cache layout, offline.

The cache is built in a temp dir exactly as huggingface_hub lays it out (refs/, snapshots/
with symlinks into blobs/), and the real library reads it with HF_HUB_OFFLINE=1 in a fresh
process (huggingface_hub reads its environment at import). Nothing touches the network.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, load_sample, run_cli

pytest.importorskip("huggingface_hub")

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def add_file(repo: Path, commit: str, name: str, content: bytes) -> None:
    blob = hashlib.sha256(content).hexdigest()
    (repo / "blobs").mkdir(parents=True, exist_ok=True)
    (repo / "blobs" / blob).write_bytes(content)
    link = repo / "snapshots" / commit / name
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(os.path.relpath(repo / "blobs" / blob, link.parent), link)


def build_cache(cache: Path, repo_id: str = "org/name", config: dict | None = None) -> Path:
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(COMMIT)
    add_file(repo, COMMIT, "config.json", json.dumps(config or load_sample("Qwen3-30B-A3B.json")).encode())
    return repo


def moecfg(*args: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    return subprocess.run(
        [sys.executable, "-m", "moecfg", *args],
        capture_output=True, text=True, env={**clean, "HF_HUB_OFFLINE": "1", **env},
        cwd=cwd or ROOT, timeout=120,
    )


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    root = tmp_path / "hub-cache"
    build_cache(root)
    return root


@pytest.mark.parametrize("spec", ["org/name", "org/name@main", f"org/name@{COMMIT}"])
def test_hub_id_read_from_cache(spec, cache):
    result = moecfg("inspect", spec, "--format", "json", env={"HF_HUB_CACHE": str(cache)})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["source"] == spec
    assert report["moe"]["num_experts"] == 128
    assert "checkpoint" not in report


def test_hub_table_output(cache):
    result = moecfg("inspect", "org/name", env={"HF_HUB_CACHE": str(cache)})
    assert result.returncode == 0, result.stderr
    assert "org/name — qwen3_moe" in result.stdout


def test_hf_home_locates_the_cache(tmp_path):
    build_cache(tmp_path / "home" / "hub")
    result = moecfg("inspect", "org/name", "--format", "json", env={"HF_HOME": str(tmp_path / "home")})
    assert result.returncode == 0, result.stderr


def _not_cached(spec: str, revision: str, cache: Path) -> str:
    return (
        f"moecfg: error: {spec}: no such local path; read as Hub id '{spec}': config.json at "
        f"revision '{revision}' is not in the local Hub cache ({cache}) and HF_HUB_OFFLINE is set\n"
    )


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_missing_revision(fmt, cache):
    result = moecfg("inspect", "org/name@v9", "--format", fmt, env={"HF_HUB_CACHE": str(cache)})
    assert result.returncode == 2
    assert result.stderr == _not_cached("org/name@v9", "v9", cache)
    if fmt == "json":
        assert json.loads(result.stdout)["error"]["code"] == "hub_not_cached"


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_missing_file_in_cached_snapshot(fmt, tmp_path):
    cache = tmp_path / "cache"
    repo = build_cache(cache)
    (repo / "snapshots" / COMMIT / "config.json").unlink()
    add_file(repo, COMMIT, "README.md", b"no config here")
    result = moecfg("inspect", "org/name", "--format", fmt, env={"HF_HUB_CACHE": str(cache)})
    assert result.returncode == 2
    assert result.stderr == _not_cached("org/name", "main", cache)


def test_missing_repo(cache):
    result = moecfg("inspect", "org/other", env={"HF_HUB_CACHE": str(cache)})
    assert result.returncode == 2
    assert result.stderr == _not_cached("org/other", "main", cache)


def test_malformed_cached_config_is_invalid(tmp_path):
    cache = tmp_path / "cache"
    repo = cache / "models--org--name"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(COMMIT)
    add_file(repo, COMMIT, "config.json", b"{not json")
    result = moecfg("inspect", "org/name", env={"HF_HUB_CACHE": str(cache)})
    assert result.returncode == 1
    assert result.stderr == (
        "moecfg: error: org/name: not valid JSON: Expecting property name enclosed in double "
        "quotes at line 1 column 2\n"
    )


def test_local_path_wins_over_hub_id(cache, tmp_path):
    local = tmp_path / "work" / "org" / "name"
    local.mkdir(parents=True)
    config = load_sample("Qwen3-30B-A3B.json") | {"num_experts": 64}
    (local / "config.json").write_text(json.dumps(config))
    result = moecfg("inspect", "org/name", "--format", "json", env={"HF_HUB_CACHE": str(cache)},
                    cwd=tmp_path / "work")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["moe"]["num_experts"] == 64


def test_neither_path_nor_hub_id():
    result = run_cli("inspect", "no/such/thing.json")
    assert result.exit_code == 2
    assert result.stderr == "moecfg: error: no/such/thing.json: no such file or directory\n"


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_absent_hub_extra(fmt, monkeypatch):
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    result = run_cli("inspect", "org/name", "--format", fmt)
    assert result.exit_code == 2
    assert result.stderr == (
        "moecfg: error: org/name: no such local path; reading it as Hub id 'org/name' needs "
        "huggingface_hub: pip install 'moecfg[hub]'\n"
    )
    if fmt == "json":
        assert result.json()["error"]["code"] == "missing_extra"


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        ("org/name", ("org/name", None)),
        ("Qwen/Qwen3-30B-A3B@refs/pr/1", ("Qwen/Qwen3-30B-A3B", "refs/pr/1")),
        ("a/b/c", None),
        ("../x", None),
        ("org/", None),
        ("/abs/path", None),
    ],
)
def test_hub_id_parsing(spec, parsed):
    from moecfg.loading.hub import parse_hub_id

    hub_id = parse_hub_id(spec)
    assert (None if hub_id is None else (hub_id.repo_id, hub_id.revision)) == parsed
