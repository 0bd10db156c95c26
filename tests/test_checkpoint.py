"""The checkpoint cross-check on real tiny checkpoints saved by transformers.

A tiny Qwen3-MoE model is saved sharded with an index (`max_shard_size`), then broken: one
expert tensor removed, a config that lies about num_experts, a lying safetensors header
length, packed quantization.
"""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.oracle import require_oracle

pytestmark = pytest.mark.oracle

TINY = {
    "model_type": "qwen3_moe",
    "architectures": ["Qwen3MoeForCausalLM"],
    "vocab_size": 128,
    "hidden_size": 16,
    "intermediate_size": 32,
    "moe_intermediate_size": 8,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "head_dim": 8,
    "num_experts": 4,
    "num_experts_per_tok": 2,
}


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch, transformers = require_oracle()
    folder = tmp_path_factory.mktemp("ckpt") / "tiny"
    config = transformers.Qwen3MoeConfig(**{k: v for k, v in TINY.items() if k not in ("model_type", "architectures")})
    torch.manual_seed(0)
    model = transformers.Qwen3MoeForCausalLM(config)
    model.save_pretrained(folder, max_shard_size="20KB")
    assert (folder / "model.safetensors.index.json").is_file()
    return folder


@pytest.fixture
def checkpoint(saved: Path, tmp_path: Path):
    def copy() -> Path:
        target = tmp_path / "tiny"
        shutil.copytree(saved, target)
        return target

    return copy


def rewrite_header(shard: Path, edit) -> None:
    """Rewrite a shard's JSON header (data offsets stay valid for the kept tensors)."""
    data = shard.read_bytes()
    (length,) = struct.unpack_from("<Q", data)
    header = json.loads(data[8 : 8 + length])
    edit(header)
    raw = json.dumps(header).encode()
    shard.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + length :])


def drop_tensor(folder: Path, name: str) -> None:
    index_path = folder / "model.safetensors.index.json"
    index = json.loads(index_path.read_text())
    shard = folder / index["weight_map"].pop(name)
    index_path.write_text(json.dumps(index))
    rewrite_header(shard, lambda header: header.pop(name))


def edit_config(folder: Path, **changes) -> None:
    config = json.loads((folder / "config.json").read_text())
    config.update(changes)
    (folder / "config.json").write_text(json.dumps(config))


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_untouched_checkpoint_matches_exactly(fmt, checkpoint):
    folder = checkpoint()
    result = run_cli("inspect", str(folder), "--format", fmt)
    assert result.exit_code == 0, result
    if fmt == "table":
        assert "Checkpoint — match" in result.stdout
        return
    section = result.json()["checkpoint"]
    assert section["status"] == "match"
    assert section["params"] == {"status": "match", "checkpoint": 8944, "config": 8944,
                                 "difference": 0, "explained_by": []}
    assert section["experts"] == {"status": "match", "config": 4, "layout": "per_expert",
                                  "per_layer": {"0": 4, "1": 4}}
    assert section["files"] == 2
    assert result.json()["params"]["total"] == 8944


def test_no_checkpoint_flag_skips_it(checkpoint):
    result = run_cli("inspect", str(checkpoint()), "--no-checkpoint", "--format", "json")
    assert "checkpoint" not in result.json()


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_removed_expert_tensor_is_named(fmt, checkpoint):
    folder = checkpoint()
    drop_tensor(folder, "model.layers.1.mlp.experts.3.down_proj.weight")
    result = run_cli("inspect", str(folder), "--format", fmt)
    assert result.exit_code == 1, result
    assert result.stderr == (
        f"moecfg: checkpoint: {folder}: the weights hold 8,816 parameters, the config describes "
        "8,944 (-128)\n"
        f"moecfg: checkpoint: {folder}: layer 1 has down_proj for 3 experts, the config says 4\n"
    )
    if fmt == "json":
        section = result.json()["checkpoint"]
        assert section["status"] == "mismatch"
        assert section["experts"]["status"] == "mismatch"


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_config_lying_about_num_experts(fmt, checkpoint):
    folder = checkpoint()
    saved = json.loads((folder / "config.json").read_text())
    key = "num_local_experts" if "num_local_experts" in saved else "num_experts"
    edit_config(folder, **{key: 8})
    result = run_cli("inspect", str(folder), "--format", fmt)
    assert result.exit_code == 1, result
    assert result.stderr.splitlines()[-1] == (
        f"moecfg: checkpoint: {folder}: every MoE layer holds 4 experts, the config says 8 ({key})"
    )


def test_tied_head_stored_is_explained(checkpoint):
    folder = checkpoint()
    edit_config(folder, tie_word_embeddings=True)
    section = run_cli("inspect", str(folder), "--format", "json").json()["checkpoint"]
    assert section["status"] == "explained"
    assert section["params"]["explained_by"] == [
        {"what": "lm_head stored although the config ties it", "params": 128 * 16, "tensors": 1}
    ]


