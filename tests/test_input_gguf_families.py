"""GGUF metadata of other MoE families, as llama.cpp's converter writes it, against config.json.

Metadata and tensor infos (some facts have no key): counts and every field the file carries
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


def mixtral_tensors() -> list[Tensor]:
    return llama_style_tensors(32, 4096, 32000, 32 * 128, 8 * 128, 8, 14336)


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


def deepseek2_tensors(
    layers: int, hidden: int, vocab: int, heads: int, q_lora_rank: int | None, kv_lora_rank: int,
    experts: int, expert_ffn: int, shared: int, dense_ffn: int, first_dense: int,
    *, score_bias: bool,
) -> list[Tensor]:
    """llama.cpp's deepseek2 tensor infos (numpy order: out, in); qk_nope 128, rope 64, v 128."""
    nope, rope, v = 128, 64, 128
    out: list[Tensor] = [("token_embd.weight", (vocab, hidden)), ("output_norm.weight", (hidden,)),
                         ("output.weight", (vocab, hidden))]
    for i in range(layers):
        p = f"blk.{i}."
        out += [(p + "attn_norm.weight", (hidden,)), (p + "ffn_norm.weight", (hidden,))]
        if q_lora_rank is None:
            out.append((p + "attn_q.weight", (heads * (nope + rope), hidden)))
        else:
            out += [(p + "attn_q_a.weight", (q_lora_rank, hidden)),
                    (p + "attn_q_a_norm.weight", (q_lora_rank,)),
                    (p + "attn_q_b.weight", (heads * (nope + rope), q_lora_rank))]
        out += [(p + "attn_kv_a_mqa.weight", (kv_lora_rank + rope, hidden)),
                (p + "attn_kv_a_norm.weight", (kv_lora_rank,)),
                (p + "attn_kv_b.weight", (heads * (nope + v), kv_lora_rank)),
                (p + "attn_output.weight", (hidden, heads * v))]
        if i < first_dense:
            out += [(p + "ffn_gate.weight", (dense_ffn, hidden)), (p + "ffn_up.weight", (dense_ffn, hidden)),
                    (p + "ffn_down.weight", (hidden, dense_ffn))]
            continue
        out += [(p + "ffn_gate_inp.weight", (experts, hidden)),
                (p + "ffn_gate_exps.weight", (experts, expert_ffn, hidden)),
                (p + "ffn_up_exps.weight", (experts, expert_ffn, hidden)),
                (p + "ffn_down_exps.weight", (experts, hidden, expert_ffn)),
                (p + "ffn_gate_shexp.weight", (shared * expert_ffn, hidden)),
                (p + "ffn_up_shexp.weight", (shared * expert_ffn, hidden)),
                (p + "ffn_down_shexp.weight", (hidden, shared * expert_ffn))]
        if score_bias:
            out.append((p + "exp_probs_b.bias", (experts,)))
    return out


def deepseek_v3_tensors() -> list[Tensor]:
    """DeepSeek-V3 as converted: the MTP layer (model.layers.61) is dropped."""
    return deepseek2_tensors(61, 7168, 129280, 128, 1536, 512, 256, 2048, 1, 18432, 3, score_bias=True)


def deepseek_v2_lite(w):
    """DeepSeek-V2-Lite as llama.cpp's DeepseekV2Model writes it: no q_lora_rank (plain q_proj),
    softmax gating, and MLA stored as multi-query attention over the latent (head_count_kv 1,
    key/value_length the latent widths, *_mla the per-head ones)."""
    w.add_block_count(27), w.add_context_length(163840), w.add_embedding_length(2048)
    w.add_feed_forward_length(10944), w.add_head_count(16), w.add_head_count_kv(1)
    w.add_rope_freq_base(10000.0), w.add_layer_norm_rms_eps(1e-6), w.add_vocab_size(102400)
    w.add_leading_dense_block_count(1), w.add_kv_lora_rank(512)
    w.add_key_length(512 + 64), w.add_value_length(512)
    w.add_key_length_mla(128 + 64), w.add_value_length_mla(128)
    w.add_expert_count(64), w.add_expert_used_count(6), w.add_expert_feed_forward_length(1408)
    w.add_expert_shared_count(2), w.add_expert_weights_scale(1.0), w.add_expert_weights_norm(False)
    w.add_expert_gating_func(gguf.ExpertGatingFuncType.SOFTMAX), w.add_rope_dimension_count(64)


def deepseek_v2_lite_tensors() -> list[Tensor]:
    return deepseek2_tensors(27, 2048, 102400, 16, None, 512, 64, 1408, 2, 10944, 1, score_bias=False)


def gpt_oss(w):
    w.add_block_count(24), w.add_context_length(131072), w.add_embedding_length(2880)
    w.add_feed_forward_length(2880), w.add_head_count(64), w.add_head_count_kv(8)
    w.add_key_length(64), w.add_value_length(64), w.add_rope_freq_base(150000.0)
    w.add_layer_norm_rms_eps(1e-5), w.add_expert_count(32), w.add_expert_used_count(4)
    w.add_expert_feed_forward_length(2880), w.add_sliding_window(128), w.add_vocab_size(201088)


