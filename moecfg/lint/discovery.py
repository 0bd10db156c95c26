"""Turn the PATH arguments into the config files to check, in a stable order.

A file is checked as given (pre-commit passes files); a folder stands for every `config.json`
below it, or, when it holds none at all, for the `*.json` files directly in it (a folder of
configs saved under model names, like `sample_configs/`); anything with glob characters that is not an existing path is expanded as a glob.
A path that yields nothing is still reported, as a `Missing` entry, so it cannot pass
silently. The walk never follows symlinked folders, so a symlink loop cannot trap it.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass

CONFIG_NAME = "config.json"


@dataclass(frozen=True, slots=True)
class Missing:
    """A PATH argument that names no config file; reported as an unreadable-file finding."""

    path: str
    message: str


def _walk(folder: str) -> list[str]:
    found = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs.sort()
        if CONFIG_NAME in files:
            found.append(os.path.join(root, CONFIG_NAME))
    return found


def _json_files(folder: str) -> list[str]:
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    return [
        os.path.join(folder, name)
        for name in names
        if name.endswith(".json") and not os.path.isdir(os.path.join(folder, name))
    ]


def discover(specs: list[str]) -> list[str | Missing]:
    """The files to lint, each once, in argument order then path order within a folder."""
    out: list[str | Missing] = []
    seen: set[str] = set()

    def add(path: str) -> None:
        key = os.path.normpath(path)
        if key not in seen:
            seen.add(key)
            out.append(path)

    for spec in specs:
        if os.path.isdir(spec):
            found = _walk(spec) or _json_files(spec)
            if not found:
                out.append(Missing(spec, f"folder has no {CONFIG_NAME}"))
            for path in found:
                add(path)
        elif glob.has_magic(spec) and not os.path.lexists(spec):
            matches = sorted(glob.glob(spec, recursive=True))
            files = [p for p in matches if not os.path.isdir(p)]
            for folder in (p for p in matches if os.path.isdir(p)):
                files.extend(_walk(folder))
            if not files:
                out.append(Missing(spec, "pattern matched no files"))
            for path in files:
                add(path)
        else:
            add(spec)
    return out
