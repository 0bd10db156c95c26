"""Gemma 4 (gemma4_text, gemma4): exact against transformers, KV cache by hand, errors verbatim.

Every case is built by transformers' own config classes (`Gemma4TextConfig`, `Gemma4Config`)
and serialised with `to_dict()`, as a saved config.json would be. The dimensions are the
transformers defaults (hidden 2304, 30 layers, 8 heads, 4 KV heads, head_dim 256, full layers
512, PLE 256); no released Gemma 4 config is in sample_configs, so no case claims a released
size. The switches each case turns on (MoE block, attention_k_eq_v, KV-sharing layers, the
double-wide MLP, no PLE, the pre-`per_layer_config` keys) are chosen to cover every module
path of `modeling_gemma4`; their sizes are the test's, not a release's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from moecfg.metrics import KvGroup, count_params, kv_cache, kv_cache_bytes, kv_cache_bytes_per_token
from tests.conftest import run_cli
from tests.family_cases import case_tests, moecfg_counts, parse, parse_error
from tests.oracle import oracle_counts, require_oracle

pytestmark = pytest.mark.oracle

#: A small MoE block for the cases that enable it (sizes chosen for the test).
MOE = {
    "enable_moe_block": True,
    "num_experts": 16,
    "top_k_experts": 4,
    "moe_intermediate_size": 512,
}
#: Everything at once: MoE, keys as values on full layers with their own KV heads, 6 KV-sharing
#: layers with double-wide MLPs, biased attention.
EVERYTHING = {
    **MOE,
    "attention_k_eq_v": True,
    "num_global_key_value_heads": 2,
    "num_kv_shared_layers": 6,
    "use_double_wide_mlp": True,
    "attention_bias": True,
}
#: Towers of the multimodal model that moecfg leaves out (Gemma4Family.excluded).
TOWERS = r"^model\.(vision_tower|audio_tower|embed_vision|embed_audio)\."

#: case → (model_type, Gemma4TextConfig keyword arguments, extra keys of the multimodal config).
CASES: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "text-default": ("gemma4_text", {}, {}),
    "multimodal-default": ("gemma4", {}, {}),
    "moe": ("gemma4_text", MOE, {}),
    "k-eq-v": ("gemma4_text", {"attention_k_eq_v": True, "num_global_key_value_heads": 1}, {}),
    "kv-shared-double-wide": (
        "gemma4_text",
        {"num_kv_shared_layers": 10, "use_double_wide_mlp": True},
        {},
    ),
    "no-ple": ("gemma4_text", {"hidden_size_per_layer_input": 0}, {}),
    "everything": ("gemma4_text", EVERYTHING, {}),
    "multimodal-everything-untied": ("gemma4", EVERYTHING, {"tie_word_embeddings": False}),
}


def text_config(**kwargs: Any) -> dict[str, Any]:
    require_oracle()
    from transformers import Gemma4TextConfig

    return json.loads(json.dumps(Gemma4TextConfig(**kwargs).to_dict()))


def case_config(case: str) -> dict[str, Any]:
    model_type, text_kwargs, outer = CASES[case]
    text = text_config(**text_kwargs)
    if model_type == "gemma4_text":
        return text
    from transformers import Gemma4Config

    return json.loads(json.dumps(Gemma4Config(text_config=text, **outer).to_dict()))


def oracle(config: dict[str, Any], tmp_path: Path, skip: str | None = None) -> dict[str, int]:
    return oracle_counts(config, tmp_path, top_k_key="top_k_experts", skip=skip)


test_counts_match_transformers, test_inspect_in_both_formats = case_tests(
    CASES, case_config, oracle
)


def test_config_without_per_layer_config_reads_the_global_keys(tmp_path: Path) -> None:
    """Released configs spell the full layers' shape as `global_head_dim` and
    `num_global_key_value_heads`; transformers turns them into `per_layer_config` on load."""
    config = text_config(attention_k_eq_v=True)
    del config["per_layer_config"]
    config.update(global_head_dim=384, num_global_key_value_heads=2)
    assert moecfg_counts(config) == oracle(config, tmp_path)
    base = parse(config).base
    assert set(base.head_dim_by_layer) == {256, 384}
    assert set(base.kv_heads_by_layer) == {4, 2}


def test_vision_and_audio_towers_are_excluded(tmp_path: Path) -> None:
    require_oracle()
    from transformers import Gemma4AudioConfig, Gemma4Config, Gemma4VisionConfig

    multimodal = Gemma4Config(
        text_config=text_config(**MOE),
        vision_config=Gemma4VisionConfig(),
        audio_config=Gemma4AudioConfig(),
    )
    config = json.loads(json.dumps(multimodal.to_dict()))
    assert moecfg_counts(config) == oracle(config, tmp_path, skip=TOWERS)
    assert parse(config).excluded == (
        "vision and audio towers and their embedders (vision_config, audio_config): only the "
        "language model and lm_head of Gemma4ForConditionalGeneration are counted",
    )


def test_the_ple_table_is_an_embedding_and_its_projections_are_other() -> None:
    counts = count_params(parse(case_config("text-default"))).parts
    h, layers, width, vocab = 2304, 30, 256, 262_144
    assert counts["embedding"] == vocab * h + vocab * layers * width
    assert counts["other"] == h * layers * width + layers * 2 * h * width


def kv_mix_config() -> dict[str, Any]:
    """12 layers, five sliding per full one (full: 5 and 11), the last 4 (8-11) sharing KV;
    sliding layers 4 KV heads x 256, full layers 2 KV heads x 512 (keys as values)."""
    return text_config(
        num_hidden_layers=12,
        num_kv_shared_layers=4,
        attention_k_eq_v=True,
        num_global_key_value_heads=2,
    )


def test_kv_cache_of_a_sliding_full_and_shared_mix() -> None:
    config = parse(kv_mix_config())
    # Layers 0-7 keep their own KV: sliding 0-4, 6, 7 (7 layers), full 5 (1 layer). Per layer
    # and token, K and V at bf16: sliding 2 · 4 · 256 · 2 = 4096 bytes, full 2 · 2 · 512 · 2 =
    # 4096 bytes (with attention_k_eq_v the values are the keys, yet both are cached). Layers
    # 8-11 (sliding 8-10, full 11) reuse layers 7 and 5: nothing of their own.
    assert kv_cache(config) == (
        KvGroup(kind="sliding_attention", layers=7, bytes_per_token=7 * 4096, window=512),
        KvGroup(kind="full_attention", layers=1, bytes_per_token=4096),
    )
    assert kv_cache_bytes_per_token(config) == 32_768
    assert kv_cache_bytes(config, context=100_000) == 7 * 4096 * 512 + 4096 * 100_000
    memory = parsed_report(kv_mix_config())["memory"]
    assert memory["kv_cache_bytes_per_token"] == 32_768


def parsed_report(config: dict[str, Any]) -> dict[str, Any]:
    from moecfg.report import build_report

    return build_report("test", parse(config))


def test_kv_cache_matches_what_transformers_caches() -> None:
    """A tiny real model run for 10 tokens: moecfg's per-token KV times 10 is the number of
    values transformers' cache holds (shared layers hold none, full layers their own shape)."""
    torch, transformers = require_oracle()
    config = transformers.Gemma4TextConfig(
        vocab_size=128,
        vocab_size_per_layer_input=128,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=8,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=8,
        global_head_dim=16,
        attention_k_eq_v=True,
        num_global_key_value_heads=1,
        num_kv_shared_layers=3,
        hidden_size_per_layer_input=4,
        sliding_window=16,
        layer_types=["sliding_attention", "full_attention"] * 4,
    )
    torch.manual_seed(0)
    model = transformers.Gemma4ForCausalLM(config).eval()
    with torch.no_grad():
        cache = model(torch.randint(0, 128, (1, 10)), use_cache=True).past_key_values
    cached = sum(
        tensor.numel()
        for layer in cache.layers
        for tensor in (getattr(layer, "keys", None), getattr(layer, "values", None))
        if tensor is not None
    )
    ours = parse(json.loads(json.dumps(config.to_dict())))
    # Sliding 0, 2, 4: 2 · 2 · 8; full 1, 3: 2 · 1 · 16; layers 5-7 share: 160 values a token.
    assert kv_cache_bytes_per_token(ours, dtype_bytes=1) == 160
    assert cached == 160 * 10 == kv_cache_bytes(ours, context=10, dtype_bytes=1)


