"""Project defaults from `[tool.moecfg]` in the nearest pyproject.toml, as ruff finds its own.

The search goes from the working directory upward and stops at the first pyproject.toml with
a `[tool.moecfg]` table. Keys use ruff's spelling: `select`, `ignore`, `extend-select`,
`extend-ignore`, `per-file-ignores`. Anything else is an error, so a typo cannot quietly
turn a rule off.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from moecfg.errors import MoecfgError
from moecfg.lint.selection import Layer

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


class SettingsError(MoecfgError):
    """The `[tool.moecfg]` table cannot be used; the run stops with exit 2."""

    code = "settings"


_LIST_KEYS = ("select", "ignore", "extend-select", "extend-ignore")


def find_pyproject(start: Path) -> Path | None:
    """The first pyproject.toml from `start` upward whose text has a [tool.moecfg] table."""
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and _table(candidate) is not None:
            return candidate
    return None


def _read(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as stream:
            return tomllib.load(stream)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: cannot read: {exc}") from exc


def _table(path: Path) -> dict[str, Any] | None:
    tool = _read(path).get("tool")
    table = tool.get("moecfg") if isinstance(tool, dict) else None
    if table is not None and not isinstance(table, dict):
        raise SettingsError(f"{path}: [tool.moecfg] must be a table")
    return table


def _strings(path: Path, key: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SettingsError(f"{path}: [tool.moecfg] {key} must be an array of strings")
    return value


def load_layer(path: Path) -> Layer:
    """The selectors a pyproject.toml sets, validated."""
    table = _table(path) or {}
    unknown = sorted(set(table) - {*_LIST_KEYS, "per-file-ignores"})
    if unknown:
        raise SettingsError(f"{path}: unknown [tool.moecfg] key '{unknown[0]}'")
    lists = {key: _strings(path, key, table[key]) for key in _LIST_KEYS if key in table}
    per_file = table.get("per-file-ignores", {})
    if not isinstance(per_file, dict):
        raise SettingsError(f"{path}: [tool.moecfg] per-file-ignores must be a table")
    return Layer(
        select=lists.get("select"),
        extend_select=lists.get("extend-select", ()),
        ignore=[*lists.get("ignore", ()), *lists.get("extend-ignore", ())],
        per_file_ignores={
            pattern: _strings(path, f"per-file-ignores.{pattern}", codes)
            for pattern, codes in per_file.items()
        },
        root=str(path.parent),
        origin=str(path),
    )
