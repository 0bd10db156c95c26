"""`moecfg inspect model.gguf`: real GGUFWriter files, mapped to the same composed config."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli, sample
from tests.gguf_files import (
    find_key,
    patch,
    qwen3moe_metadata,
    qwen3moe_tensors,
    write_gguf,
    write_qwen3moe,
)


@pytest.fixture(scope="module")
def qwen_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Qwen3-30B-A3B's header with its full 151,936-token vocabulary."""
    return write_qwen3moe(tmp_path_factory.mktemp("gguf") / "Qwen3-30B-A3B.gguf")


@pytest.fixture
def corrupt(qwen_gguf: Path, tmp_path: Path):
    """A copy of the Qwen GGUF to damage."""

    def copy(name: str = "bad.gguf") -> Path:
        target = tmp_path / name
        target.write_bytes(qwen_gguf.read_bytes())
        return target

    return copy


def test_qwen3moe_gguf_counts_equal_config_json(qwen_gguf):
    from_gguf = run_cli("inspect", str(qwen_gguf), "--format", "json")
    from_json = run_cli("inspect", str(sample("Qwen3-30B-A3B.json")), "--format", "json")
    assert from_gguf.exit_code == 0, from_gguf
    gguf_report, json_report = from_gguf.json(), from_json.json()
    assert gguf_report["params"] == json_report["params"]
    assert gguf_report["model_type"] == "qwen3_moe"
    assert gguf_report["moe"]["num_experts"] == 128
    assert gguf_report["moe"]["norm_topk_prob"] is True
    assert gguf_report["base"]["vocab_size"] == 151936


def test_gguf_provenance_names_gguf_keys_and_tensors(qwen_gguf):
    report = run_cli("inspect", str(qwen_gguf), "--format", "json").json()
    how = report["provenance"]
    assert how["moe.num_experts"] == "gguf:qwen3moe.expert_count"
    assert how["moe.norm_topk_prob"] == "gguf:qwen3moe.expert_weights_norm"
    assert how["base.head_dim"] == "gguf:qwen3moe.attention.key_length"
    assert how["base.tie_word_embeddings"] == "derived:tensors"
    assert how["base.vocab_size"] == "derived:tensors"
    assert how["moe.mlp_only_layers"] == "derived:tensors"
    # GGUF has no dtype key: unknown, not a guessed default.
    assert how["base.dtype"] == "missing"
    assert report["base"]["dtype"] is None


def test_gguf_table_output(qwen_gguf):
    result = run_cli("inspect", str(qwen_gguf))
    assert result.exit_code == 0, result
    assert "qwen3_moe" in result.stdout
    assert "gguf:qwen3moe.expert_count" in result.stdout


def test_norm_flag_absent_is_unknown_not_default(tmp_path):
    def metadata(w):
        qwen3moe_metadata()(w)
        w.kv_data[0].pop("qwen3moe.expert_weights_norm")

    path = write_gguf(tmp_path / "m.gguf", "qwen3moe", metadata, qwen3moe_tensors())
    report = run_cli("inspect", str(path), "--format", "json").json()
    assert report["moe"]["norm_topk_prob"] is None
    assert report["provenance"]["moe.norm_topk_prob"] == "missing"


def test_vocab_from_tokenizer_when_no_embedding_tensor(tmp_path):
    tensors = [t for t in qwen3moe_tensors() if t[0] != "token_embd.weight"]
    path = write_gguf(tmp_path / "m.gguf", "qwen3moe", qwen3moe_metadata(), tensors, vocab=1000)
    report = run_cli("inspect", str(path), "--format", "json").json()
    assert report["base"]["vocab_size"] == 1000
    assert report["provenance"]["base.vocab_size"] == "derived:tokenizer"


def test_metadata_only_gguf_is_not_counted_from_defaults(tmp_path):
    """Without tensor infos nothing says whether q/k/v are biased: no count from a default."""
    path = write_gguf(tmp_path / "m.gguf", "qwen3moe", qwen3moe_metadata(), (), vocab=1000)
    result = run_cli("inspect", str(path))
    assert result.exit_code == 1
    assert result.stderr == (
        f"moecfg: error: {path}: cannot count parameters: the GGUF does not say "
        "'attention_bias' (no metadata key, and no tensor infos it can be derived from)\n"
    )


