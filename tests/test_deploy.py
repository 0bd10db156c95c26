"""Deployment memory: weights from total parameters, per-token work from active ones, the KV
cache per layer kind, and GPU fit. Expected bytes are worked out by hand from each architecture."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from moecfg.core import inspect_source
from moecfg.deploy import QUANTIZED_PARTS, DeploymentSpec, parse_memory_size
from moecfg.families import parse_config
from moecfg.loading.files import RawConfig
from moecfg.metrics import count_non_weight_params
from tests.test_longtail_l6 import TINY_V4  # the DeepSeek-V4 in miniature
from tests.conftest import ROOT, load_sample, run_cli, sample
from tests.oracle import classify, require_oracle

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
            ["--gpu-memory", "0GB"],
            "--gpu-memory: a GPU needs at least one byte of memory, got '0GB'",
        ),
        (
            ["--gpu-memory", "0.1B"],
            "--gpu-memory: a GPU needs at least one byte of memory, got '0.1B'",
        ),
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


def test_weight_bytes_stay_exact_for_huge_models(write_config):
    """Past 2**53 a float product drifts: bf16 must stay exactly twice the parameter count.
    A hidden size of 10**12 + 1 (within the accepted range) puts the total near 1.5·10**19."""
    path = write_config({**load_sample("Qwen3-30B-A3B.json"), "hidden_size": 10**12 + 1})
    report = run_cli("inspect", str(path), "--context", "10", "--format", "json").json()
    total, active = report["params"]["total"], report["params"]["active"]
    assert total > 2**53 and int(total * 2.0) != 2 * total
    exact = {"bf16": 2 * total, "fp8": total, "int4": total // 2}
    assert report["memory"]["weights_bytes"] == exact
    assert report["deployment"]["weights_bytes"] == exact
    assert report["deployment"]["weight_bytes_read_per_token"]["bf16"] == 2 * active


def test_memory_sizes_are_read_exactly():
    assert parse_memory_size("123456789123456789.123TB") == 123_456_789_123_456_789_123 * 10**9




def test_compressed_groups_hold_one_entry_per_rate_tokens(write_config):
    d = deployment(str(write_config(TINY_V4)), context=23, kv_dtype="fp8")
    # Every layer's window: 23 tokens (< 64) of 2·32 (sliding-only) + 32 + 32 values.
    # Compressed-sparse: 23 // 4 = 5 entries of 32 + 16 values, plus its fullest state: 3
    # buffered tokens of kv and gate, two windows each (3·2·2·48), and the overlap (2·4·48).
    # Heavily compressed: 23 // 8 = 2 entries of 32, plus 7 buffered tokens (7·2·1·32).
    assert d["kv_cache_groups"] == [
        {"kind": "sliding_attention", "layers": 3, "tokens_held": 23, "bytes": 23 * 128},
        {
            "kind": "compressed_sparse_attention",
            "layers": 1,
            "tokens_held": 5,
            "bytes": 5 * 48 + 3 * 2 * 2 * 48 + 2 * 4 * 48,
        },
        {
            "kind": "heavily_compressed_attention",
            "layers": 1,
            "tokens_held": 2,
            "bytes": 2 * 32 + 7 * 2 * 32,
        },
    ]
    assert d["kv_cache_bytes"] == sum(group["bytes"] for group in d["kv_cache_groups"])


def oracle_non_linear_weights(config: dict, tmp_path: Path) -> dict[str, int]:
    """From transformers' model on meta: per quantized part, the parameters that are neither an
    nn.Linear weight nor a fused 3-D expert weight, i.e. what a weight quantizer leaves alone."""
    torch, transformers = require_oracle()
    (tmp_path / "config.json").write_text(json.dumps(config))
    hf_config = transformers.AutoConfig.from_pretrained(tmp_path)
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(hf_config)
    kept = dict.fromkeys(QUANTIZED_PARTS, 0)
    for name, param in model.named_parameters():
        part = classify(name)
        if part not in kept:
            continue
        owner = model.get_submodule(name.rpartition(".")[0])
        linear_weight = isinstance(owner, torch.nn.Linear) and name.endswith(".weight")
        if not (linear_weight or (part == "routed_experts" and param.dim() == 3)):
            kept[part] += param.numel()
    return kept


HYBRID = ROOT / "tests" / "fixtures" / "hybrid"
NON_WEIGHT_CONFIGS = {
    "gpt-oss (expert biases, sinks)": sample("gpt-oss-20b.json"),
    "Qwen3-Next (linear attention, q/k norms, shared-expert gate)": sample(
        "Qwen3-Next-80B-A3B-Thinking.json"
    ),
    "DeepSeek-V2-Lite (MLA norms)": sample("DeepSeek-V2-Lite.json"),
    "Qwen1.5-MoE (attention biases)": sample("Qwen1.5-MoE-A2.7B.json"),
    "Jamba (Mamba-1)": HYBRID / "jamba-v0.1-dims.json",
    "Granite 4 (Mamba-2)": HYBRID / "granite-4.0-h-tiny-dims.json",
    "MiniMax (lightning attention)": HYBRID / "minimax-text-01-dims.json",
}


@pytest.mark.parametrize("path", list(NON_WEIGHT_CONFIGS.values()), ids=list(NON_WEIGHT_CONFIGS))
def test_non_weight_params_match_transformers(path: Path, tmp_path: Path):
    config = json.loads(path.read_text())
    counts = count_non_weight_params(parse_config(RawConfig(source=str(path), data=config)))
    ours = {part: counts.parts[part] for part in QUANTIZED_PARTS}
    assert ours == oracle_non_linear_weights(config, tmp_path)


def test_checkpoint_bytes_keep_every_non_weight_at_the_config_dtype(write_config, tmp_path):
    """Qwen3-Next stored as fp8 with 128×128 block scales: each Linear weight of the quantized
    parts costs 1 + 4/128² bytes, everything else (linear-attention convolutions and A/dt,
    norms, the embedding, router) its bf16 two bytes. Weights counted by transformers."""
    config = load_sample("Qwen3-Next-80B-A3B-Thinking.json")
    quantization = {"quant_method": "fp8", "weight_block_size": [128, 128]}
    path = write_config({**config, "quantization_config": quantization})
    torch, transformers = require_oracle()
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text(json.dumps(config))
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(
            transformers.AutoConfig.from_pretrained(tmp_path / "model")
        )
    quantized = total = 0
    for name, param in model.named_parameters():
        total += param.numel()
        owner = model.get_submodule(name.rpartition(".")[0])
        is_weight = (isinstance(owner, torch.nn.Linear) and name.endswith(".weight")) or (
            classify(name) == "routed_experts" and param.dim() == 3
        )
        if is_weight and classify(name) in QUANTIZED_PARTS:
            quantized += param.numel()
    expected = int(quantized * (1 + Fraction(4, 128 * 128)) + (total - quantized) * 2)
    d = deployment(str(path), context=1, weights_dtype="checkpoint")
    assert d["weights_bytes"] == {"checkpoint": expected}
