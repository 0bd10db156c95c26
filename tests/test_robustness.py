"""Hostile input for `lint` and `inspect`: never a traceback, always a documented exit code,
a message naming the file, and bounded time and memory.

The three property tests run EXAMPLES examples each (MOECFG_HYPOTHESIS_EXAMPLES, default 200,
so 600 inputs per run, each through both commands); the total is printed in pytest's terminal
summary.
"""

from __future__ import annotations

import json
import math
import os
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moecfg.families import FAMILIES
from tests.conftest import SAMPLES, load_sample, run_cli

EXAMPLES = int(os.environ.get("MOECFG_HYPOTHESIS_EXAMPLES", "200"))
#: Examples run so far per property test; the running total is recorded on the test's report.
EXAMPLES_RUN: dict[str, int] = {}
SECONDS = 1.0
MEMORY = 100 * 1024 * 1024

#: Every key any registered family reads, and the alias spellings.
KNOWN_KEYS = sorted(
    {
        key.split(".")[0]
        for family in FAMILIES.values()
        for spec in family.fields.values()
        for key in (spec.key, *spec.aliases)
    }
    | {"model_type", "architectures", "text_config", "auto_map", "torch_dtype", "dtype"}
)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**31), max_value=10**31),
    st.sampled_from([10**30, -(10**30), 0, -1, 1, 2**63, -0.0, 0.5, 1e308]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
SAMPLE_NAMES = sorted(p.name for p in SAMPLES.glob("*.json"))


@st.composite
def hostile_configs(draw) -> dict:
    """A real sample with some known keys (top level or in text_config) set to any JSON value."""
    raw = load_sample(draw(st.sampled_from(SAMPLE_NAMES)))
    keys = draw(st.lists(st.sampled_from(KNOWN_KEYS), min_size=1, max_size=6, unique=True))
    target = raw["text_config"] if "text_config" in raw and draw(st.booleans()) else raw
    for key in keys:
        target[key] = draw(json_values)
    if draw(st.booleans()):
        raw["model_type"] = draw(st.sampled_from(sorted(FAMILIES)) | json_scalars)
    return raw


def _check_lint(path: Path) -> None:
    started = time.perf_counter()
    result = run_cli("lint", "--isolated", "--output-format", "json", str(path))
    elapsed = time.perf_counter() - started
    assert result.exit_code in (0, 1), result
    assert "Traceback" not in result.stdout + result.stderr
    document = json.loads(result.stdout)
    assert all(f["path"] == str(path) for f in document["findings"])
    assert all("\n" not in f["message"] for f in document["findings"])
    assert elapsed < SECONDS, f"lint took {elapsed:.2f}s"


def _check_inspect(path: Path) -> None:
    started = time.perf_counter()
    result = run_cli("inspect", "--format", "json", str(path))
    elapsed = time.perf_counter() - started
    assert result.exit_code in (0, 1, 2), result
    assert "Traceback" not in result.stdout + result.stderr
    if result.exit_code:
        errors = [line for line in result.stderr.splitlines() if line.startswith("moecfg: error:")]
        assert len(errors) == 1 and errors[0].startswith(f"moecfg: error: {path}: "), result
    json.loads(result.stdout)
    assert elapsed < SECONDS, f"inspect took {elapsed:.2f}s"


def _count(record_property, label: str) -> None:
    EXAMPLES_RUN[label] = EXAMPLES_RUN.get(label, 0) + 1
    record_property("hypothesis_examples", EXAMPLES_RUN[label])


def _property(record_property, tmp_path_factory, label: str):
    folder = tmp_path_factory.mktemp(label)

    def check(text: str) -> None:
        _count(record_property, label)
        path = folder / "config.json"
        path.write_text(text)
        _check_lint(path)
        _check_inspect(path)

    return check


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(config=hostile_configs())
def test_known_keys_with_any_json_value(config, record_property, tmp_path_factory):
    text = json.dumps(config, allow_nan=True)
    _property(record_property, tmp_path_factory, "keys")(text)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(value=json_values)
def test_any_json_document(value, record_property, tmp_path_factory):
    _property(record_property, tmp_path_factory, "any")(json.dumps(value, allow_nan=True))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.binary(max_size=64))
