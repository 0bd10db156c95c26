"""Deployment memory: weights from total parameters, per-token work from active ones, the KV
cache per layer kind, and GPU fit. Expected bytes are worked out by hand from each architecture."""

from __future__ import annotations

import pytest

from moecfg.core import inspect_source
from moecfg.deploy import DeploymentSpec, parse_memory_size
from moecfg.families import FAMILIES
from tests.conftest import run_cli, sample

QWEN3_MOE = str(sample("Qwen3-30B-A3B.json"))
LLAMA = str(sample("Llama-3.1-8B.json"))
GPT_OSS = str(sample("gpt-oss-20b.json"))

# Qwen3-30B-A3B: 48 full-attention layers, 4 KV heads of 128: K and V at bf16 per token.
QWEN3_KV_PER_TOKEN = 48 * 2 * 4 * 128 * 2  # 98,304
QWEN3_TOTAL = 30_532_122_624
QWEN3_ACTIVE = 3_353_032_704


def deployment(path: str, **spec) -> dict:
    return inspect_source(path, deployment=DeploymentSpec(**spec))["deployment"]


def test_weights_use_total_and_per_token_work_uses_active():
    d = deployment(QWEN3_MOE, context=32768, batch=8)
    assert d["weights_bytes"] == {
        "bf16": 2 * QWEN3_TOTAL,
        "fp8": QWEN3_TOTAL,
        "int4": QWEN3_TOTAL // 2,
    }
    assert d["weight_bytes_read_per_token"] == {
        "bf16": 2 * QWEN3_ACTIVE,
        "fp8": QWEN3_ACTIVE,
        "int4": QWEN3_ACTIVE // 2,
    }
    assert d["flops_per_token"] == 2 * QWEN3_ACTIVE


def test_kv_cache_and_fit_on_an_80gb_gpu():
    d = deployment(QWEN3_MOE, context=32768, batch=8, gpu_memory_bytes=80 * 10**9)
    kv = QWEN3_KV_PER_TOKEN * 32768 * 8  # 24 GiB
    assert d["kv_cache_bytes"] == kv == 25_769_803_776
    assert d["kv_cache_groups"] == [
        {"kind": "full_attention", "layers": 48, "tokens_held": 32768, "bytes": kv}
    ]
    assert d["total_bytes"]["bf16"] == 2 * QWEN3_TOTAL + kv
    assert d["fits"]["bf16"] == {"fits": False, "headroom_bytes": 80 * 10**9 - 2 * QWEN3_TOTAL - kv}
    assert d["fits"]["bf16"]["headroom_bytes"] == -6_834_049_024
    assert d["fits"]["fp8"] == {"fits": True, "headroom_bytes": 80 * 10**9 - QWEN3_TOTAL - kv}


def test_kv_dtype_scales_the_cache():
    d = deployment(LLAMA, context=8192, batch=2, kv_dtype="fp8")
    # Llama-3.1-8B: 32 layers, 8 KV heads of 128, one byte per value.
    assert d["kv_cache_bytes"] == 32 * 2 * 8 * 128 * 1 * 8192 * 2


def test_context_defaults_to_max_position_embeddings():
    d = deployment(LLAMA)
    assert d["context"] == 131072
    assert d["kv_cache_bytes"] == 32 * 2 * 8 * 128 * 2 * 131072


@pytest.mark.skipif("gpt_oss" not in FAMILIES, reason="gpt_oss family not available")
class TestSlidingAndCheckpoint:
    # gpt-oss-20b: 24 layers alternating sliding (window 128) and full, 8 KV heads of 64.
    PER_LAYER_TOKEN = 2 * 8 * 64 * 2  # 2,048 bytes

    def test_sliding_layers_hold_at_most_their_window(self):
        d = deployment(GPT_OSS, context=32768, batch=1)
        sliding, full = 12 * self.PER_LAYER_TOKEN * 128, 12 * self.PER_LAYER_TOKEN * 32768
        assert [g["bytes"] for g in d["kv_cache_groups"]] == [sliding, full]
        assert [g["tokens_held"] for g in d["kv_cache_groups"]] == [128, 32768]
        assert d["kv_cache_bytes"] == 808_452_096

    def test_short_context_fills_no_window(self):
        d = deployment(GPT_OSS, context=100, batch=3)
        assert d["kv_cache_bytes"] == 24 * self.PER_LAYER_TOKEN * 100 * 3

    def test_checkpoint_dtype_matches_the_published_checkpoint_size(self):
        # SOURCES.md: openai/gpt-oss-20b model.safetensors.index.json total_size.
        d = deployment(GPT_OSS, weights_dtype="checkpoint")
        assert d["checkpoint_quantization"] == "mxfp4"
        assert d["weights_bytes"] == {"checkpoint": 13_761_264_768}

    def test_all_dtypes_include_the_checkpoint_when_it_has_one(self):
        assert list(deployment(GPT_OSS)["weights_bytes"]) == ["bf16", "fp8", "int4", "checkpoint"]


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("80GB", 80 * 10**9),
        ("24GiB", 24 * 2**30),
        ("1.5 TB", 1_500_000_000_000),
        ("512mib", 512 * 2**20),
    ],
)
def test_memory_sizes(text, size):
    assert parse_memory_size(text) == size


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--gpu-memory", "80"], "--gpu-memory: expected a size such as 80GB or 24GiB, got '80'"),
        (
            ["--weights-dtype", "checkpoint"],
            "--weights-dtype checkpoint: the config has no quantization_config",
        ),
    ],
)
def test_deployment_errors(args, message):
    result = run_cli("inspect", LLAMA, *args)
    assert result.exit_code == 2
    assert result.stderr == f"moecfg: error: {LLAMA}: {message}\n"


def test_unknown_checkpoint_quantization(write_config):
    from tests.conftest import load_sample

    path = write_config(
        {**load_sample("Llama-3.1-8B.json"), "quantization_config": {"quant_method": "hqq"}}
    )
    result = run_cli("inspect", str(path), "--weights-dtype", "checkpoint")
    assert result.exit_code == 2
    assert result.stderr == (
        f"moecfg: error: {path}: --weights-dtype checkpoint: quant_method 'hqq' is not understood "
        "(known: fp8, mxfp4, or a 'bits' key)\n"
    )


def test_deployment_in_table_and_markdown():
    table = run_cli(
        "inspect", QWEN3_MOE, "--context", "32768", "--batch", "8", "--gpu-memory", "80GB"
    )
    assert "Deployment: 32,768 tokens × batch 8, KV at bf16" in table.stdout
    assert "no -6.36 GiB" in table.stdout
    markdown = run_cli(
        "inspect", QWEN3_MOE, "--context", "32768", "--gpu-memory", "80GB", "-f", "markdown"
    )
    assert "| **KV cache total** | 3,221,225,472 | 3.00 GiB |" in markdown.stdout
