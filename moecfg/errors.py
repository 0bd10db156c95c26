"""Errors moecfg reports to the user, and the exit codes they map to.

Every failure a user can cause is one of these: the CLI prints one line
(`moecfg: error: <source>: <message>`) and exits with the error's code, never a traceback.
"""

from __future__ import annotations

import re
from enum import IntEnum

#: Characters that would break the one-line contract: C0/C1 controls and Unicode line breaks.
_LINE_BREAKING = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """`text` with control characters escaped (a model_type of "\\n" stays on one line)."""
    return _LINE_BREAKING.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class ExitCode(IntEnum):
    """Process exit codes, the same for every command (ruff's convention)."""

    OK = 0
    INVALID = 1  # the config is invalid, or lint found errors
    ERROR = 2  # usage or I/O problem: no such file, unreadable, missing extra


class MoecfgError(Exception):
    """A failure with a one-line message, the key it concerns and a stable code for JSON."""

    exit_code: ExitCode = ExitCode.ERROR
    code: str = "error"

    def __init__(self, message: str, *, key: str | None = None, code: str | None = None) -> None:
        message = one_line(message)
        super().__init__(message)
        self.message = message
        self.key = key
        if code is not None:
            self.code = code

    def line(self, source: str) -> str:
        """The single line printed to stderr."""
        return f"moecfg: error: {one_line(source)}: {self.message}"


class SourceError(MoecfgError):
    """The input could not be read at all: missing file, unreadable, not a regular file."""

    exit_code = ExitCode.ERROR
    code = "source"


class MissingExtraError(SourceError):
    """An optional dependency needed for this input kind is not installed."""

    code = "missing_extra"


class ConfigError(MoecfgError):
    """The input was read but is not a valid config: bad JSON, missing key, impossible value."""

    exit_code = ExitCode.INVALID
    code = "invalid"
