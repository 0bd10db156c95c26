"""GGUF metadata of other MoE families, as llama.cpp's converter writes it, against config.json.

Metadata (and tensor infos where a fact has no key): counts and every field the file carries
must equal those of the published config; fields it lacks show as missing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from moecfg.loading.gguf_config import DESCRIPTIVE_FIELDS
from tests.conftest import run_cli, sample
from tests.gguf_files import Tensor, gguf, llama_style_tensors, write_gguf
from tests.test_deepseek_families import GLM_45_AIR
from tests.test_families_mainstream_a import OLMOE_1B_7B


def mixtral(w):
    """Mixtral has no llama.cpp arch of its own: `llama` with expert keys."""
    w.add_block_count(32), w.add_context_length(32768), w.add_embedding_length(4096)
    w.add_feed_forward_length(14336), w.add_head_count(32), w.add_head_count_kv(8)
    w.add_rope_freq_base(1e6), w.add_layer_norm_rms_eps(1e-5), w.add_vocab_size(32000)
    w.add_expert_count(8), w.add_expert_used_count(2)


def deepseek_v3(w):
    w.add_block_count(61), w.add_context_length(163840), w.add_embedding_length(7168)
    w.add_feed_forward_length(18432), w.add_head_count(128), w.add_head_count_kv(128)
    w.add_rope_freq_base(10000.0), w.add_layer_norm_rms_eps(1e-6), w.add_vocab_size(129280)
    w.add_leading_dense_block_count(3), w.add_expert_count(256), w.add_expert_used_count(8)
    w.add_expert_feed_forward_length(2048), w.add_expert_shared_count(1)
    w.add_expert_weights_scale(2.5), w.add_expert_weights_norm(True)
    w.add_expert_gating_func(gguf.ExpertGatingFuncType.SIGMOID)
    w.add_q_lora_rank(1536), w.add_kv_lora_rank(512), w.add_key_length(192), w.add_value_length(128)
    w.add_rope_dimension_count(64), w.add_expert_group_count(8), w.add_expert_group_used_count(4)


def gpt_oss(w):
    w.add_block_count(24), w.add_context_length(131072), w.add_embedding_length(2880)
    w.add_feed_forward_length(2880), w.add_head_count(64), w.add_head_count_kv(8)
    w.add_key_length(64), w.add_value_length(64), w.add_rope_freq_base(150000.0)
    w.add_layer_norm_rms_eps(1e-5), w.add_expert_count(32), w.add_expert_used_count(4)
    w.add_expert_feed_forward_length(2880), w.add_sliding_window(128), w.add_vocab_size(201088)


def qwen2moe(w):
    """Qwen1.5-MoE-A2.7B: Qwen2MoeModel writes the expert and shared-expert widths, no norm flag."""
    w.add_block_count(24), w.add_context_length(8192), w.add_embedding_length(2048)
    w.add_feed_forward_length(5632), w.add_head_count(16), w.add_head_count_kv(16)
    w.add_rope_freq_base(1e6), w.add_layer_norm_rms_eps(1e-6), w.add_vocab_size(151936)
    w.add_expert_count(60), w.add_expert_used_count(4)
    w.add_expert_feed_forward_length(1408), w.add_expert_shared_feed_forward_length(5632)


def llama4(w):
    """Llama-4-Scout: the converter swaps `intermediate_size_mlp` into feed_forward_length."""
    w.add_block_count(48), w.add_context_length(10485760), w.add_embedding_length(5120)
    w.add_feed_forward_length(16384), w.add_head_count(40), w.add_head_count_kv(8)
    w.add_rope_freq_base(500000.0), w.add_layer_norm_rms_eps(1e-5), w.add_vocab_size(202048)
    w.add_rope_dimension_count(128), w.add_expert_count(16), w.add_expert_used_count(1)
    w.add_interleave_moe_layer_step(1), w.add_expert_feed_forward_length(8192)


def glm4moe(w):
    """GLM-4.5-Air: block_count counts the NextN (MTP) block after the 46 decoder layers."""
    w.add_block_count(46 + 1), w.add_context_length(131072), w.add_embedding_length(4096)
    w.add_feed_forward_length(10944), w.add_head_count(96), w.add_head_count_kv(8)
    w.add_key_length(128), w.add_value_length(128), w.add_rope_dimension_count(64)
    w.add_rope_freq_base(1e6), w.add_layer_norm_rms_eps(1e-5), w.add_vocab_size(151552)
    w.add_expert_count(128), w.add_expert_used_count(8), w.add_expert_feed_forward_length(1408)
    w.add_expert_shared_count(1), w.add_leading_dense_block_count(1)
    w.add_expert_weights_scale(1.0), w.add_expert_weights_norm(True)
    w.add_expert_gating_func(gguf.ExpertGatingFuncType.SIGMOID), w.add_nextn_predict_layers(1)


def glm4moe_tensors() -> list[Tensor]:
    """GLM-4.5-Air's tensor infos: biased q/k/v (no GGUF key says so), a dense first layer."""
    layers, q_out, kv_out = 46 + 1, 96 * 128, 8 * 128
    tensors = llama_style_tensors(layers, 4096, 151552, q_out, kv_out, 128, 1408,
                                  dense_ffn=10944, dense_layers=[0])
    for i in range(layers):
        tensors += [(f"blk.{i}.attn_q.bias", (q_out,)), (f"blk.{i}.attn_k.bias", (kv_out,)),
                    (f"blk.{i}.attn_v.bias", (kv_out,))]
    return tensors