def test_u64_signed_and_per_layer_integers_accepted(tmp_path):
    def metadata(w):
        qwen3moe_metadata()(w)
        kv = w.kv_data[0]
        kv.pop("qwen3moe.expert_count")
        kv.pop("qwen3moe.attention.head_count_kv")
        kv.pop("qwen3moe.block_count")
        w.add_uint64("qwen3moe.expert_count", 128)
        w.add_int32("qwen3moe.block_count", 48)
        w.add_array("qwen3moe.attention.head_count_kv", [4] * 48)

    path = write_gguf(tmp_path / "m.gguf", "qwen3moe", metadata, qwen3moe_tensors())
    result = run_cli("inspect", str(path), "--format", "json")
    assert result.exit_code == 0, result
    assert result.json()["base"]["num_key_value_heads"] == 4
    assert result.json()["moe"]["num_experts"] == 128


def test_dense_layers_read_from_tensor_names(tmp_path):
    path = write_gguf(tmp_path / "m.gguf", "qwen3moe", qwen3moe_metadata(),
                      qwen3moe_tensors(dense_layers=[0, 47]))
    report = run_cli("inspect", str(path), "--format", "json").json()
    assert report["moe"]["moe_layers"] == list(range(1, 47))
    assert report["derived"]["dense_layer_count"] == 2


def test_gguf_detected_by_magic_without_extension(qwen_gguf, tmp_path):
    renamed = tmp_path / "model.bin"
    renamed.write_bytes(qwen_gguf.read_bytes())
    assert run_cli("inspect", str(renamed), "--format", "json").json()["model_type"] == "qwen3_moe"


# --- malformed files: one line, exit 1, the JSON error document, no traceback -------------

def _offset_of_value(path: Path, key: str) -> int:
    return find_key(path.read_bytes(), key)


MALFORMED = {
    "bad_magic": (
        lambda p: patch(p, 0, "4s", b"GGUX"),
        "not a GGUF file (magic b'GGUX', expected b'GGUF')",
        "gguf_bad_magic",
    ),
    "bad_version": (
        lambda p: patch(p, 4, "<I", 7),
        "unsupported GGUF version 7 (supported: 2, 3)",
        "gguf_version",
    ),
    "tensor_count_2_63": (
        lambda p: patch(p, 8, "<Q", 1 << 63),
        "malformed GGUF: header: tensor count 9223372036854775808 exceeds the limit of 1048576",
        "gguf_malformed",
    ),
    "kv_count_above_cap": (
        lambda p: patch(p, 16, "<Q", 1 << 40),
        "malformed GGUF: header: metadata count 1099511627776 exceeds the limit of 65536",
        "gguf_malformed",
    ),
    "lying_string_length": (
        lambda p: patch(p, _offset_of_value(p, "general.architecture") + 4, "<Q", 1 << 40),
        "malformed GGUF: metadata key 'general.architecture': string length 1099511627776 "
        "exceeds the 16777216-byte limit",
        "gguf_malformed",
    ),
    "array_count_beyond_eof": (
        lambda p: patch(p, _offset_of_value(p, "tokenizer.ggml.tokens") + 8, "<Q", 1 << 50),
        "malformed GGUF: metadata key 'tokenizer.ggml.tokens': array of 1125899906842624 string "
        "needs at least 9007199254740992 bytes, only {tokens_rest} remain",
        "gguf_malformed",
    ),
    "unknown_value_type": (
        lambda p: patch(p, _offset_of_value(p, "tokenizer.ggml.tokens"), "<I", 42),
        "malformed GGUF: metadata key 'tokenizer.ggml.tokens': unknown value type 42 (valid: 0-12)",
        "gguf_malformed",
    ),
    "wrong_type_float_expert_count": (
        lambda p: patch(p, _offset_of_value(p, "qwen3moe.expert_count"), "<I", 6),
        "wrong type for 'qwen3moe.expert_count': expected an integer or an array of integers, "
        "got float32 (1.793662034335766e-43)",
        "wrong_type",
    ),
    "bool_not_0_or_1": (
        lambda p: patch(p, _offset_of_value(p, "qwen3moe.expert_weights_norm") + 4, "<B", 7),
        "malformed GGUF: metadata key 'qwen3moe.expert_weights_norm': boolean byte is 7, "
        "expected 0 or 1",
        "gguf_malformed",
    ),
}


def _expected(template: str, path: Path) -> str:
    data = path.read_bytes()
    tokens_at = find_key(data, "tokenizer.ggml.tokens") + 16
    return template.format(tokens_rest=len(data) - tokens_at)


