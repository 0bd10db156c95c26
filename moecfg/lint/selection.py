"""Which rules run: `--select`/`--ignore`/`--extend-select`, by code or prefix, as in ruff.

Selectors are applied in layers (the `[tool.moecfg]` table, then the command line). Within a
layer, each rule follows the most specific selector that matches it (`MOE001` beats `MOE`),
with `ignore` winning a tie; a layer with `select` starts from nothing, one without it starts
from the layer below. `ALL` matches every rule.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatch

from moecfg.errors import MoecfgError
from moecfg.lint.rules import ALL_RULES


class SelectionError(MoecfgError):
    """A selector that matches no rule (a typo would otherwise disable nothing, silently)."""

    code = "usage"


@dataclass(frozen=True, slots=True, kw_only=True)
class Layer:
    """One source of selectors; `select=None` means "keep what the layer below chose"."""

    select: Sequence[str] | None = None
    extend_select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    #: Glob (matched against the file's path relative to `root`) → selectors ignored there.
    per_file_ignores: dict[str, Sequence[str]] = field(default_factory=dict)
    #: The folder per-file-ignores patterns are relative to (the pyproject.toml's folder).
    root: str = "."
    origin: str = "command line"


def _specificity(selector: str, code: str) -> int | None:
    if selector == "ALL":
        return 0
    return len(selector) if code.startswith(selector) else None


def _best(selectors: Iterable[str], code: str) -> int | None:
    scores = [s for s in (_specificity(sel, code) for sel in selectors) if s is not None]
    return max(scores) if scores else None


def validate(selectors: Iterable[str], origin: str) -> None:
    codes = [r.code for r in ALL_RULES]
    for selector in selectors:
        if selector != "ALL" and not any(code.startswith(selector) for code in codes):
            raise SelectionError(f"{origin}: unknown rule selector '{selector}'")


def apply_layer(enabled: frozenset[str], layer: Layer) -> frozenset[str]:
    selectors = [*(layer.select or ()), *layer.extend_select]
    validate([*selectors, *layer.ignore], layer.origin)
    out = set() if layer.select is not None else set(enabled)
    for rule in ALL_RULES:
        chosen, dropped = _best(selectors, rule.code), _best(layer.ignore, rule.code)
        if chosen is not None and (dropped is None or chosen > dropped):
            out.add(rule.code)
        elif dropped is not None:
            out.discard(rule.code)
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class Selection:
    """The rules enabled for the run, and per-file exceptions."""

    enabled: frozenset[str]
    #: (root folder, glob relative to it, selectors ignored for the files it matches)
    per_file_ignores: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    def allows(self, code: str, path: str) -> bool:
        if code not in self.enabled:
            return False
        for root, pattern, selectors in self.per_file_ignores:
            relative = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
            if fnmatch(relative.replace(os.sep, "/"), pattern) and _best(selectors, code) is not None:
                return False
        return True


def resolve(layers: Sequence[Layer]) -> Selection:
    """The selection after applying each layer in turn, starting from every rule."""
    enabled = frozenset(r.code for r in ALL_RULES)
    per_file: list[tuple[str, str, tuple[str, ...]]] = []
    for layer in layers:
        enabled = apply_layer(enabled, layer)
        for pattern, selectors in layer.per_file_ignores.items():
            validate(selectors, layer.origin)
            per_file.append((layer.root, pattern, tuple(selectors)))
    return Selection(enabled, tuple(per_file))
