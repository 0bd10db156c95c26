"""The core calls behind the commands: source → raw dict → family adapter → report."""

from __future__ import annotations

from typing import Any

from moecfg.families import parse_config
from moecfg.loading.files import load_source
from moecfg.report import build_report


def inspect_source(spec: str) -> dict[str, Any]:
    """Load, parse and measure one config; raises MoecfgError with a one-line message."""
    raw = load_source(spec)
    return build_report(raw.source, parse_config(raw))
