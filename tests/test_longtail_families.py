"""The long-tail MoE families: exact against transformers and readable through the CLI.

Each case is transformers' own default config for the model type (what `tests/coverage.py`
builds), with the released model's dimensions written over it where they differ; the source
of each config is said next to it. The oracle is the transformers model on the meta device.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from moecfg.families import parse_config
from moecfg.loading.files import RawConfig
from moecfg.metrics import count_params
from tests.conftest import run_cli
from tests.oracle import oracle_counts, require_oracle

pytestmark = pytest.mark.oracle

#: model_type → (keys written over transformers' default config, where the dimensions come from).
CASES: dict[str, tuple[dict[str, Any], str]] = {
    "flex_olmo": ({}, "transformers default = FlexOlmo-7x7B dimensions (7 experts of 11008)"),
    "minimax_m2": ({}, "transformers default = MiniMax-M2 dimensions (256 experts, 62 layers)"),
}


def case_config(model_type: str) -> dict[str, Any]:
    require_oracle()
    from tests.coverage import default_config_dict

    overrides, _source = CASES[model_type]
    return {**json.loads(json.dumps(default_config_dict(model_type))), **overrides}


def moecfg_counts(config: dict[str, Any]) -> dict[str, int]:
    counts = count_params(parse_config(RawConfig(source="test", data=config)))
    return {**counts.parts, "total": counts.total, "active": counts.active}


@pytest.mark.parametrize("model_type", list(CASES))
def test_counts_match_transformers(model_type: str, tmp_path: Path) -> None:
    config = case_config(model_type)
    assert moecfg_counts(config) == oracle_counts(config, tmp_path)


@pytest.mark.parametrize("model_type", list(CASES))
def test_inspect_in_both_formats(model_type: str, tmp_path: Path) -> None:
    config = case_config(model_type)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    expected = moecfg_counts(config)

    as_json = run_cli("inspect", str(path), "--format", "json")
    assert as_json.exit_code == 0, as_json
    report = as_json.json()
    assert report["family"] == model_type
    assert (report["params"]["total"], report["params"]["active"]) == (
        expected["total"],
        expected["active"],
    )

    as_table = run_cli("inspect", str(path))
    assert as_table.exit_code == 0, as_table
    assert f"{expected['total']:,}" in as_table.stdout
    assert f"{expected['active']:,}" in as_table.stdout
