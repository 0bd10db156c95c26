"""The family case tables: configs built from cases, checked exact and read through the CLI.

A test module lists `CASES`: case name → (model_type, keys written over transformers' default
config for that type, where the values come from). `case_tests` turns the table into the two
tests every table gets: the counts equal the transformers model on the meta device (the
oracle), and `moecfg inspect` reports them in JSON and in the table.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from moecfg.errors import ConfigError
from moecfg.families import parse_config
from moecfg.loading.files import RawConfig
from moecfg.metrics import count_params
from moecfg.model import ModelConfig
from tests.conftest import run_cli
from tests.oracle import oracle_counts, require_oracle

#: An override that removes the key from transformers' default config.
DROP = object()

Cases = Mapping[str, tuple[str, Any, Any]]
CaseConfig = Callable[[str], dict[str, Any]]
Oracle = Callable[[dict[str, Any], Path], dict[str, int]]


def parse(config: dict[str, Any]) -> ModelConfig:
    return parse_config(RawConfig(source="test", data=config))


def moecfg_counts(config: dict[str, Any]) -> dict[str, int]:
    counts = count_params(parse(config))
    return {**counts.parts, "total": counts.total, "active": counts.active}


def parse_error(config: dict[str, Any]) -> str:
    """The one-line message moecfg refuses `config` with."""
    with pytest.raises(ConfigError) as error:
        parse(config)
    return error.value.message


def default_config_with(
    model_type: str, overrides: Mapping[str, Any], *, none_means_absent: bool
) -> dict[str, Any]:
    """transformers' default config for `model_type` with `overrides` written over it.

    An override of DROP removes the key. With `none_means_absent`, so does an override of None,
    as a config written by other code would leave the key out; otherwise None is kept as the
    JSON null a released config may carry.
    """
    require_oracle()
    from tests.coverage import default_config_dict

    config = {**json.loads(json.dumps(default_config_dict(model_type))), **overrides}
    return {
        key: value
        for key, value in config.items()
        if value is not DROP and not (none_means_absent and value is None and key in overrides)
    }


def case_configs(cases: Cases, *, none_means_absent: bool) -> CaseConfig:
    """`case_config(name)` for a table of (model_type, overrides, source) cases."""

    def case_config(case: str) -> dict[str, Any]:
        model_type, overrides, _source = cases[case]
        return default_config_with(model_type, overrides, none_means_absent=none_means_absent)

    return case_config


def case_tests(
    cases: Cases, case_config: CaseConfig, oracle: Oracle = oracle_counts
) -> tuple[Callable[..., None], Callable[..., None]]:
    """The two tests of a case table; a test module binds them to its own names
    (`test_counts_match_transformers, test_inspect_in_both_formats = case_tests(...)`) so that
    pytest collects them there, one per case."""

    @pytest.mark.parametrize("case", list(cases))
    def test_counts_match_transformers(case: str, tmp_path: Path) -> None:
        config = case_config(case)
        assert moecfg_counts(config) == oracle(config, tmp_path)

    @pytest.mark.parametrize("case", list(cases))
    def test_inspect_in_both_formats(case: str, tmp_path: Path) -> None:
        config = case_config(case)
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config))
        expected = moecfg_counts(config)

        as_json = run_cli("inspect", str(path), "--format", "json")
        assert as_json.exit_code == 0, as_json
        report = as_json.json()
        assert report["family"] == cases[case][0]
        assert {key: report["params"][key] for key in expected} == expected

        as_table = run_cli("inspect", str(path))
        assert as_table.exit_code == 0, as_table
        assert f"{expected['total']:,}" in as_table.stdout
        assert f"{expected['active']:,}" in as_table.stdout

    return test_counts_match_transformers, test_inspect_in_both_formats
