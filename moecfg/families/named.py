"""`inspect --as FAMILY`: read a config with an adapter the user names instead of its model_type.

For a model_type moecfg does not know yet but that is built like a known family. Nothing is
guessed silently: the choice is the user's, and every output carries a warning saying so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from moecfg.errors import ConfigError, MoecfgError
from moecfg.families.base import Family


def named_family(data: Mapping[str, Any], name: str) -> tuple[Family, list[str]]:
    """The family called `name`, and the warning that the config was read with it."""
    from moecfg.families import FAMILIES, supported_model_types

    family = FAMILIES.get(name)
    if family is None:
        raise MoecfgError(
            f"unknown family '{name}' for --as (supported: {supported_model_types()})",
            code="unknown_family",
        )
    model_type = data.get("model_type")
    if not isinstance(model_type, str):
        raise ConfigError("missing required key 'model_type'", key="model_type", code="missing_key")
    if model_type == name:
        return family, []
    return family, [
        f"model_type '{model_type}' read with the '{name}' adapter (--as {name}); the counts "
        f"hold only as far as the model is built like {name}"
    ]