def test_bidirectional_attention_halves_the_window_as_transformers_does() -> None:
    require_oracle()
    from transformers import AutoConfig

    config = text_config(use_bidirectional_attention="all")
    assert config["sliding_window"] == 512
    assert parse(config).base.sliding_window == 257 == AutoConfig.for_model(**config).sliding_window


def test_a_sliding_last_layer_is_made_full_with_a_warning() -> None:
    config = {**text_config(num_hidden_layers=2), "layer_types": ["sliding_attention"] * 2}
    del config["per_layer_config"]
    result = parse(config)
    assert result.base.layer_types == ("sliding_attention", "full_attention")
    assert result.warnings == (
        'layer_types ends with "sliding_attention"; transformers makes the last layer '
        "full_attention",
    )


def test_per_layer_overrides_other_than_the_attention_shape_are_refused(tmp_path: Path) -> None:
    """transformers drops an override equal to the global value and cannot build any other."""
    config = text_config()
    config["per_layer_config"]["05"]["intermediate_size"] = 9216
    assert moecfg_counts(config) == oracle(config, tmp_path)
    config["per_layer_config"]["05"]["intermediate_size"] = 4
    assert parse_error(config) == (
        "invalid value for 'per_layer_config.05': overrides intermediate_size, which Gemma 4 "
        "cannot take per layer (transformers reads only head_dim and num_key_value_heads there)"
    )


