"""`moecfg compare`: one column per model, rows of key facts, differing rows flagged.

Totals are worked out by hand from each architecture (see the arithmetic below).
"""

from __future__ import annotations

import pytest

from moecfg.compare import cell_text, column_name
from tests.conftest import run_cli, sample

PATHS = [str(sample(name)) for name in ("Qwen3-30B-A3B.json", "Qwen3-8B.json", "Llama-3.1-8B.json")]

# Qwen3-30B-A3B: see test_whatif.py.
QWEN3_MOE_TOTAL, QWEN3_MOE_ACTIVE = 30_532_122_624, 3_353_032_704
# Qwen3-8B: h 4096, 36 layers, 32 heads / 8 KV heads of 128 with q/k norm, MLP 12288, vocab 151936.
QWEN3_8B_LAYER = (2 * 4096 * 4096 + 2 * 4096 * 1024 + 2 * 128) + 3 * 4096 * 12288 + 2 * 4096
QWEN3_8B_TOTAL = 36 * QWEN3_8B_LAYER + 2 * 151936 * 4096 + 4096
# Llama-3.1-8B: h 4096, 32 layers, 32 heads / 8 KV heads of 128, MLP 14336, vocab 128256.
LLAMA_LAYER = (2 * 4096 * 4096 + 2 * 4096 * 1024) + 3 * 4096 * 14336 + 2 * 4096
LLAMA_TOTAL = 32 * LLAMA_LAYER + 2 * 128256 * 4096 + 4096


def rows(document: dict) -> dict[str, dict]:
    return {row["key"]: row for row in document["rows"]}


def test_compare_json_rows():
    result = run_cli("compare", *PATHS, "--format", "json")
    assert result.exit_code == 0, result
    document = result.json()
    assert [m["name"] for m in document["models"]] == ["Qwen3-30B-A3B", "Qwen3-8B", "Llama-3.1-8B"]
    by_key = rows(document)
    assert by_key["experts"]["values"] == [128, None, None]
    assert by_key["top_k"]["values"] == [8, None, None]
    assert by_key["sparsity"]["values"] == [8 / 128, None, None]
    assert by_key["moe_layers"]["values"] == [48, 0, 0]
    assert by_key["dense_layers"]["values"] == [0, 36, 32]
    assert by_key["total"]["values"] == [QWEN3_MOE_TOTAL, QWEN3_8B_TOTAL, LLAMA_TOTAL]
    assert by_key["active"]["values"] == [QWEN3_MOE_ACTIVE, QWEN3_8B_TOTAL, LLAMA_TOTAL]
    assert by_key["active_share"]["values"] == [QWEN3_MOE_ACTIVE / QWEN3_MOE_TOTAL, 1.0, 1.0]
    assert by_key["weights_bf16"]["values"] == [
        2 * QWEN3_MOE_TOTAL,
        2 * QWEN3_8B_TOTAL,
        2 * LLAMA_TOTAL,
    ]
    assert by_key["weights_int4"]["values"] == [
        QWEN3_MOE_TOTAL // 2,
        QWEN3_8B_TOTAL // 2,
        LLAMA_TOTAL // 2,
    ]
    # K and V, bf16: layers × 2 × kv_heads × head_dim × 2 bytes.
    assert by_key["kv_per_token"]["values"] == [
        48 * 2 * 4 * 128 * 2,
        36 * 2 * 8 * 128 * 2,
        32 * 2 * 8 * 128 * 2,
    ]
    assert all(row["differs"] for row in document["rows"])


def test_identical_rows_are_not_flagged():
    document = run_cli("compare", PATHS[1], PATHS[1], "--format", "json").json()
    assert [m["name"] for m in document["models"]] == ["Qwen3-8B", "Qwen3-8B #2"]
    assert not any(row["differs"] for row in document["rows"])


def test_what_if_column_against_the_file():
    document = run_cli("compare", PATHS[0], PATHS[0], "--format", "json").json()
    assert not rows(document)["active"]["differs"]
    edited = run_cli(
        "compare", PATHS[0], PATHS[1], "--set", "num_attention_heads=16", "-f", "json"
    ).json()
    assert edited["models"][0]["overrides"] == [
        {"field": "base.num_attention_heads", "value": 16, "was": 32}
    ]


def test_deployment_rows():
    document = run_cli(
        "compare",
        *PATHS[:2],
        "--context",
        "32768",
        "--batch",
        "8",
        "--gpu-memory",
        "80GB",
        "-f",
        "json",
    ).json()
    by_key = rows(document)
    kv = [48 * 2 * 4 * 128 * 2 * 32768 * 8, 36 * 2 * 8 * 128 * 2 * 32768 * 8]
    assert by_key["kv_cache"]["values"] == kv
    assert by_key["total_bf16"]["values"] == [
        2 * QWEN3_MOE_TOTAL + kv[0],
        2 * QWEN3_8B_TOTAL + kv[1],
    ]
    assert by_key["headroom_fp8"]["values"] == [
        80 * 10**9 - QWEN3_MOE_TOTAL - kv[0],
        80 * 10**9 - QWEN3_8B_TOTAL - kv[1],
    ]