def gpt_oss_tensors() -> list[Tensor]:
    """gpt-oss-20b: biased q/k/v/o projections (attention_bias has no GGUF key) and sinks."""
    layers, q_out, kv_out = 24, 64 * 64, 8 * 64
    tensors = llama_style_tensors(layers, 2880, 201088, q_out, kv_out, 32, 2880)
    for i in range(layers):
        tensors += [(f"blk.{i}.attn_q.bias", (q_out,)), (f"blk.{i}.attn_k.bias", (kv_out,)),
                    (f"blk.{i}.attn_v.bias", (kv_out,)), (f"blk.{i}.attn_output.bias", (2880,)),
                    (f"blk.{i}.attn_sinks.weight", (64,))]
    return tensors


def qwen2moe(w):
    """Qwen1.5-MoE-A2.7B: Qwen2MoeModel writes the expert and shared-expert widths, no norm flag."""
    w.add_block_count(24), w.add_context_length(8192), w.add_embedding_length(2048)
    w.add_feed_forward_length(5632), w.add_head_count(16), w.add_head_count_kv(16)
    w.add_rope_freq_base(1e6), w.add_layer_norm_rms_eps(1e-6), w.add_vocab_size(151936)
    w.add_expert_count(60), w.add_expert_used_count(4)
    w.add_expert_feed_forward_length(1408), w.add_expert_shared_feed_forward_length(5632)


def qwen2moe_tensors() -> list[Tensor]:
    """Qwen1.5-MoE-A2.7B: biased q/k/v, every layer MoE with a gated shared expert."""
    layers, hidden = 24, 2048
    tensors = llama_style_tensors(layers, hidden, 151936, hidden, hidden, 60, 1408)
    for i in range(layers):
        p = f"blk.{i}."
        tensors += [(p + "attn_q.bias", (hidden,)), (p + "attn_k.bias", (hidden,)),
                    (p + "attn_v.bias", (hidden,)), (p + "ffn_gate_inp_shexp.weight", (1, hidden)),
                    (p + "ffn_gate_shexp.weight", (5632, hidden)), (p + "ffn_up_shexp.weight", (5632, hidden)),
                    (p + "ffn_down_shexp.weight", (hidden, 5632))]
    return tensors


def llama4(w):
    """Llama-4-Scout: the converter swaps `intermediate_size_mlp` into feed_forward_length."""
    w.add_block_count(48), w.add_context_length(10485760), w.add_embedding_length(5120)
    w.add_feed_forward_length(16384), w.add_head_count(40), w.add_head_count_kv(8)
    w.add_rope_freq_base(500000.0), w.add_layer_norm_rms_eps(1e-5), w.add_vocab_size(202048)
    w.add_rope_dimension_count(128), w.add_expert_count(16), w.add_expert_used_count(1)
    w.add_interleave_moe_layer_step(1), w.add_expert_feed_forward_length(8192)
    w.add_key_length(128), w.add_value_length(128)


def llama4_tensors() -> list[Tensor]:
    """Llama-4-Scout: every layer holds the 16 experts and a shared expert."""
    layers, hidden = 48, 5120
    tensors = llama_style_tensors(layers, hidden, 202048, 40 * 128, 8 * 128, 16, 8192)
    for i in range(layers):
        p = f"blk.{i}."
        tensors += [(p + "ffn_gate_shexp.weight", (8192, hidden)), (p + "ffn_up_shexp.weight", (8192, hidden)),
                    (p + "ffn_down_shexp.weight", (hidden, 8192))]
    return tensors


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


def olmoe_tensors() -> list[Tensor]:
    """OLMoE-1B-7B: q/k norms over the full projection widths."""
    tensors = llama_style_tensors(16, 2048, 50304, 2048, 2048, 64, 1024)
    return tensors + [t for i in range(16) for t in (
        (f"blk.{i}.attn_q_norm.weight", (2048,)), (f"blk.{i}.attn_k_norm.weight", (2048,)))]


CASES = {
    "mixtral": ("llama", mixtral, "Mixtral-8x7B-v0.1.json", "mixtral", mixtral_tensors),
    "deepseek_v3": ("deepseek2", deepseek_v3, "DeepSeek-V3.json", "deepseek_v3", deepseek_v3_tensors),
    "deepseek_v2": ("deepseek2", deepseek_v2_lite, "DeepSeek-V2-Lite.json", "deepseek_v2",
                    deepseek_v2_lite_tensors),
    "gpt_oss": ("gpt-oss", gpt_oss, "gpt-oss-20b.json", "gpt_oss", gpt_oss_tensors),
    "qwen2_moe": ("qwen2moe", qwen2moe, "Qwen1.5-MoE-A2.7B.json", "qwen2_moe", qwen2moe_tensors),
    "llama4": ("llama4", llama4, "Llama-4-Scout-17B-16E-Instruct.json", "llama4", llama4_tensors),
    "glm4_moe": ("glm4moe", glm4moe, GLM_45_AIR, "glm4_moe", glm4moe_tensors),
    "olmoe": ("olmoe", olmoe, OLMOE_1B_7B, "olmoe", olmoe_tensors),
}