@pytest.mark.parametrize("case", sorted(MALFORMED))
@pytest.mark.parametrize("fmt", ["table", "json"])
def test_malformed_gguf(case, fmt, corrupt):
    damage, template, code = MALFORMED[case]
    path = corrupt()
    damage(path)
    message = _expected(template, path)
    result = run_cli("inspect", str(path), "--format", fmt)
    assert result.exit_code == 1, result
    assert result.stderr == f"moecfg: error: {path}: {message}\n"
    assert "Traceback" not in result.stderr
    if fmt == "json":
        assert result.json()["error"] == {"code": code, "key": result.json()["error"]["key"],
                                          "message": message}
    else:
        assert result.stdout == ""


@pytest.mark.parametrize("cut", [200, 1_500_000, 2_400_000])
@pytest.mark.parametrize("fmt", ["table", "json"])
def test_truncated_gguf(cut, fmt, corrupt):
    """Cut inside the tensor infos, inside the skipped tokenizer array, and near its end."""
    path = corrupt()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - cut] if cut < 1_000_000 else data[:cut])
    result = run_cli("inspect", str(path), "--format", fmt)
    assert result.exit_code == 1, result
    line = result.stderr
    assert line.startswith(f"moecfg: error: {path}: truncated GGUF: "), line
    assert line.endswith(f"the file ends at {path.stat().st_size}\n")
    assert line.count("\n") == 1


def test_unsupported_architecture(tmp_path):
    path = write_gguf(tmp_path / "m.gguf", "rwkv7", lambda w: w.add_block_count(2))
    result = run_cli("inspect", str(path), "--format", "json")
    assert result.exit_code == 1
    message = result.json()["error"]["message"]
    assert message == (
        "unsupported GGUF architecture 'rwkv7' (supported: deepseek2, glm4moe, gpt-oss, llama, "
        "llama4, olmoe, qwen2moe, qwen3moe)"
    )


def test_counts_beyond_eof_in_a_small_file(tmp_path):
    path = write_gguf(tmp_path / "m.gguf", "qwen3moe", qwen3moe_metadata())
    size = path.stat().st_size
    patch(path, 16, "<Q", 1000)
    result = run_cli("inspect", str(path))
    assert result.exit_code == 1
    assert result.stderr == (
        f"moecfg: error: {path}: malformed GGUF: header: metadata count 1000 needs at least "
        f"12000 bytes, only {size - 24} remain (truncated file or corrupt count)\n"
    )


def test_missing_required_key_named_as_gguf_key(tmp_path):
    def metadata(w):
        qwen3moe_metadata()(w)
        w.kv_data[0].pop("qwen3moe.expert_count")

    path = write_gguf(tmp_path / "m.gguf", "qwen3moe", metadata, qwen3moe_tensors())
    result = run_cli("inspect", str(path))
    assert result.exit_code == 1
    assert result.stderr == (
        f"moecfg: error: {path}: missing required key 'num_experts' (not in the GGUF metadata)\n"
    )


def test_top_k_above_experts_names_gguf_key(tmp_path):
    def metadata(w):
        qwen3moe_metadata()(w)
        w.kv_data[0].pop("qwen3moe.expert_used_count")
        w.add_expert_used_count(200)

    path = write_gguf(tmp_path / "m.gguf", "qwen3moe", metadata, qwen3moe_tensors())
    result = run_cli("inspect", str(path))
    assert result.exit_code == 1
    assert result.stderr == (
        f"moecfg: error: {path}: invalid value for 'qwen3moe.expert_used_count': 200 exceeds the "
        "number of experts (128)\n"
    )


def test_differing_per_layer_values_rejected(tmp_path):
    def metadata(w):
        qwen3moe_metadata()(w)
        w.kv_data[0].pop("qwen3moe.attention.head_count_kv")
        w.add_array("qwen3moe.attention.head_count_kv", [4, 8] * 24)

    path = write_gguf(tmp_path / "m.gguf", "qwen3moe", metadata, qwen3moe_tensors())
    result = run_cli("inspect", str(path), "--format", "json")
    assert result.exit_code == 1
    assert result.json()["error"]["message"] == (
        "unsupported value for 'qwen3moe.attention.head_count_kv': per-layer values differ "
        "([4, 8]); moecfg models one value for every layer"
    )


def test_empty_gguf_file(tmp_path):
    path = tmp_path / "empty.gguf"
    path.write_bytes(b"")
    result = run_cli("inspect", str(path))
    assert result.exit_code == 1
    assert result.stderr == f"moecfg: error: {path}: not a GGUF file (magic b'', expected b'GGUF')\n"