def test_mtp_layer_is_explained(checkpoint):
    folder = checkpoint()
    index_path = folder / "model.safetensors.index.json"
    index = json.loads(index_path.read_text())
    shard = folder / index["weight_map"]["model.layers.1.input_layernorm.weight"]

    def add_extra_layer(header):
        entry = dict(header["model.layers.1.input_layernorm.weight"])
        header["model.layers.2.input_layernorm.weight"] = entry

    rewrite_header(shard, add_extra_layer)
    index["weight_map"]["model.layers.2.input_layernorm.weight"] = shard.name
    index_path.write_text(json.dumps(index))
    section = run_cli("inspect", str(folder), "--format", "json").json()["checkpoint"]
    assert section["status"] == "explained"
    assert section["params"]["explained_by"] == [{"what": "MTP layers", "params": 16, "tensors": 1}]


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_packed_quantization_not_comparable(fmt, checkpoint):
    folder = checkpoint()
    edit_config(folder, quantization_config={"quant_method": "gptq", "bits": 4})
    result = run_cli("inspect", str(folder), "--format", fmt)
    assert result.exit_code == 0, result
    assert result.stderr == (
        f"moecfg: checkpoint: {folder}: element counts are not parameter counts: GPTQ packs "
        "several weights per int32 element\n"
    )
    if fmt == "json":
        assert result.json()["checkpoint"]["status"] == "not_comparable"


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_lying_header_length_does_not_allocate(fmt, checkpoint):
    folder = checkpoint()
    shard = folder / "model-00001-of-00002.safetensors"
    data = bytearray(shard.read_bytes())
    struct.pack_into("<Q", data, 0, 1 << 62)
    shard.write_bytes(bytes(data))
    result = run_cli("inspect", str(folder), "--format", fmt)
    assert result.exit_code == 1, result
    assert result.stderr == (
        f"moecfg: error: {folder}: model-00001-of-00002.safetensors: header length "
        f"{1 << 62} exceeds the file size ({len(data)} bytes)\n"
    )


def test_missing_shard_is_an_io_error(checkpoint):
    folder = checkpoint()
    (folder / "model-00002-of-00002.safetensors").unlink()
    result = run_cli("inspect", str(folder))
    assert result.exit_code == 2
    assert result.stderr == (
        f"moecfg: error: {folder}: model-00002-of-00002.safetensors: listed in the index but missing\n"
    )


def test_checkpoint_flag_without_weights(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(TINY))
    result = run_cli("inspect", str(tmp_path), "--checkpoint")
    assert result.exit_code == 2
    assert result.stderr == (
        f"moecfg: error: {tmp_path}: --checkpoint: no safetensors weights next to the config\n"
    )


def test_checkpoint_flag_on_stdin():
    result = run_cli("inspect", "-", "--checkpoint", stdin=json.dumps(TINY))
    assert result.exit_code == 2
    assert result.stderr == (
        "moecfg: error: <stdin>: --checkpoint: stdin and GGUF input have no checkpoint folder\n"
    )


def test_fused_expert_layout_counted_from_shapes():
    from moecfg.loading.checkpoint import expert_counts
    from moecfg.loading.safetensors_header import TensorInfo

    tensors = [
        TensorInfo("model.layers.0.mlp.experts.gate_up_proj", "BF16", (32, 64, 16)),
        TensorInfo("model.layers.0.mlp.experts.gate_up_proj_bias", "BF16", (32, 64)),
        TensorInfo("model.layers.0.mlp.experts.down_proj", "BF16", (32, 16, 32)),
        TensorInfo("model.layers.0.mlp.shared_experts.gate_proj.weight", "BF16", (8, 16)),
    ]
    assert expert_counts(tensors) == {0: {"gate_up_proj": 32, "down_proj": 32}}


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_what_if_is_not_checked_against_the_weights(fmt, checkpoint):
    """The weights were saved for the file as written: a what-if on its folder still matches."""
    folder = checkpoint()
    result = run_cli("inspect", str(folder), "--set", "num_experts=2", "--format", fmt)
    assert result.exit_code == 0, result
    assert result.stderr == (
        f"moecfg: warning: {folder}: --set: the checkpoint cross-check compares the weights with "
        "the config as written; the overrides do not apply to it\n"
    )
    if fmt == "json":
        report = result.json()
        assert report["checkpoint"]["status"] == "match"
        assert report["checkpoint"]["params"]["config"] == 8944
        assert report["checkpoint"]["experts"]["config"] == 4
        # Two experts fewer in each of 2 layers: gate, up and down (16 × 8 each) and a router row.
        assert report["params"]["total"] == 8944 - 2 * 2 * (3 * 16 * 8 + 16)


def test_compare_does_not_read_the_weights(checkpoint):
    """compare shows no checkpoint section, so it never opens the shards."""
    folder = checkpoint()
    (folder / "model-00002-of-00002.safetensors").unlink()
    result = run_cli("compare", str(folder), str(folder), "--format", "json")
    assert result.exit_code == 0, result
    assert result.stderr == ""
