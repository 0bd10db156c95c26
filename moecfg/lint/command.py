"""`moecfg lint` and `moecfg rules` behind the thin Typer layer: options in, text and exit out."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from moecfg.errors import ExitCode, MoecfgError
from moecfg.lint.docs import rule_markdown
from moecfg.lint.findings import Severity
from moecfg.lint.output import OutputFormat, render
from moecfg.lint.rules import ALL_RULES, RULES_BY_CODE
from moecfg.lint.runner import lint_paths
from moecfg.lint.selection import Layer, resolve
from moecfg.lint.settings import find_pyproject, load_layer


def _split(values: Sequence[str] | None) -> list[str] | None:
    """Repeated options and comma-separated lists both work: `--select MOE,CFG001`."""
    if values is None:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def run_lint(
    paths: Sequence[str],
    *,
    select: Sequence[str] | None = None,
    extend_select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    output_format: OutputFormat = OutputFormat.full,
    exit_zero: bool = False,
    isolated: bool = False,
) -> ExitCode:
    """Lint, print the report to stdout, and return the exit code (ruff's: 0, 1 or 2)."""
    try:
        if not paths:
            raise MoecfgError("no PATH given; pass config files, folders or globs")
        layers = []
        pyproject = None if isolated else find_pyproject(Path.cwd())
        if pyproject is not None:
            layers.append(load_layer(pyproject))
        layers.append(
            Layer(
                select=_split(select),
                extend_select=_split(extend_select) or (),
                ignore=_split(ignore) or (),
            )
        )
        selection = resolve(layers)
    except MoecfgError as error:
        print(f"moecfg: error: {error.message}", file=sys.stderr)
        return ExitCode.ERROR
    report = lint_paths(paths, selection)
    sys.stdout.write(render(report, output_format))
    for broken in report.internal_errors:
        print(f"moecfg: internal error: {broken.path}: {broken.internal_error}", file=sys.stderr)
    if report.internal_errors:
        return ExitCode.ERROR
    if exit_zero or not report.count(Severity.ERROR):
        return ExitCode.OK
    return ExitCode.INVALID


def run_rules(code: str | None) -> ExitCode:
    """Print one rule's documentation, or the list of all rules."""
    if code is None:
        width = max(len(r.name) for r in ALL_RULES)
        for r in ALL_RULES:
            print(f"{r.code}  {r.name:<{width}}  {r.severity!s:<7}  {r.summary}")
        return ExitCode.OK
    rule = RULES_BY_CODE.get(code.upper())
    if rule is None:
        print(f"moecfg: error: unknown rule code '{code}' (see `moecfg rules`)", file=sys.stderr)
        return ExitCode.ERROR
    sys.stdout.write(rule_markdown(rule))
    return ExitCode.OK
