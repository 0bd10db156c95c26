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

from moecfg.errors import ConfigError
from moecfg.families import parse_config
from moecfg.loading.files import RawConfig
from moecfg.metrics import count_params, kv_cache
from tests.conftest import run_cli
from tests.oracle import oracle_counts, require_oracle

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
}


def case_config(case: str) -> dict[str, Any]:
    require_oracle()
    from tests.coverage import default_config_dict

    model_type, overrides, _source = CASES[case]
    return {**json.loads(json.dumps(default_config_dict(model_type))), **overrides}


def moecfg_counts(config: dict[str, Any]) -> dict[str, int]:
    counts = count_params(parse_config(RawConfig(source="test", data=config)))
    return {**counts.parts, "total": counts.total, "active": counts.active}


def parse_error(config: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as error:
        parse_config(RawConfig(source="test", data=config))
    return error.value.message


@pytest.mark.parametrize("case", list(CASES))
def test_counts_match_transformers(case: str, tmp_path: Path) -> None:
    config = case_config(case)
    assert moecfg_counts(config) == oracle_counts(config, tmp_path)


@pytest.mark.parametrize("case", list(CASES))
def test_inspect_in_both_formats(case: str, tmp_path: Path) -> None:
    config = case_config(case)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    expected = moecfg_counts(config)

    as_json = run_cli("inspect", str(path), "--format", "json")
    assert as_json.exit_code == 0, as_json
    report = as_json.json()
    assert report["family"] == CASES[case][0]
    assert (report["params"]["total"], report["params"]["active"]) == (
        expected["total"],
        expected["active"],
    )

    as_table = run_cli("inspect", str(path))
    assert as_table.exit_code == 0, as_table
    assert f"{expected['total']:,}" in as_table.stdout
    assert f"{expected['active']:,}" in as_table.stdout


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
