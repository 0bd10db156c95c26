"""Everything the rules look at for one file, gathered once.

The family adapter is reused twice. Its Field table is read field by field, each read on its
own, so one bad key never hides the next (the adapter's `parse` stops at the first error).
Then `parse` itself runs, to catch what only the assembled config can show (a schedule that
makes a key required, a head_dim that does not divide). Both produce `ConfigError`s with a
`.code` and a `.key`; the rules map those codes to findings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moecfg.errors import ConfigError, MoecfgError
from moecfg.families import parse_config, resolve_family
from moecfg.families.base import Family
from moecfg.families.fields import Field, Reader, has_key
from moecfg.loading.files import RawConfig, load_file
from moecfg.model import ModelConfig


@dataclass(kw_only=True)
class RuleContext:
    """One file as the rules see it; fields stay None when an earlier stage failed."""

    path: str
    #: Why the file could not be read or parsed as a JSON object, if it could not.
    load_error: MoecfgError | None = None
    raw: dict[str, Any] | None = None
    duplicate_keys: tuple[str, ...] = ()
    family: Family | None = None
    #: Prefix of the object holding the language model's keys ("text_config." or "").
    scope: str = ""
    #: The object the family's Fields are read from (the raw dict, or its text_config).
    data: Mapping[str, Any] = field(default_factory=dict)
    #: Adapter errors: one per Field read, then the parse's first error, without repeats.
    errors: list[ConfigError] = field(default_factory=list)
    config: ModelConfig | None = None
    #: Validated values of the Fields that read cleanly, by output name ("moe.num_experts").
    values: dict[str, Any] = field(default_factory=dict)

    def value(self, name: str) -> Any:
        """A Field's validated value, or None when the family lacks it or it did not read."""
        return self.values.get(name)

    def spelled_key(self, spec: Field) -> str | None:
        """The key (or alias) the config actually uses for a Field, scoped; None if absent."""
        data, scope = (self.raw or {}, "") if spec.top_level else (self.data, self.scope)
        for key in (spec.key, *spec.aliases):
            if has_key(data, key):
                return scope + key
        return None

    def field_key(self, name: str) -> str:
        """How to name a Field in a message: its spelling in the file, else its main key."""
        assert self.family is not None
        spec = self.family.fields[name]
        return self.spelled_key(spec) or ("" if spec.top_level else self.scope) + spec.key


def _add(errors: list[ConfigError], error: ConfigError) -> None:
    if all((e.code, e.key) != (error.code, error.key) for e in errors):
        errors.append(error)


def build_context(path: str) -> RuleContext:
    """Load one file and run the family adapter over it, keeping every error as a value."""
    ctx = RuleContext(path=path)
    try:
        raw = load_file(Path(path))
    except MoecfgError as error:
        ctx.load_error = error
        return ctx
    ctx.raw, ctx.duplicate_keys, ctx.data = raw.data, raw.duplicate_keys, raw.data
    try:
        ctx.family, _ = resolve_family(raw.data)
    except ConfigError as error:
        ctx.errors.append(error)
        return ctx
    family = ctx.family
    readable = True
    if family.text_config is not None and family.text_config in raw.data:
        nested = raw.data[family.text_config]
        # Not an object: the parse below reports it; there are no Fields to read.
        readable = isinstance(nested, Mapping)
        ctx.data, ctx.scope = (nested if readable else {}), family.text_config + "."
    if readable:
        reader = Reader(ctx.data, family.fields, scope=ctx.scope, root=raw.data)
        for name in family.fields:
            try:
                ctx.values[name] = reader.get(name)
            except ConfigError as error:
                _add(ctx.errors, error)
    try:
        ctx.config = parse_config(
            RawConfig(source=path, data=raw.data, duplicate_keys=raw.duplicate_keys)
        )
    except ConfigError as error:
        _add(ctx.errors, error)
    return ctx
