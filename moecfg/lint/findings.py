"""What a lint run produces: findings, grouped per file."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Severity(str, Enum):
    """A rule's default severity; only errors make `moecfg lint` exit 1."""

    ERROR = "error"
    WARNING = "warning"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One problem in one file, located by a JSON path (`$.num_experts_per_tok`) when it has one."""

    code: str
    name: str
    severity: Severity
    message: str
    path: str
    #: JSON path of the key concerned, in check-jsonschema's `$.a.b[0]` form; None for the file.
    pointer: str | None = None
    #: 1-based line of the key's first occurrence in the file, when it can be found.
    line: int | None = None

    def sort_key(self) -> tuple[int, str, str, str]:
        return (self.line or 0, self.code, self.pointer or "", self.message)


@dataclass(frozen=True, slots=True, kw_only=True)
class FileReport:
    """The findings of one file, in a stable order; `internal_error` marks a moecfg bug."""

    path: str
    findings: tuple[Finding, ...] = ()
    internal_error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LintReport:
    """Every file checked, in the order they were discovered."""

    files: tuple[FileReport, ...] = field(default=())

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for report in self.files for f in report.findings)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    @property
    def internal_errors(self) -> tuple[FileReport, ...]:
        return tuple(r for r in self.files if r.internal_error is not None)