#: What the GGUF holds differs from config.json by design: llama.cpp's deepseek2 converter
#: drops DeepSeek-V3's MTP layer, so the file holds none (its checkpoint_total is its total).
GGUF_DIFFERS = {"deepseek_v3": {"base.num_mtp_layers": 0}}


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
    arch, metadata, config_source, model_type, tensors = CASES[case]
    path = write_gguf(tmp_path / f"{case}.gguf", arch, metadata, tensors())
    result = run_cli("inspect", str(path), "--format", fmt)
    assert result.exit_code == 0, result
    if fmt == "table":
        assert model_type in result.stdout
        return
    expected = run_cli("inspect", str(config_json(config_source, tmp_path)), "--format", "json").json()
    report = result.json()
    differs = GGUF_DIFFERS.get(case, {})
    assert report["model_type"] == model_type
    expected_params = expected["params"]
    if differs.get("base.num_mtp_layers") == 0:
        expected_params = {k: v for k, v in expected_params.items() if k not in ("mtp", "checkpoint_total")}
    assert report["params"] == expected_params
    assert report["provenance"]["moe.num_experts"] == f"gguf:{arch}.expert_count"
    for name, how in report["provenance"].items():
        if how == "missing" and name in DESCRIPTIVE_FIELDS:
            # Not in the GGUF: unknown, never the family default.
            assert field(report, name) is None, name
        elif how != "missing":
            value = differs[name] if name in differs else field(expected, name)
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


# --- deepseek2: one llama.cpp architecture for DeepSeek-V2 and V3 ----------------------------


def inspect_gguf(path: Path) -> dict[str, Any]:
    result = run_cli("inspect", str(path), "--format", "json")
    assert result.exit_code == 0, result
    return result.json()


def test_deepseek_v3_gguf_holds_no_mtp_layer(tmp_path):
    """The converter drops model.layers.61: no MTP count is presented for what the file lacks."""
    path = write_gguf(tmp_path / "v3.gguf", "deepseek2", deepseek_v3, deepseek_v3_tensors())
    report = inspect_gguf(path)
    assert report["base"]["num_mtp_layers"] == 0
    assert report["provenance"]["base.num_mtp_layers"] == "derived:tensors"
    assert "mtp" not in report["params"] and "checkpoint_total" not in report["params"]
    assert "MTP" not in run_cli("inspect", str(path)).stdout


def test_deepseek_v2_lite_gguf_reads_as_deepseek_v2(tmp_path):
    path = write_gguf(tmp_path / "lite.gguf", "deepseek2", deepseek_v2_lite, deepseek_v2_lite_tensors())
    report = inspect_gguf(path)
    assert (report["model_type"], report["architecture"]) == ("deepseek_v2", "DeepseekV2ForCausalLM")
    assert report["moe"]["scoring_func"] == "softmax"
    assert report["base"]["mla"]["q_lora_rank"] is None
    assert report["provenance"]["base.mla.q_lora_rank"] == "derived:tensors"
    # llama.cpp's MQA head_count_kv (1) is not the checkpoint's.
    assert report["base"]["num_key_value_heads"] == 16
    assert "mtp" not in report["params"]
    # DeepSeek-V2-Lite: 15.7B total (SOURCES.md); every part equals config.json's (above).
    assert round(report["params"]["total"] / 1e9, 1) == 15.7


def test_deepseek2_without_gating_key_is_v2(tmp_path):
    """Files converted before expert_gating_func existed: llama.cpp reads them as softmax (V2)."""

    def metadata(w):
        deepseek_v2_lite(w)
        w.kv_data[0].pop("deepseek2.expert_gating_func")

    path = write_gguf(tmp_path / "old.gguf", "deepseek2", metadata, deepseek_v2_lite_tensors())
    report = inspect_gguf(path)
    assert report["model_type"] == "deepseek_v2"
    assert report["params"] == inspect_gguf(
        write_gguf(tmp_path / "new.gguf", "deepseek2", deepseek_v2_lite, deepseek_v2_lite_tensors())
    )["params"]


def test_q_lora_rank_without_key_is_read_from_the_q_a_tensor(tmp_path):
    def metadata(w):
        deepseek_v3(w)
        w.kv_data[0].pop("deepseek2.attention.q_lora_rank")

    report = inspect_gguf(write_gguf(tmp_path / "v3.gguf", "deepseek2", metadata, deepseek_v3_tensors()))
    assert report["base"]["mla"]["q_lora_rank"] == 1536
    assert report["provenance"]["base.mla.q_lora_rank"] == "derived:tensors"


def test_deepseek2_without_tensor_infos_is_not_counted(tmp_path):
    """Nothing says whether q is low-rank, nor how many MTP layers the file holds."""
    path = write_gguf(tmp_path / "lite.gguf", "deepseek2", deepseek_v2_lite)
    result = run_cli("inspect", str(path), "--format", "json")
    assert result.exit_code == 1
    assert result.json()["error"]["message"] == (
        "cannot count parameters: the GGUF does not say 'attention_bias' (no metadata key, and "
        "no tensor infos it can be derived from)"
    )
