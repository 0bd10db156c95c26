"""The core calls behind the commands: source → raw dict → family adapter → report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from moecfg.deploy import DeploymentSpec, deployment_report
from moecfg.families import FAMILIES
from moecfg.loading.checkpoint import checkpoint_section
from moecfg.loading.files import load_source
from moecfg.loading.gguf_config import parse_source_config
from moecfg.report import build_report
from moecfg.whatif import Override, apply_overrides


def inspect_source(
    spec: str,
    *,
    overrides: Sequence[str] = (),
    deployment: DeploymentSpec | None = None,
    checkpoint: bool | None = None,
) -> dict[str, Any]:
    """Load, parse and measure one config; raises MoecfgError with a one-line message.

    `overrides` (`key=value`, see moecfg.whatif) edit the composed config before anything is
    measured; `deployment` adds the memory of serving it (moecfg.deploy). `checkpoint`
    cross-checks the weights next to the config: True forces it, None runs it when the
    config's folder holds safetensors, False skips it (moecfg.loading.checkpoint).
    """
    raw = load_source(spec)
    config = parse_source_config(raw)
    applied: list[Override] = []
    if overrides:
        config, applied = apply_overrides(config, FAMILIES[config.family], overrides)
    report = build_report(raw.source, config)
    section = checkpoint_section(config, raw, report["params"]["total"], checkpoint)
    if section is not None:
        report["checkpoint"] = section
    if applied:
        report["overrides"] = [asdict(override) for override in applied]
    if deployment is not None:
        report["deployment"] = deployment_report(config, raw.data, deployment)
    return report