def olmoe(w):
    """OLMoE-1B-7B: feed_forward_length is the expert width; every layer is MoE."""
    w.add_block_count(16), w.add_context_length(4096), w.add_embedding_length(2048)
    w.add_feed_forward_length(1024), w.add_head_count(16), w.add_head_count_kv(16)
    w.add_rope_freq_base(10000.0), w.add_layer_norm_rms_eps(1e-5), w.add_vocab_size(50304)
    w.add_expert_count(64), w.add_expert_used_count(8)


CASES = {
    "mixtral": ("llama", mixtral, "Mixtral-8x7B-v0.1.json", "mixtral"),
    "deepseek_v3": ("deepseek2", deepseek_v3, "DeepSeek-V3.json", "deepseek_v3"),
    "gpt_oss": ("gpt-oss", gpt_oss, "gpt-oss-20b.json", "gpt_oss"),
    "qwen2_moe": ("qwen2moe", qwen2moe, "Qwen1.5-MoE-A2.7B.json", "qwen2_moe"),
    "llama4": ("llama4", llama4, "Llama-4-Scout-17B-16E-Instruct.json", "llama4"),
    "glm4_moe": ("glm4moe", glm4moe, GLM_45_AIR, "glm4_moe", glm4moe_tensors),
    "olmoe": ("olmoe", olmoe, OLMOE_1B_7B, "olmoe"),
}


def config_json(source: str | dict[str, Any], tmp_path: Path) -> Path:
    """A published sample config by file name, or a test module's released dimensions."""
    if isinstance(source, str):
        return sample(source)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(source))
    return path


def field(report: dict[str, Any], name: str) -> Any:
    """A composed-config value by its provenance name, e.g. `base.mla.kv_lora_rank`."""
    node: Any = report
    for part in name.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("fmt", ["table", "json"])
def test_family_gguf_counts_equal_config_json(case, fmt, tmp_path):
    arch, metadata, config_source, model_type, *tensors = CASES[case]
    path = write_gguf(tmp_path / f"{case}.gguf", arch, metadata, tensors[0]() if tensors else ())
    result = run_cli("inspect", str(path), "--format", fmt)
    assert result.exit_code == 0, result
    if fmt == "table":
        assert model_type in result.stdout
        return
    expected = run_cli("inspect", str(config_json(config_source, tmp_path)), "--format", "json").json()
    report = result.json()
    assert report["model_type"] == model_type
    assert report["params"] == expected["params"]
    assert report["provenance"]["moe.num_experts"] == f"gguf:{arch}.expert_count"
    for name, how in report["provenance"].items():
        if how == "missing" and name in DESCRIPTIVE_FIELDS:
            # Not in the GGUF: unknown, never the family default.
            assert field(report, name) is None, name
        elif how != "missing":
            value = field(expected, name)
            if isinstance(value, float):  # GGUF stores float32
                value = pytest.approx(value, rel=1e-6)
            assert field(report, name) == value, name


@pytest.mark.parametrize("case", sorted(CASES))
def test_family_gguf_errors_name_the_gguf_key(case, tmp_path):
    """The adapter checks HF keys; the message names the GGUF key the value came from."""
    arch, metadata, *_ = CASES[case]

    def too_many_experts_used(w):
        metadata(w)
        w.kv_data[0].pop(f"{arch}.expert_used_count")
        w.add_expert_used_count(200)

    path = write_gguf(tmp_path / f"{case}.gguf", arch, too_many_experts_used)
    result = run_cli("inspect", str(path), "--format", "json")
    assert result.exit_code == 1
    error = result.json()["error"]
    assert error["message"].startswith(f"invalid value for '{arch}.expert_used_count': 200 exceeds "), error
    assert error["key"] == f"{arch}.expert_used_count"
