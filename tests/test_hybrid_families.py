"""Hybrid families: Qwen3-Next, Jamba, Granite 4.0 hybrid and MiniMax.

Parameter counts are checked against transformers on the meta device and against published
totals; KV cache and recurrent-state sizes are derived by hand from the modeling code.

Fixtures under tests/fixtures/hybrid carry released dimensions: Jamba-v0.1 (ai21labs), a
Granite-4.0-H-Tiny-style config (40 layers, 4 of them attention, 64 experts of 512, shared MLP
1024, Mamba-2 with 48 heads of 64 and d_state 128) and MiniMax-Text-01 (80 layers, one in eight
softmax attention, 32 experts of 9216).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from moecfg.families import parse_config
from moecfg.loading.files import RawConfig
from moecfg.metrics import KvGroup, count_params, kv_cache, kv_cache_bytes, kv_cache_bytes_per_token
from tests.conftest import load_sample, run_cli, sample
from tests.oracle import oracle_counts

FIXTURES = Path(__file__).parent / "fixtures" / "hybrid"
BF16 = 2


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def qwen3_next() -> dict:
    return load_sample("Qwen3-Next-80B-A3B-Thinking.json")


def parsed(config: dict):
    return parse_config(RawConfig(source="test", data=config))


def moecfg_counts(config: dict) -> dict[str, int]:
    counts = count_params(parsed(config))
    return {**counts.parts, "total": counts.total, "active": counts.active}


def changed(config: dict, **changes) -> dict:
    out = dict(config)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


ORACLE_CASES = {
    "qwen3-next-80b-a3b": qwen3_next,
    "qwen3-next-interval-2-dense-layers": lambda: changed(
        qwen3_next(), full_attention_interval=2, mlp_only_layers=[0, 7], num_hidden_layers=8
    ),
    "qwen3-next-listed-layer-types": lambda: changed(
        qwen3_next(), num_hidden_layers=4,
        layer_types=["full_attention", "linear_attention", "linear_attention", "full_attention"],
    ),
    "qwen3-next-attention-bias": lambda: changed(qwen3_next(), attention_bias=True, num_hidden_layers=4),
    "jamba-v0.1": lambda: fixture("jamba-v0.1-dims.json"),
    "jamba-auto-dt-rank-biases": lambda: changed(
        fixture("jamba-v0.1-dims.json"), mamba_dt_rank=None, mamba_proj_bias=True,
        mamba_conv_bias=False, num_hidden_layers=8,
    ),
    "jamba-one-expert-is-dense": lambda: changed(
        fixture("jamba-v0.1-dims.json"), num_experts=1, num_hidden_layers=8
    ),
    "jamba-periods": lambda: changed(
        fixture("jamba-v0.1-dims.json"), attn_layer_period=3, attn_layer_offset=0,
        expert_layer_period=3, expert_layer_offset=2, num_hidden_layers=9,
    ),
    "granite-4.0-h-tiny": lambda: fixture("granite-4.0-h-tiny-dims.json"),
    "granite-all-mamba-by-default": lambda: changed(
        fixture("granite-4.0-h-tiny-dims.json"), layer_types=None, num_hidden_layers=4
    ),
    "granite-transformers-spelling-biases": lambda: changed(
        fixture("granite-4.0-h-tiny-dims.json"), num_hidden_layers=3, mamba_n_groups=2,
        layer_types=["linear_attention", "full_attention", "linear_attention"],
        attention_bias=True, mamba_proj_bias=True, mamba_conv_bias=False, mamba_d_head="auto",
        tie_word_embeddings=False,
    ),
    "minimax-text-01": lambda: fixture("minimax-text-01-dims.json"),
    "minimax-default-alternation": lambda: changed(
        fixture("minimax-text-01-dims.json"), layer_types=None, num_hidden_layers=6, head_dim=None
    ),
}


@pytest.mark.oracle
@pytest.mark.parametrize("case", sorted(ORACLE_CASES))
def test_counts_identical_to_transformers(case, tmp_path):
    config = ORACLE_CASES[case]()
    assert moecfg_counts(config) == oracle_counts(config, tmp_path)


@pytest.mark.oracle
def test_granite_without_experts_counts_its_shared_mlp_as_the_dense_mlp(tmp_path):
    # The oracle files `shared_mlp` under shared_experts by path; with no experts it is the
    # layer's only MLP, which moecfg reports as dense_mlp. Everything else is identical.
    config = changed(fixture("granite-4.0-h-tiny-dims.json"), num_local_experts=0,
                     num_hidden_layers=6, layer_types=["mamba"] * 5 + ["attention"])
    mine, oracle = moecfg_counts(config), oracle_counts(config, tmp_path)
    assert mine["dense_mlp"] == oracle["shared_experts"] == 6 * 3 * 1536 * 1024
    assert mine["shared_experts"] == oracle["dense_mlp"] == 0
    mine["dense_mlp"], mine["shared_experts"] = 0, oracle["shared_experts"]
    assert mine == oracle


def non_embedding(config: dict) -> tuple[int, int]:
    counts = count_params(parsed(config))
    embeddings = counts.parts["embedding"] + counts.parts["lm_head"]
    return counts.total - embeddings, counts.active - embeddings


def test_qwen3_next_published_80b_total_3b_active():
    # Qwen card: "80B in total and 3B activated" (SOURCES.md: non-embedding 79B).
    # Total 79,674,391,296 includes embeddings and the untied lm_head (311,164,928 each).
    counts = count_params(parsed(qwen3_next()))
    assert counts.total == 79_674_391_296
    assert round(counts.total / 1e9) == 80
    total, active = non_embedding(qwen3_next())
    assert round(total / 1e9) == 79
    # 3,252,599,552 active without embeddings: 10 of 512 experts + the shared expert per layer.
    assert active == 3_252_599_552
    assert round(active / 1e9) == 3


def test_jamba_published_52b_total_12b_active():
    # AI21 Jamba-v0.1 card: 52B total, 12B active.
    counts = count_params(parsed(fixture("jamba-v0.1-dims.json")))
    assert (counts.total, counts.active) == (51_570_323_328, 12_110_311_296)
    assert (round(counts.total / 1e9), round(counts.active / 1e9)) == (52, 12)


def test_minimax_published_456b_total_45_9b_active():
    # MiniMax-01 report: 456B total, 45.9B activated per token (the latter without embeddings).
    counts = count_params(parsed(fixture("minimax-text-01-dims.json")))
    assert counts.total == 456_089_655_296
    assert round(counts.total / 1e9) == 456
    assert round(non_embedding(fixture("minimax-text-01-dims.json"))[1] / 1e8) == 459


# --- KV cache and recurrent state, derived by hand -------------------------------------------


def test_qwen3_next_kv_only_on_the_12_full_attention_layers():
    groups = kv_cache(parsed(qwen3_next()))
    # full_attention_interval 4: layers 3, 7, ..., 47 attend (12 of 48); 2 KV heads of 256.
    full_per_token = 12 * 2 * 2 * 256 * BF16
    assert full_per_token == 24_576
    # Gated delta-net state per layer (Qwen3NextGatedDeltaNet + LinearAttentionLayer):
    #   conv state [conv_dim, kernel], conv_dim = 2·Hk·dk + Hv·dv = 2·16·128 + 32·128 = 8192
    #   recurrent state [Hv, dk, dv] = 32·128·128
    per_layer = (2 * 16 * 128 + 32 * 128) * 4 + 32 * 128 * 128
    assert per_layer == 557_056
    assert groups == (
        KvGroup(kind="linear_attention", layers=36, bytes_per_token=0,
                state_bytes=36 * per_layer * BF16),
        KvGroup(kind="full_attention", layers=12, bytes_per_token=full_per_token),
    )
    config = parsed(qwen3_next())
    assert kv_cache_bytes_per_token(config) == 24_576
    # A 4-token context costs the state plus 4 tokens of full-attention KV, per sequence.
    assert kv_cache_bytes(config, context=4, batch=2) == 2 * (36 * 557_056 * 2 + 4 * 24_576)


def test_jamba_kv_on_4_attention_layers_and_mamba1_state():
    groups = kv_cache(parsed(fixture("jamba-v0.1-dims.json")))
    # attn_layer_period 8, offset 4: layers 4, 12, 20, 28 attend; 8 KV heads of 4096/32 = 128.
    # Mamba-1 (JambaMambaMixer): d_inner = 2·4096; conv state [d_inner, d_conv = 4],
    # SSM state [d_inner, d_state = 16].
    d_inner = 2 * 4096
    assert groups == (
        KvGroup(kind="mamba", layers=28, bytes_per_token=0,
                state_bytes=28 * (d_inner * 4 + d_inner * 16) * BF16),
        KvGroup(kind="full_attention", layers=4, bytes_per_token=4 * 2 * 8 * 128 * BF16),
    )
    assert groups[0].state_bytes == 9_175_040


def test_granite_kv_on_4_attention_layers_and_mamba2_state():
    groups = kv_cache(parsed(fixture("granite-4.0-h-tiny-dims.json")))
    # Mamba-2 (GraniteMoeHybridMambaLayer): d_inner = 2·1536 = 3072;
    # conv state [d_inner + 2·groups·d_state, d_conv] = [3072 + 2·1·128, 4];
    # SSM state [heads, head_dim, d_state] = [48, 64, 128].
    per_layer = (3072 + 2 * 1 * 128) * 4 + 48 * 64 * 128
    assert per_layer == 406_528
    assert groups == (
        KvGroup(kind="mamba", layers=36, bytes_per_token=0, state_bytes=36 * per_layer * BF16),
        KvGroup(kind="full_attention", layers=4, bytes_per_token=4 * 2 * 4 * 128 * BF16),
    )


def test_minimax_kv_on_10_softmax_layers_and_lightning_state():
    groups = kv_cache(parsed(fixture("minimax-text-01-dims.json")))
    # One layer in eight is softmax attention (10 of 80), 8 KV heads of 128.
    # Lightning attention keeps attn_weights_inter [heads, head_dim, head_dim] = [64, 128, 128]
    # and no convolution state.
    assert groups == (
        KvGroup(kind="linear_attention", layers=70, bytes_per_token=0,
                state_bytes=70 * 64 * 128 * 128 * BF16),
        KvGroup(kind="full_attention", layers=10, bytes_per_token=10 * 2 * 8 * 128 * BF16),
    )
    assert groups[1].bytes_per_token == 40_960


# --- parsing, provenance and messages --------------------------------------------------------


def test_qwen3_next_reads_its_mixers():
    config = parsed(qwen3_next())
    base = config.base
    assert base.layer_types.count("full_attention") == 12
    assert base.layer_types[:4] == ("linear_attention",) * 3 + ("full_attention",)
    assert config.provenance["base.layer_types"] == "derived"
    assert base.attention_output_gate and base.qk_norm
    assert base.partial_rotary_factor == 0.25
    assert config.provenance["base.partial_rotary_factor"] == "present"
    assert base.linear_attention is not None and base.linear_attention.kind == "gated_delta_net"
    assert config.moe.shared_expert_gate and config.moe.norm_topk_prob


def test_minimax_attn_type_list_is_read_with_a_warning():
    config = changed(fixture("minimax-text-01-dims.json"), layer_types=None, num_hidden_layers=4,
                     attn_type_list=[0, 0, 0, 1])
    result = parsed(config)
    assert result.base.layer_types == ("linear_attention",) * 3 + ("full_attention",)
    assert result.warnings == (
        "attn_type_list sets the attention layers; transformers reads only layer_types and "
        "would alternate full and linear attention instead",
    )


ERRORS = {
    "qwen3-next-unknown-kind": (
        lambda: changed(qwen3_next(), num_hidden_layers=2, layer_types=["full_attention", "mamba"]),
        "invalid value for 'layer_types[1]': \"mamba\" is not one of \"full_attention\", "
        "\"linear_attention\"",
    ),
    "qwen3-next-length": (
        lambda: changed(qwen3_next(), num_hidden_layers=3, layer_types=["full_attention"]),
        "invalid value for 'layer_types': lists 1 layers but num_hidden_layers is 3",
    ),
    "qwen3-next-heads": (
        lambda: changed(qwen3_next(), linear_num_value_heads=24, linear_num_key_heads=16),
        "invalid value for 'linear_num_value_heads': 24 is not a multiple of "
        "linear_num_key_heads (16)",
    ),
    "jamba-offset": (
        lambda: changed(fixture("jamba-v0.1-dims.json"), attn_layer_offset=8),
        "invalid value for 'attn_layer_offset': 8 must be smaller than attn_layer_period (8)",
    ),
    "jamba-expert-offset": (
        lambda: changed(fixture("jamba-v0.1-dims.json"), expert_layer_offset=2),
        "invalid value for 'expert_layer_offset': 2 must be smaller than expert_layer_period (2)",
    ),
    "jamba-dt-rank-word": (
        lambda: changed(fixture("jamba-v0.1-dims.json"), mamba_dt_rank="big"),
        "invalid value for 'mamba_dt_rank': must be a positive integer or \"auto\", got \"big\"",
    ),
    "jamba-dt-rank-zero": (
        lambda: changed(fixture("jamba-v0.1-dims.json"), mamba_dt_rank=0),
        "invalid value for 'mamba_dt_rank': must be positive, got 0",
    ),
    "granite-heads": (
        lambda: changed(fixture("granite-4.0-h-tiny-dims.json"), mamba_n_heads=45, mamba_d_head=None),
        "invalid value for 'mamba_n_heads': 45 does not divide mamba_expand × hidden_size (3072)",
    ),
    "granite-head-dim": (
        lambda: changed(fixture("granite-4.0-h-tiny-dims.json"), mamba_d_head=32),
        "invalid value for 'mamba_d_head': 32 × mamba_n_heads (48) is not "
        "mamba_expand × hidden_size (3072)",
    ),
    "granite-kind": (
        lambda: changed(fixture("granite-4.0-h-tiny-dims.json"), num_hidden_layers=1,
                        layer_types=["sliding_attention"]),
        "invalid value for 'layer_types[0]': \"sliding_attention\" is not one of \"mamba\", "
        "\"attention\", \"linear_attention\", \"full_attention\"",
    ),
    "granite-alias-length": (
        lambda: changed(fixture("granite-4.0-h-tiny-dims.json"), layer_types=None,
                        layers_block_type=["mamba", "attention"]),
        "invalid value for 'layers_block_type': lists 2 layers but num_hidden_layers is 40",
    ),
    "minimax-code": (
        lambda: changed(fixture("minimax-text-01-dims.json"), layer_types=None,
                        num_hidden_layers=2, attn_type_list=[0, 2]),
        "invalid value for 'attn_type_list[1]': 2 is not one of 1, 0",
    ),
    "minimax-disagree": (
        lambda: changed(fixture("minimax-text-01-dims.json"), num_hidden_layers=2,
                        layer_types=["linear_attention", "full_attention"], attn_type_list=[1, 0]),
        "invalid value for 'attn_type_list': disagrees with layer_types",
    ),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_invalid_hybrid_configs_fail_with_one_line(case, write_config):
    build, message = ERRORS[case]
    result = run_cli("inspect", str(write_config(build())))
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


# --- the CLI in both formats ---------------------------------------------------------------


SAMPLES = {
    "Qwen3-Next-80B-A3B-Thinking.json": sample("Qwen3-Next-80B-A3B-Thinking.json"),
    "jamba-v0.1-dims.json": FIXTURES / "jamba-v0.1-dims.json",
    "granite-4.0-h-tiny-dims.json": FIXTURES / "granite-4.0-h-tiny-dims.json",
    "minimax-text-01-dims.json": FIXTURES / "minimax-text-01-dims.json",
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_inspect_json_reports_kv_groups(name):
    result = run_cli("inspect", str(SAMPLES[name]), "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = result.json()
    groups = report["memory"]["kv_cache"]["groups"]
    assert {g["kind"] for g in groups} >= {"full_attention"}
    assert report["memory"]["kv_cache_bytes_per_token"] == sum(g["bytes_per_token"] for g in groups)
    assert any(g["state_bytes"] > 0 for g in groups)


def test_inspect_table_names_each_group():
    result = run_cli("inspect", str(sample("Qwen3-Next-80B-A3B-Thinking.json")))
    assert result.exit_code == 0, result.stderr
    assert "KV per token, 12 full-attention layers" in result.stdout
    assert "linear-attention state, 36 layers" in result.stdout
    assert "40,108,032" in result.stdout  # 36 · 557,056 values · 2 bytes


def test_inspect_table_names_mamba_state():
    result = run_cli("inspect", str(FIXTURES / "jamba-v0.1-dims.json"))
    assert result.exit_code == 0, result.stderr
    assert "Mamba state, 28 layers" in result.stdout
    assert "KV per token, 4 full-attention layers" in result.stdout
