"""KV cache per layer kind, with every figure derived by hand from the architecture."""

from __future__ import annotations

import json

from moecfg.families import parse_config
from moecfg.loading.files import RawConfig
from moecfg.metrics import KvGroup, kv_cache, kv_cache_bytes, kv_cache_bytes_per_token
from tests.conftest import load_sample, run_cli, sample

BF16 = 2


def parsed(config: dict):
    return parse_config(RawConfig(source="test", data=config))


def test_full_attention_every_layer():
    # Qwen3-30B-A3B: 48 layers, 4 KV heads of 128; K and V at bf16.
    per_token = 48 * 2 * 4 * 128 * BF16
    assert per_token == 98_304
    config = parsed(load_sample("Qwen3-30B-A3B.json"))
    assert kv_cache(config) == (
        KvGroup(kind="full_attention", layers=48, bytes_per_token=per_token),
    )
    assert kv_cache_bytes_per_token(config) == per_token
    assert kv_cache_bytes(config, context=32_768, batch=3) == per_token * 32_768 * 3


def test_sliding_layers_capped_at_their_window():
    # Mistral with a 4096-token window on all 32 layers; 8 KV heads of 128.
    config = parsed({**load_sample("Llama-3.1-8B.json"), "model_type": "mistral",
                     "architectures": ["MistralForCausalLM"], "sliding_window": 4096})
    per_token = 32 * 2 * 8 * 128 * BF16
    assert kv_cache(config) == (
        KvGroup(kind="sliding_attention", layers=32, bytes_per_token=per_token, window=4096),
    )
    assert kv_cache_bytes(config, context=1000) == per_token * 1000
    assert kv_cache_bytes(config, context=100_000, batch=2) == per_token * 4096 * 2


def test_fp8_cache_halves_the_bytes():
    config = parsed(load_sample("Qwen3-30B-A3B.json"))
    assert kv_cache_bytes_per_token(config, dtype_bytes=1) == 48 * 2 * 4 * 128


def test_json_reports_the_groups():
    result = run_cli("inspect", str(sample("Qwen3-30B-A3B.json")), "--format", "json")
    memory = result.json()["memory"]
    assert memory["kv_cache_bytes_per_token"] == 98_304
    assert memory["kv_cache"] == {
        "dtype": "bf16",
        "groups": [{"kind": "full_attention", "layers": 48, "bytes_per_token": 98_304,
                    "window": None, "state_bytes": 0, "expanded_bytes_per_token": None,
                    "compress_rate": None, "bytes_per_entry": 0}],
    }


def test_table_names_each_group():
    out = run_cli("inspect", str(sample("Qwen3-30B-A3B.json"))).stdout
    assert "KV per token, 48 full-attention layers" in out
    assert "KV cache per token (bf16)" in out


def test_llama4_chunked_layers_capped_at_the_chunk():
    # Llama-4-Scout: 48 layers, 8 KV heads of 128. `no_rope_layers` is empty, so transformers
    # makes every 4th layer (3, 7, ..., 47) NoPE with full attention: 12 full layers; the other
    # 36 use RoPE with chunked attention over `attention_chunk_size` = 8192 tokens.
    config = parsed(load_sample("Llama-4-Scout-17B-16E-Instruct.json"))
    per_layer = 2 * 8 * 128 * BF16
    assert per_layer == 4_096
    assert kv_cache(config) == (
        KvGroup(kind="chunked_attention", layers=36, bytes_per_token=36 * per_layer, window=8192),
        KvGroup(kind="full_attention", layers=12, bytes_per_token=12 * per_layer),
    )
    assert kv_cache_bytes_per_token(config) == 48 * per_layer == 196_608
    # Within one chunk every layer holds every token.
    assert kv_cache_bytes(config, context=8192) == 196_608 * 8192
    # At 1M tokens the chunked layers hold 8192 tokens: 147,456 · 8,192 + 49,152 · 1,048,576,
    # a quarter of the 206,158,430,208 bytes full attention on all 48 layers would need.
    assert kv_cache_bytes(config, context=1_048_576) == (
        147_456 * 8_192 + 49_152 * 1_048_576
    ) == 52_747_567_104


def test_llama4_explicit_schedule_and_chunk(tmp_path):
    raw = load_sample("Llama-4-Scout-17B-16E-Instruct.json")
    text = raw["text_config"]
    text["no_rope_layers"] = [1, 0] * 24
    text["attention_chunk_size"] = 4096
    config = parsed(raw)
    assert [g.layers for g in kv_cache(config)] == [24, 24]
    assert kv_cache(config)[0].window == 4096
    text["attention_chunk_size"] = None  # no chunk size given: nothing caps those layers
    assert kv_cache(parsed(raw))[0].window is None
    text["no_rope_layers"] = [1, 0]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(raw))
    result = run_cli("inspect", str(path))
    assert result.exit_code == 1
    assert result.stderr == (
        f"moecfg: error: {path}: invalid value for 'text_config.no_rope_layers': lists 2 layers "
        "but num_hidden_layers is 48\n"
    )
