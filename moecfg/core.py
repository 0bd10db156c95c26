"""The core calls behind the commands: source → raw dict → family adapter → report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from moecfg.errors import MoecfgError
from moecfg.families import family_for, parse_config
from moecfg.loading.files import holds_weights, load_source
from moecfg.metrics import count_params
from moecfg.report import build_report

#: Said when a what-if meets weights: the cross-check reads the config file as written.
CHECKPOINT_IGNORES_OVERRIDES = (
    "--set: the checkpoint cross-check compares the weights with the config as written; "
    "the overrides do not apply to it"
)

if TYPE_CHECKING:
    from moecfg.deploy import DeploymentSpec
    from moecfg.whatif import Override

# GGUF, what-if, deployment and checkpoint code is imported only on the branch that uses it:
# a plain `inspect config.json` pays for none of it (benchmarks/bench_cli.py, README).


def inspect_source(
    spec: str,
    *,
    overrides: Sequence[str] = (),
    deployment: DeploymentSpec | None = None,
    checkpoint: bool | None = None,
    as_family: str | None = None,
) -> dict[str, Any]:
    """Load, parse and measure one config; raises MoecfgError with a one-line message.

    `overrides` (`key=value`, see moecfg.whatif) edit the composed config before anything is
    measured; `deployment` adds the memory of serving it (moecfg.deploy). `checkpoint`
    cross-checks the weights next to the config: True forces it, None runs it when the
    config's folder holds safetensors, False skips it (moecfg.loading.checkpoint). `as_family`
    reads a config.json with that family's adapter (moecfg.families.named).
    """
    raw = load_source(spec)
    if raw.origin and as_family is not None:
        raise MoecfgError("--as applies to config.json input, not to a GGUF header", code="usage")
    if raw.origin:
        from moecfg.loading.gguf_config import parse_source_config

        config = parse_source_config(raw)
    else:
        config = parse_config(raw, as_family=as_family)
    file_config = config
    applied: list[Override] = []
    if overrides:
        from moecfg.whatif import apply_overrides

        family = family_for(config.family)
        assert family is not None  # config.family was resolved from this registry
        config, applied = apply_overrides(config, family, overrides)
    report = build_report(raw.source, config)
    if checkpoint or (checkpoint is None and raw.folder is not None and holds_weights(raw.folder)):
        from moecfg.loading.checkpoint import checkpoint_section

        # The weights were trained for the file as written: a what-if is not checked against them.
        file_total = count_params(file_config).total if applied else report["params"]["total"]
        section = checkpoint_section(file_config, raw, file_total, checkpoint)
        if section is not None:
            report["checkpoint"] = section
            if applied:
                report["warnings"].append(CHECKPOINT_IGNORES_OVERRIDES)
    if applied:
        report["overrides"] = [asdict(override) for override in applied]
    if deployment is not None:
        from moecfg.deploy import deployment_report

        report["deployment"] = deployment_report(config, raw.data, deployment)
    return report