def test_errors_name_the_key() -> None:
    config = text_config()
    assert parse_error({**config, "per_layer_config": {"30": {"head_dim": 512}}}) == (
        "invalid value for 'per_layer_config': \"30\" is not a layer index below "
        "num_hidden_layers (30)"
    )
    assert parse_error({**config, "per_layer_config": {"05": 512}}) == (
        "wrong type for 'per_layer_config.05': expected an object, got an integer (512)"
    )
    assert parse_error({**config, "per_layer_config": {"05": {"head_dim": 0}}}) == (
        "invalid value for 'per_layer_config.05.head_dim': must be positive, got 0"
    )
    assert parse_error({**config, "num_kv_shared_layers": 27}) == (
        "invalid value for 'num_kv_shared_layers': 27 shared layers leave no earlier "
        "full_attention layer to reuse"
    )
    assert parse_error({**config, "enable_moe_block": True}) == (
        "invalid value for 'num_experts': must be set when enable_moe_block is true"
    )
    assert parse_error({**config, **MOE, "top_k_experts": 17}) == (
        "invalid value for 'top_k_experts': 17 exceeds the number of experts (16)"
    )
    assert parse_error({**config, "use_bidirectional_attention": "both"}) == (
        "invalid value for 'use_bidirectional_attention': \"both\" is not one of all, vision"
    )
    assert parse_error({**config, "layer_types": ["chunked_attention"] * 30}) == (
        "invalid value for 'layer_types[0]': \"chunked_attention\" is not one of "
        "full_attention, sliding_attention"
    )


def test_multimodal_errors_name_the_text_config_key() -> None:
    config = case_config("multimodal-default")
    config["text_config"]["num_kv_shared_layers"] = 30
    assert parse_error(config) == (
        "invalid value for 'text_config.num_kv_shared_layers': 30 shared layers leave no earlier "
        "sliding_attention, full_attention layer to reuse"
    )


def test_what_if_layer_count_resizes_the_per_layer_shapes(tmp_path: Path) -> None:
    """`--set num_hidden_layers` resizes the per-layer head sizes, KV heads and K/V projections
    with the layer kinds and keeps the last layer full attention, as transformers builds
    Gemma4TextConfig with that many layers."""
    unshared = {**EVERYTHING, "num_kv_shared_layers": 0}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(text_config(**unshared)))
    result = run_cli("inspect", str(path), "--set", "num_hidden_layers=10", "--format", "json")
    assert result.exit_code == 0, result
    report = result.json()
    assert report["base"]["kv_projections_by_layer"] == [2] * 5 + [1] + [2] * 3 + [1]
    assert report["base"]["head_dim_by_layer"] == [256] * 5 + [512] + [256] * 3 + [512]
    expected = oracle(text_config(**unshared, num_hidden_layers=10), tmp_path)
    assert {k: report["params"][k] for k in expected} == expected


def test_what_if_layer_count_refuses_kv_sharing(tmp_path: Path) -> None:
    """The last num_kv_shared_layers layers share KV whatever the count: not a schedule."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(case_config("everything")))
    result = run_cli("inspect", str(path), "--set", "num_hidden_layers=12")
    assert result.exit_code == 2
    assert result.stderr == (
        f"moecfg: error: {path}: --set num_hidden_layers: moecfg cannot resize gemma4_text's "
        "num_kv_shared_layers: the last layers reuse earlier layers' keys and values; edit the "
        "config file instead\n"
    )


def test_table_shows_the_per_layer_attention_shapes(tmp_path: Path) -> None:
    """30 layers: full 5, 11, 17, 23, 29 with 512-wide heads and 2 KV heads; the last six share KV
    (0 projections), the other four full layers have keys as values (1)."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(case_config("everything")))
    out = run_cli("inspect", str(path)).stdout
    assert "head_dim by layer" in out and "256 on 25, 512 on 5 layers" in out
    assert "KV heads by layer" in out and "4 on 25, 2 on 5 layers" in out
    assert "K/V projections by layer" in out and "2 on 20, 1 on 4, 0 on 6 layers" in out
