"""GGUF metadata of other MoE families, as llama.cpp's converter writes it, against config.json.

Metadata only (no tensor infos): parameter counts must equal those of the published config.
"""

from __future__ import annotations

import pytest

from tests.conftest import run_cli, sample
from tests.gguf_files import gguf, write_gguf


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


CASES = {
    "mixtral": ("llama", mixtral, "Mixtral-8x7B-v0.1.json", "mixtral"),
    "deepseek_v3": ("deepseek2", deepseek_v3, "DeepSeek-V3.json", "deepseek_v3"),
    "gpt_oss": ("gpt-oss", gpt_oss, "gpt-oss-20b.json", "gpt_oss"),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("fmt", ["table", "json"])
def test_family_gguf_counts_equal_config_json(case, fmt, tmp_path):
    arch, metadata, config_name, model_type = CASES[case]
    path = write_gguf(tmp_path / f"{case}.gguf", arch, metadata)
    result = run_cli("inspect", str(path), "--format", fmt)
    assert result.exit_code == 0, result
    if fmt == "table":
        assert model_type in result.stdout
        return
    expected = run_cli("inspect", str(sample(config_name)), "--format", "json").json()
    report = result.json()
    assert report["model_type"] == model_type
    assert (report["params"]["total"], report["params"]["active"]) == (
        expected["params"]["total"],
        expected["params"]["active"],
    )
    assert report["provenance"]["moe.num_experts"] == f"gguf:{arch}.expert_count"
