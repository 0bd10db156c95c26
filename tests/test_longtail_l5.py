"""A.X K2 and Dots 3 Note: exact against transformers, readable through the CLI.

Each case is transformers' own default config for the model type (what `tests/coverage.py`
builds) with keys written over it; where the dimensions come from is said next to each case.
No released config.json of these models is in sample_configs, so no case claims a released
model's dimensions beyond what transformers' defaults carry. The oracle is the transformers
model on the meta device.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from moecfg.families import parse_config
from moecfg.loading.files import RawConfig
from moecfg.metrics import kv_cache
from tests.conftest import run_cli
from tests.family_cases import DROP, case_configs, case_tests, parse_error
from tests.oracle import require_oracle

pytestmark = pytest.mark.oracle

#: case → (model_type, keys written over transformers' default config, where they come from).
CASES: dict[str, tuple[str, dict[str, Any], str]] = {
    "axk2": ("axk2", {}, "transformers default (128 experts, 48 layers, ungrouped router)"),
    "axk2-grouped": (
        "axk2",
        {
            "num_hidden_layers": 4,
            "mlp_layer_types": ["dense", "sparse", "dense", "sparse"],
            "layer_types": None,
            "n_group": 8,
            "topk_group": 4,
            "attention_bias": True,
        },
        "transformers default, 4 layers listed, grouped router, biased q_a/kv_a/o projections",
    ),
    "axk2-legacy-schedule": (
        "axk2",
        {
            "num_hidden_layers": 6,
            "mlp_layer_types": None,
            "layer_types": None,
            "first_k_dense_replace": 2,
            "moe_layer_freq": 2,
        },
        "transformers default, 6 layers, MoE from first_k_dense_replace 2 on every 2nd layer",
    ),
    "dots3_note_text": (
        "dots3_note_text",
        {},
        "transformers default (46 layers: 13 indexed with 128 heads, 33 sliding with 64 heads "
        "and a 1024-wide KV latent, from per_layer_config)",
    ),
    "dots3_note": ("dots3_note", {}, "transformers default, the same text model under text_config"),
    "dots3-swa-keys": (
        "dots3_note_text",
        {
            "num_hidden_layers": 9,
            "per_layer_config": DROP,
            "layer_types": None,
            "mlp_layer_types": None,
            "rope_parameters": None,
            "first_k_dense_replace": 2,
            "use_dsa": True,
            "swa_num_attention_heads": 32,
            "swa_num_key_value_heads": 32,
            "swa_q_lora_rank": 512,
            "swa_kv_lora_rank": 768,
            "swa_head_dim": 192,
            "swa_qk_nope_head_dim": 128,
            "swa_v_head_dim": 96,
        },
        "transformers default, 9 layers, sliding sizes from swa_* keys (no per_layer_config)",
    ),
    "dots3-no-dsa": (
        "dots3_note_text",
        {
            "num_hidden_layers": 6,
            "per_layer_config": DROP,
            "layer_types": None,
            "mlp_layer_types": None,
            "rope_parameters": None,
            "use_dsa": False,
        },
        "transformers default, 6 layers, full attention without indexers beside sliding layers",
    ),
    "dots3-no-sliding": (
        "dots3_note_text",
        {
            "num_hidden_layers": 4,
            "per_layer_config": DROP,
            "layer_types": None,
            "mlp_layer_types": None,
            "rope_parameters": None,
            "use_sliding_window": False,
            "moe_layer_freq": [0, 1, 0, 1],
            "n_shared_experts": 2,
            "attention_bias": True,
        },
        "transformers default, 4 indexed layers, MoE from a per-layer moe_layer_freq list, "
        "two shared experts, biased latent projections",
    ),
}


case_config = case_configs(CASES, none_means_absent=False)
test_counts_match_transformers, test_inspect_in_both_formats = case_tests(CASES, case_config)


def test_axk2_router_is_grouped_only_with_both_group_keys() -> None:
    config = parse_config(RawConfig(source="test", data=case_config("axk2")))
    assert config.moe is not None and (config.moe.n_group, config.moe.topk_group) == (None, None)
    grouped = parse_config(RawConfig(source="test", data=case_config("axk2-grouped")))
    assert grouped.moe is not None and (grouped.moe.n_group, grouped.moe.topk_group) == (8, 4)
    assert parse_error({**case_config("axk2"), "n_group": 8}) == (
        "invalid value for 'topk_group': must be set when n_group is (grouped routing needs both)"
    )
    assert parse_error({**case_config("axk2"), "topk_group": 4}) == (
        "invalid value for 'n_group': must be set when topk_group is (grouped routing needs both)"
    )


def test_axk2_kv_cache_is_the_latent_of_every_layer() -> None:
    config = parse_config(RawConfig(source="test", data=case_config("axk2")))
    (group,) = kv_cache(config)
    # kv_lora_rank 128 + qk_rope_head_dim 32 values per layer, 48 layers, bf16.
    assert (group.kind, group.layers, group.bytes_per_token) == ("mla", 48, (128 + 32) * 48 * 2)


#: A Dots 3 small enough to run on the CPU: sliding layers with their own heads and latent.
TINY_DOTS3 = {
    "hidden_size": 64,
    "num_hidden_layers": 6,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "intermediate_size": 32,
    "moe_intermediate_size": 16,
    "shared_experts_intermediate_size": 16,
    "n_routed_experts": 4,
    "num_experts_per_tok": 2,
    "vocab_size": 100,
    "pad_token_id": 0,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "q_lora_rank": 24,
    "kv_lora_rank": 16,
    "qk_nope_head_dim": 8,
    "qk_rope_head_dim": 8,
    "v_head_dim": 8,
    "head_dim": 16,
    "index_n_heads": 2,
    "index_head_dim": 16,
    "swa_num_attention_heads": 2,
    "swa_num_key_value_heads": 2,
    "swa_q_lora_rank": 24,
    "swa_kv_lora_rank": 32,
    "swa_head_dim": 16,
    "swa_qk_nope_head_dim": 8,
    "swa_v_head_dim": 8,
}


def test_dots3_kv_cache_follows_each_kind_as_transformers_caches_it() -> None:
    """The cache transformers fills for three tokens, per layer kind, against moecfg's groups
    (the DSA indexer's own key cache is not counted by moecfg and is left out here)."""
    torch, transformers = require_oracle()
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    hf_config = CONFIG_MAPPING["dots3_note_text"](**TINY_DOTS3)
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(hf_config).eval()
    with torch.no_grad():
        cache = model(torch.tensor([[3, 4, 5]]), use_cache=True).past_key_values
    values_by_kind: dict[str, int] = {}
    windows: dict[str, int | None] = {}
    for layer, kind in zip(cache.layers, hf_config.layer_types, strict=True):
        kind = "mla_sliding_attention" if kind == "sliding_attention" else "mla"
        values_by_kind[kind] = (
            values_by_kind.get(kind, 0) + (layer.keys.numel() + layer.values.numel()) // 3
        )
        windows[kind] = getattr(layer, "sliding_window", None)

    config = parse_config(RawConfig(source="test", data=hf_config.to_dict()))
    groups = {group.kind: group for group in kv_cache(config, dtype_bytes=1)}
    assert {kind: group.bytes_per_token for kind, group in groups.items()} == values_by_kind
    assert {kind: group.window for kind, group in groups.items()} == windows
    # Sliding layers: a latent of swa_kv_lora_rank 32 + rotary key 8, and 2 heads expanded.
    assert values_by_kind == {"mla": 3 * (16 + 8), "mla_sliding_attention": 3 * (32 + 8)}
    assert groups["mla_sliding_attention"].expanded_bytes_per_token == 3 * 2 * (16 + 8)


def test_dots3_sliding_layers_carry_their_own_attention() -> None:
    config = parse_config(RawConfig(source="test", data=case_config("dots3_note_text")))
    (sliding,) = config.base.attention_by_kind
    assert (sliding.kind, sliding.num_attention_heads) == ("sliding_attention", 64)
    assert sliding.mla is not None and config.base.mla is not None
    assert (sliding.mla.kv_lora_rank, sliding.mla.qk_nope_head_dim) == (1024, 192)
    assert (config.base.num_attention_heads, config.base.mla.kv_lora_rank) == (128, 512)
    assert config.base.mla.indexer_layers == (0, 1, 5, 9, 13, 17, 21, 25, 29, 33, 37, 41, 45)


def test_dots3_inspect_table_names_the_sliding_attention(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(case_config("dots3_note_text")))
    result = run_cli("inspect", str(path))
    assert result.exit_code == 0, result
    # The test console is 80 columns wide, so long rows wrap.
    assert "sliding_attention layers" in result.stdout
    assert "64 KV heads, 64 heads," in result.stdout
    assert "KV per token, 33 sliding MLA layers (latent," in result.stdout
    report = run_cli("inspect", str(path), "--format", "json").json()
    (sliding,) = report["base"]["attention_by_kind"]
    assert (sliding["num_attention_heads"], sliding["mla"]["kv_lora_rank"]) == (64, 1024)
    groups = {group["kind"]: group for group in report["memory"]["kv_cache"]["groups"]}
    assert (groups["mla"]["layers"], groups["mla"]["window"]) == (13, None)
    assert (
        groups["mla_sliding_attention"]["layers"],
        groups["mla_sliding_attention"]["window"],
    ) == (33, 512)


def test_dots3_per_layer_config_errors_name_the_key() -> None:
    default = case_config("dots3_note_text")
    per_layer = default["per_layer_config"]
    assert parse_error({**default, "per_layer_config": {**per_layer, "x": {}}}) == (
        "invalid value for 'per_layer_config.x': is not a layer index below num_hidden_layers (46)"
    )
    assert parse_error({**default, "per_layer_config": {**per_layer, "46": {}}}) == (
        "invalid value for 'per_layer_config.46': is not a layer index below num_hidden_layers (46)"
    )
    assert parse_error({**default, "per_layer_config": {**per_layer, "03": {}}}) == (
        "invalid value for 'per_layer_config': layers 2 and 3 are both sliding_attention layers "
        "but differ in num_attention_heads (64 vs 128)"
    )
    assert parse_error({**default, "per_layer_config": {**per_layer, "02": []}}) == (
        "wrong type for 'per_layer_config.02': expected an object, got an array"
    )
    wrong = {**per_layer, "02": {**per_layer["02"], "kv_lora_rank": "wide"}}
    assert parse_error({**default, "per_layer_config": wrong}) == (
        "wrong type for 'per_layer_config.02.kv_lora_rank': expected an integer, "
        'got a string ("wide")'
    )
    nested = case_config("dots3_note")
    nested["text_config"] = {**nested["text_config"], "per_layer_config": {"x": {}}}
    assert parse_error(nested) == (
        "invalid value for 'text_config.per_layer_config.x': is not a layer index below "
        "num_hidden_layers (46)"
    )


def test_dots3_warns_about_per_layer_keys_it_does_not_read() -> None:
    default = case_config("dots3_note_text")
    per_layer = {**default["per_layer_config"]}
    per_layer["02"] = {**per_layer["02"], "intermediate_size": 4096, "rope_theta": 50000.0}
    warnings = parse_config(
        RawConfig(source="test", data={**default, "per_layer_config": per_layer})
    ).warnings
    assert warnings == (
        "per_layer_config sets intermediate_size per layer, which moecfg does not read per layer "
        "(only the attention sizes: num_attention_heads, num_key_value_heads, head_dim, "
        "q_lora_rank, kv_lora_rank, qk_nope_head_dim, qk_rope_head_dim, v_head_dim); counted "
        "with the global values",
    )


def test_dots3_moe_layer_freq_list_must_cover_every_layer() -> None:
    config = {**case_config("dots3-no-sliding"), "moe_layer_freq": [0, 1]}
    assert parse_error(config) == (
        "invalid value for 'moe_layer_freq': lists 2 layers but num_hidden_layers is 4"
    )
    config = {**case_config("dots3-no-sliding"), "moe_layer_freq": 0}
    assert (
        parse_error(config)
        == "invalid value for 'moe_layer_freq': 0 is not a layer step (at least 1)"
    )


def test_dots3_layer_types_are_checked() -> None:
    config = {**case_config("dots3_note_text"), "layer_types": ["chunked_attention"] * 46}
    assert parse_error(config) == (
        "invalid value for 'layer_types[0]': \"chunked_attention\" is not one of "
        "indexed_attention, full_attention, sliding_attention"
    )
