"""The `--output-format`s of `moecfg lint`: full, concise, json, github, sarif and markdown.

Pure functions from a LintReport to text. github follows the Actions workflow-command
escaping (actions/toolkit `command.ts`); sarif is SARIF 2.1.0 as GitHub code scanning reads it.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import quote

from moecfg import __version__
from moecfg.lint.findings import FileReport, Finding, LintReport, Severity
from moecfg.lint.rules import ALL_RULES, RULES_BY_CODE

SCHEMA_VERSION = 1
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


class OutputFormat(str, Enum):
    full = "full"
    concise = "concise"
    json = "json"
    github = "github"
    sarif = "sarif"
    markdown = "markdown"

    def __str__(self) -> str:
        return self.value


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _location(finding: Finding) -> str:
    return finding.path if finding.line is None else f"{finding.path}:{finding.line}"


def summary_line(report: LintReport) -> str:
    """ruff's closing line; a file moecfg failed to check is never "passed"."""
    errors, warnings = report.count(Severity.ERROR), report.count(Severity.WARNING)
    internal = len(report.internal_errors)
    checked = _plural(len(report.files), "file") + " checked"
    if not errors and not warnings and not internal:
        return f"All checks passed! ({checked})"
    with_findings = sum(1 for f in report.files if f.findings or f.internal_error is not None)
    parts = [_plural(errors, "error")] if errors else []
    parts += [_plural(warnings, "warning")] if warnings else []
    parts += [_plural(internal, "internal error")] if internal else []
    return f"Found {' and '.join(parts)} in {_plural(with_findings, 'file')} ({checked})."


def internal_error_line(broken: FileReport) -> str:
    """How the text formats name a file whose check failed inside moecfg."""
    return f"{broken.path}: internal error: {broken.internal_error}"


def render_concise(report: LintReport) -> str:
    lines = [f"{_location(f)}: {f.code} [{f.severity}] {f.message}" for f in report.findings]
    lines += [internal_error_line(broken) for broken in report.internal_errors]
    return "\n".join([*lines, summary_line(report)]) + "\n"


def render_full(report: LintReport) -> str:
    blocks = []
    for f in report.findings:
        block = [f"{_location(f)}: {f.code} [{f.severity}] {f.message}"]
        if f.pointer:
            block.append(f"  --> {f.pointer}")
        block.append(f"  = help: {f.name}: {RULES_BY_CODE[f.code].summary} (moecfg rules {f.code})")
        blocks.append("\n".join(block))
    blocks += [internal_error_line(broken) for broken in report.internal_errors]
    return "\n\n".join([*blocks, summary_line(report)]) + "\n"


def _finding_dict(finding: Finding) -> dict[str, Any]:
    return {
        "code": finding.code,
        "name": finding.name,
        "severity": str(finding.severity),
        "message": finding.message,
        "path": finding.path,
        "pointer": finding.pointer,
        "line": finding.line,
    }


def render_json(report: LintReport) -> str:
    """`summary.errors` counts error findings and files that hit an internal error alike, so
    a consumer reading only it never mistakes a run that could not check a file for a pass;
    `summary.internal_errors` says how many of them were internal."""
    internal = len(report.internal_errors)
    document = {
        "schema_version": SCHEMA_VERSION,
        "summary": {
            "files": len(report.files),
            "errors": report.count(Severity.ERROR) + internal,
            "warnings": report.count(Severity.WARNING),
            "internal_errors": internal,
        },
        "files": [
            {"path": r.path, "findings": len(r.findings), "internal_error": r.internal_error}
            for r in report.files
        ],
        "findings": [_finding_dict(f) for f in report.findings],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def escape_data(text: str) -> str:
    """Workflow-command message escaping (actions/toolkit `escapeData`)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Workflow-command property escaping (actions/toolkit `escapeProperty`)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: LintReport) -> str:
    lines = []
    for f in report.findings:
        props = [f"file={escape_property(f.path)}"]
        if f.line is not None:
            props.append(f"line={f.line}")
        props.append(f"title={escape_property(f'moecfg {f.code} {f.name}')}")
        lines.append(f"::{f.severity} {','.join(props)}::{escape_data(f'{f.code} {f.message}')}")
    for broken in report.internal_errors:
        props = f"file={escape_property(broken.path)},title=moecfg internal error"
        lines.append(f"::error {props}::{escape_data(f'internal error: {broken.internal_error}')}")
    return "".join(line + "\n" for line in lines)


def _artifact_uri(path: str) -> str:
    posix = Path(path).as_posix()
    if Path(path).is_absolute():
        return Path(path).as_uri()
    return quote(posix.removeprefix("./"), safe="/")


def _invocation(report: LintReport) -> dict[str, Any]:
    """The run's outcome: each file moecfg failed to check is a tool execution notification."""
    notifications = [
        {
            "level": "error",
            "message": {"text": f"internal error: {broken.internal_error}"},
            "locations": [
                {"physicalLocation": {"artifactLocation": {"uri": _artifact_uri(broken.path)}}}
            ],
        }
        for broken in report.internal_errors
    ]
    invocation: dict[str, Any] = {"executionSuccessful": not notifications}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation


def render_sarif(report: LintReport) -> str:
    rule_index = {rule.code: i for i, rule in enumerate(ALL_RULES)}
    results = []
    for f in report.findings:
        level = "error" if f.severity is Severity.ERROR else "warning"
        location: dict[str, Any] = {
            "physicalLocation": {
                "artifactLocation": {"uri": _artifact_uri(f.path)},
                "region": {"startLine": f.line or 1},
            }
        }
        if f.pointer:
            location["logicalLocations"] = [{"fullyQualifiedName": f.pointer, "kind": "member"}]
        results.append(
            {
                "ruleId": f.code,
                "ruleIndex": rule_index[f.code],
                "level": level,
                "message": {"text": f.message},
                "locations": [location],
            }
        )
    rules = [
        {
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.summary},
            "help": {"text": rule.doc, "markdown": rule.doc},
            "defaultConfiguration": {"level": str(rule.severity)},
            "properties": {"tags": [rule.code[:3]]},
        }
        for rule in ALL_RULES
    ]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "moecfg",
                        "version": __version__,
                        "informationUri": "https://pypi.org/project/moecfg/",
                        "rules": rules,
                    }
                },
                "invocations": [_invocation(report)],
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def render_markdown(report: LintReport) -> str:
    from moecfg.render.markdown import render_lint_markdown

    return render_lint_markdown(report)


RENDERERS = {
    OutputFormat.full: render_full,
    OutputFormat.concise: render_concise,
    OutputFormat.json: render_json,
    OutputFormat.github: render_github,
    OutputFormat.sarif: render_sarif,
    OutputFormat.markdown: render_markdown,
}


def render(report: LintReport, output_format: OutputFormat) -> str:
    return RENDERERS[output_format](report)
