"""The core calls behind the commands: source → raw dict → family adapter → report."""

from __future__ import annotations

from typing import Any

from moecfg.loading.checkpoint import checkpoint_section
from moecfg.loading.files import load_source
from moecfg.loading.gguf_config import parse_source_config
from moecfg.report import build_report


def inspect_source(spec: str, *, checkpoint: bool | None = None) -> dict[str, Any]:
    """Load, parse and measure one config; raises MoecfgError with a one-line message.

    `checkpoint` cross-checks the weights next to the config: True forces it, None runs it
    when the config's folder holds safetensors, False skips it (moecfg.loading.checkpoint).
    """
    raw = load_source(spec)
    config = parse_source_config(raw)
    report = build_report(raw.source, config)
    section = checkpoint_section(config, raw, report["params"]["total"], checkpoint)
    if section is not None:
        report["checkpoint"] = section
    return report
