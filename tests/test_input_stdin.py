"""`moecfg inspect -`: the config piped on stdin, in both output formats, and malformed input."""

from __future__ import annotations

import pytest

from tests.conftest import run_cli, sample

QWEN = sample("Qwen3-30B-A3B.json").read_text()


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_stdin_config(fmt):
    result = run_cli("inspect", "-", "--format", fmt, stdin=QWEN)
    assert result.exit_code == 0, result
    if fmt == "json":
        assert result.json()["source"] == "<stdin>"
        assert result.json()["params"]["total"] == 30532122624
    else:
        assert result.stdout.startswith("<stdin> — qwen3_moe")


MALFORMED = {
    "empty": (b"", "not valid JSON: Expecting value at line 1 column 1", 1),
    "truncated": (QWEN[:50].encode(), None, 1),
    "array": (b"[1, 2]", "JSON top level is an array, expected an object", 1),
    "not_utf8": (b"\xff\xfe{}", "not UTF-8 text (invalid byte 0xff at offset 0)", 1),
    "too_large": (b" " * (16 * 1024 * 1024 + 1), "larger than 16 MiB, too large for a config.json", 1),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
@pytest.mark.parametrize("fmt", ["table", "json"])
def test_malformed_stdin(case, fmt):
    payload, message, code = MALFORMED[case]
    result = run_cli("inspect", "-", "--format", fmt, stdin=payload)
    assert result.exit_code == code, result
    assert result.stderr.startswith("moecfg: error: <stdin>: ")
    assert result.stderr.count("\n") == 1
    if message is not None:
        assert result.stderr == f"moecfg: error: <stdin>: {message}\n"
    if fmt == "json":
        assert result.json()["source"] == "<stdin>"
        assert result.json()["error"]["message"] == result.stderr.removeprefix("moecfg: error: <stdin>: ").rstrip("\n")
    else:
        assert result.stdout == ""


def test_stdin_gguf_bytes_are_not_json():
    """GGUF is read from files only (it is binary and seekable); on stdin it is not JSON."""
    result = run_cli("inspect", "-", stdin=b"GGUF\x03\x00\x00\x00")
    assert result.exit_code == 1
    assert result.stderr.startswith("moecfg: error: <stdin>: not ")