def test_any_bytes(data, record_property, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bytes")
    _count(record_property, "bytes")
    path = folder / "config.json"
    path.write_bytes(data)
    _check_lint(path)
    _check_inspect(path)


# --- fixed hostile cases -------------------------------------------------------------------

VALID_TEXT = (SAMPLES / "Qwen3-30B-A3B.json").read_text()


def _deep(path: Path) -> None:
    path.write_text('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}")


def _deep_objects(path: Path) -> None:
    path.write_text('{"a": ' * 100_000 + "1" + "}" * 100_000)


def _duplicates(path: Path) -> None:
    path.write_text(VALID_TEXT.replace('"num_experts": 128,', '"num_experts": 128, "num_experts": 128,'))


def _bom(path: Path) -> None:
    path.write_bytes(b"\xef\xbb\xbf" + VALID_TEXT.encode())


def _not_utf8(path: Path) -> None:
    path.write_bytes(b'{"model_type": "qwen3_moe\xff\xfe"}')


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _huge(path: Path) -> None:
    """Just over the 16 MiB cap, sparse: the loader must refuse it by size, before reading."""
    with open(path, "wb") as stream:
        stream.truncate(16 * 1024 * 1024 + 1)


def _symlink_loop(path: Path) -> None:
    os.symlink(path.name, path)


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _directory(path: Path) -> None:
    path.mkdir()


def _unreadable(path: Path) -> None:
    path.write_text(VALID_TEXT)
    path.chmod(0)


HOSTILE = {
    "deep-arrays": (_deep, 1, "CFG002"),
    "deep-objects": (_deep_objects, 1, "CFG002"),
    "duplicate-keys": (_duplicates, 1, "CFG003"),
    "bom": (_bom, 0, None),
    "not-utf8": (_not_utf8, 1, "CFG002"),
    "empty": (_empty, 1, "CFG002"),
    "over-16-mib": (_huge, 1, "CFG002"),
    "symlink-loop": (_symlink_loop, 1, "CFG001"),
    "fifo": (_fifo, 1, "CFG001"),
    "directory-named-config-json": (_directory, 1, "CFG001"),
    "unreadable": (_unreadable, 1, "CFG001"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_file(case, tmp_path):
    make, lint_exit, code = HOSTILE[case]
    if case == "unreadable" and os.geteuid() == 0:
        pytest.skip("running as root: chmod 000 does not stop root from reading the file")
    # Warm up first: the measured runs must not pay for first-time imports.
    run_cli("inspect", "--format", "json", str(SAMPLES / "Qwen3-30B-A3B.json"))
    run_cli("lint", "--isolated", str(SAMPLES / "Qwen3-30B-A3B.json"))
    path = tmp_path / "config.json"
    make(path)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        lint = run_cli("lint", "--isolated", "--output-format", "json", str(path))
        inspect = run_cli("inspect", "--format", "json", str(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    elapsed = time.perf_counter() - started
    size = path.stat().st_size if path.is_file() and not path.is_symlink() else 0
    assert elapsed < 2 * SECONDS, f"lint + inspect took {elapsed:.2f}s"
    assert peak < MEMORY + size, f"peak {peak / 2**20:.0f} MiB"
    assert lint.exit_code == lint_exit, lint
    codes = [f["code"] for f in lint.json()["findings"] if f["severity"] == "error"]
    assert codes == ([code] if code else [])
    assert "Traceback" not in lint.stderr + inspect.stderr
    if code is not None and code != "CFG003":
        errors = inspect.stderr.splitlines()
        assert inspect.exit_code in (1, 2)
        assert len(errors) == 1 and errors[0].startswith(f"moecfg: error: {path}"), inspect


def test_symlink_loop_folder_is_walked_once(tmp_path):
    """A folder walk never follows symlinked folders, so a loop ends."""
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text(VALID_TEXT)
    os.symlink("..", tmp_path / "model" / "parent")
    result = run_cli("lint", "--isolated", "--output-format", "json", str(tmp_path))
    assert [Path(f["path"]).parent.name for f in result.json()["files"]] == ["model"]
    assert not math.isnan(result.json()["summary"]["errors"])