def test_markdown_bolds_differing_cells():
    result = run_cli("compare", PATHS[0], PATHS[0], PATHS[2], "--format", "markdown")
    assert "| experts | **128** | **128** | **—** |" in result.stdout
    assert "| total params | **30.53B** | **30.53B** | **8.03B** |" in result.stdout
    same = run_cli("compare", PATHS[0], PATHS[0], "--format", "markdown")
    assert "| experts | 128 | 128 |" in same.stdout


def test_table_marks_differing_rows_without_colour():
    result = run_cli("compare", PATHS[0], PATHS[0], PATHS[2])
    assert "≠ experts" in result.stdout
    assert "≠ the models differ in this row" in result.stdout


def test_a_bad_input_names_the_file(write_config):
    from tests.conftest import load_sample

    bad = write_config({**load_sample("Qwen3-8B.json"), "hidden_size": "x"})
    result = run_cli("compare", PATHS[0], str(bad))
    assert result.exit_code == 1
    assert result.stderr == (
        f"moecfg: error: {bad}: wrong type for 'hidden_size': expected an integer, got a string (\"x\")\n"
    )


def test_needs_two_models():
    result = run_cli("compare", PATHS[0])
    assert result.exit_code == 2
    assert "give at least two configs to compare" in result.stderr


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("sample_configs/Qwen3-8B.json", "Qwen3-8B"),
        ("models/qwen3/config.json", "qwen3"),
        ("models/qwen3", "qwen3"),
        ("Qwen/Qwen3-8B", "Qwen3-8B"),
        ("deepseek-ai/DeepSeek-V3.1", "DeepSeek-V3.1"),
        ("Qwen/Qwen2.5-72B-Instruct", "Qwen2.5-72B-Instruct"),
        ("Qwen/Qwen3-8B@refs/pr/1", "Qwen3-8B@refs/pr/1"),
        ("models/run:3/config.json", "run:3"),
        ("gguf/Qwen3-8B.Q4_K_M.gguf", "Qwen3-8B.Q4_K_M"),
        ("<stdin>", "<stdin>"),
    ],
)
def test_column_names(source, name):
    assert column_name(source) == name


def test_repeated_names_are_numbered_without_clashing(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b" / "a"
    for folder in (first, second):
        folder.mkdir(parents=True)
        (folder / "config.json").write_text(sample("Qwen3-8B.json").read_text())
    named = tmp_path / "a #2.json"
    named.write_text(sample("Qwen3-8B.json").read_text())
    document = run_cli("compare", str(first), str(named), str(second), "-f", "json").json()
    assert [m["name"] for m in document["models"]] == ["a", "a #2", "a #3"]


def test_each_model_at_its_own_context():
    """Without --context each model is measured at its max_position_embeddings: Qwen3-30B-A3B
    40,960 tokens, Llama-3.1-8B 131,072; the KV row then names no single context."""
    result = run_cli("compare", PATHS[0], PATHS[2], "--batch", "4", "-f", "json")
    by_key = rows(result.json())
    assert by_key["context"]["values"] == [40_960, 131_072]
    assert by_key["kv_cache"]["label"] == "KV context × 4 (bf16)"
    # K and V, bf16: layers × 2 × kv_heads × head_dim × 2 bytes, per token of each context.
    assert by_key["kv_cache"]["values"] == [
        48 * 2 * 4 * 128 * 2 * 40_960 * 4,
        32 * 2 * 8 * 128 * 2 * 131_072 * 4,
    ]
    table = run_cli("compare", PATHS[0], PATHS[2], "--batch", "4").stdout
    assert "context (tokens)" in table and "131,072" in table
    same = run_cli("compare", *PATHS[:2], "--context", "8192", "-f", "json").json()
    assert rows(same)["kv_cache"]["label"] == "KV 8,192 × 1 (bf16)"


@pytest.mark.parametrize(
    ("unit", "value", "text"),
    [
        ("count", 30_532_122_624, "30.53B"),
        ("bytes", 2**30, "1.00 GiB"),
        ("share", 0.1098, "11.0%"),
        ("headroom", -(2**30), "no -1.00 GiB"),
        ("headroom", 0, "fits +0 B"),
        ("int", None, "—"),
    ],
)
def test_cell_text(unit, value, text):
    assert cell_text(unit, value) == text


def test_gpu_fit_rows_name_the_size_as_written():
    """80GB is 80·10⁹ bytes (74.51 GiB); the label keeps the user's spelling."""
    result = run_cli(
        "compare", str(sample("Qwen3-30B-A3B.json")), str(sample("Qwen3-8B.json")),
        "--gpu-memory", "80GB", "--format", "markdown",
    )
    assert result.exit_code == 0, result
    assert "| fits 80GB? bf16 |" in result.stdout
    report = run_cli("inspect", str(sample("Qwen3-8B.json")), "--gpu-memory", "80GB", "--format", "json").json()
    assert report["deployment"]["gpu_memory"] == "80GB"
    assert report["deployment"]["gpu_memory_bytes"] == 80 * 10**9
