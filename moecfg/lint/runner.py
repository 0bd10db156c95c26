"""Lint files: build each file's context, run the rules, keep the selected findings.

Every file is checked on its own: a file that cannot be read is a finding, and even a bug in
an adapter only marks that file (`internal_error`) while the others are still checked.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import replace

from moecfg.errors import one_line
from moecfg.lint.context import RuleContext, build_context
from moecfg.lint.discovery import Missing, discover
from moecfg.lint.findings import FileReport, Finding, LintReport
from moecfg.lint.locate import key_line
from moecfg.lint.rules import ALL_RULES, RULES_BY_CODE
from moecfg.lint.selection import Selection, resolve
from moecfg.loading.files import MAX_CONFIG_BYTES

UNREADABLE = RULES_BY_CODE["CFG001"]
#: Rules that relay the adapter's generic errors (missing key, wrong type, invalid value...).
ADAPTER_ERROR_RULES = frozenset({"CFG005", "CFG006", "CFG007", "CFG008", "CFG009", "CFG012"})


def all_findings(ctx: RuleContext) -> list[Finding]:
    """Every rule's findings for one file, before selection.

    A generic CFG finding is dropped when an ATT/MOE rule reports the same key: the adapter
    raised it for the same cause, which the specific rule explains better.
    """
    findings = [
        Finding(
            code=rule.code,
            name=rule.name,
            severity=rule.severity,
            message=one_line(hit.message),
            path=ctx.path,
            pointer=None if hit.key is None else "$." + hit.key,
        )
        for rule in ALL_RULES
        for hit in rule.check(ctx)
    ]
    claimed = {f.pointer for f in findings if f.pointer and not f.code.startswith("CFG")}
    return [f for f in findings if f.code not in ADAPTER_ERROR_RULES or f.pointer not in claimed]


def _text(path: str) -> str | None:
    """The file's text for locating keys; None for anything but a readable regular file."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode) or os.path.getsize(path) > MAX_CONFIG_BYTES:
            return None
        with open(path, "rb") as stream:
            return stream.read(MAX_CONFIG_BYTES).decode("utf-8-sig", errors="replace")
    except OSError:
        return None


def _with_lines(path: str, findings: list[Finding]) -> list[Finding]:
    keyed = [f for f in findings if f.pointer]
    text = _text(path) if keyed else None
    if text is None:
        return findings
    return [
        replace(f, line=key_line(text, f.pointer.removeprefix("$."))) if f.pointer else f
        for f in findings
    ]


def lint_file(path: str, selection: Selection) -> FileReport:
    """Check one file; never raises for anything the file contains."""
    try:
        ctx = build_context(path)
        findings = [f for f in all_findings(ctx) if selection.allows(f.code, path)]
        findings = _with_lines(path, findings)
    except Exception as exc:  # an adapter bug must not hide the other files
        return FileReport(path=path, internal_error=f"{type(exc).__name__}: {exc}")
    return FileReport(path=path, findings=tuple(sorted(findings, key=Finding.sort_key)))


def _missing(entry: Missing, selection: Selection) -> FileReport:
    finding = Finding(
        code=UNREADABLE.code,
        name=UNREADABLE.name,
        severity=UNREADABLE.severity,
        message=entry.message,
        path=entry.path,
    )
    allowed = selection.allows(finding.code, entry.path)
    return FileReport(path=entry.path, findings=(finding,) if allowed else ())


def lint_paths(specs: Sequence[str], selection: Selection | None = None) -> LintReport:
    """Lint every config the PATH arguments name; the Python API behind `moecfg lint`."""
    chosen = selection if selection is not None else resolve(())
    reports = [
        _missing(entry, chosen) if isinstance(entry, Missing) else lint_file(entry, chosen)
        for entry in discover(list(specs))
    ]
    return LintReport(files=tuple(reports))
