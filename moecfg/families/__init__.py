"""The family registry: model_type → adapter, and `parse_config`, the one entry point.

Adding a family means writing its module and adding it to `_MODULE_FAMILIES` below.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from moecfg.errors import ConfigError
from moecfg.families import dbrx, deepseek, dense, gpt_oss, mixtral, qwen2_moe, qwen3_moe
from moecfg.families import granitemoehybrid, jamba, minimax, qwen3_next
from moecfg.families import ernie4_5_moe, hunyuan_v1_moe, llama4, qwen3_vl_moe
from moecfg.families import longtail_deepseek, longtail_mixtral, longtail_qwen3_next
from moecfg.families.base import Family
from moecfg.families.fields import Reader
from moecfg.loading.files import RawConfig
from moecfg.model import ModelConfig

_MODULE_FAMILIES: tuple[Family, ...] = (
    *dense.FAMILIES,
    qwen3_moe.QWEN3_MOE,
    qwen3_next.QWEN3_NEXT,
    jamba.JAMBA,
    granitemoehybrid.GRANITEMOEHYBRID,
    minimax.MINIMAX,
    *deepseek.FAMILIES,
    qwen2_moe.QWEN2_MOE,
    *mixtral.FAMILIES,
    gpt_oss.GPT_OSS,
    dbrx.DBRX,
    *llama4.FAMILIES,
    qwen3_vl_moe.QWEN3_VL_MOE,
    ernie4_5_moe.ERNIE4_5_MOE,
    hunyuan_v1_moe.HUNYUAN_V1_MOE,
    *longtail_mixtral.FAMILIES,
    *longtail_deepseek.FAMILIES,
    *longtail_qwen3_next.FAMILIES,
)

FAMILIES: dict[str, Family] = {family.model_type: family for family in _MODULE_FAMILIES}
FAMILIES_BY_ARCHITECTURE: dict[str, Family] = {
    arch: family for family in _MODULE_FAMILIES for arch in family.architectures
}


def supported_model_types() -> str:
    return ", ".join(sorted(FAMILIES))


def resolve_family(data: Mapping[str, Any]) -> tuple[Family, list[str]]:
    """Pick the adapter by model_type, else by architectures[0] with a warning naming it."""
    model_type = data.get("model_type")
    if model_type is None:
        raise ConfigError("missing required key 'model_type'", key="model_type", code="missing_key")
    if not isinstance(model_type, str):
        from moecfg.families.fields import describe

        raise ConfigError(
            f"wrong type for 'model_type': expected a string, got {describe(model_type)}",
            key="model_type",
            code="wrong_type",
        )
    if model_type in FAMILIES:
        return FAMILIES[model_type], []
    architectures = data.get("architectures")
    if isinstance(architectures, list) and architectures and isinstance(architectures[0], str):
        family = FAMILIES_BY_ARCHITECTURE.get(architectures[0])
        if family is not None:
            return family, [
                f"model_type '{model_type}' is not a known family; read as '{family.model_type}' "
                f"because architectures[0] is '{architectures[0]}'"
            ]
    raise ConfigError(
        f"unsupported model_type '{model_type}' (supported: {supported_model_types()})",
        key="model_type",
        code="unsupported_model_type",
    )


def parse_config(raw: RawConfig, *, as_family: str | None = None) -> ModelConfig:
    """Build the composed config from a raw config dict, or raise ConfigError naming the key.

    `as_family` reads it with that named adapter instead of its model_type's (`inspect --as`).
    """
    if as_family is None:
        family, warnings = resolve_family(raw.data)
    else:
        from moecfg.families.named import named_family

        family, warnings = named_family(raw.data, as_family)
    data: Mapping[str, Any] = raw.data
    scope = ""
    if family.text_config is not None and family.text_config in data:
        nested = data[family.text_config]
        if not isinstance(nested, Mapping):
            from moecfg.families.fields import describe

            raise ConfigError(
                f"wrong type for '{family.text_config}': expected an object, got {describe(nested)}",
                key=family.text_config,
                code="wrong_type",
            )
        data, scope = nested, family.text_config + "."
    reader = Reader(data, family.fields, scope=scope, root=raw.data)
    parsed = family.parse(reader)
    architectures = raw.data.get("architectures")
    architecture = (
        architectures[0]
        if isinstance(architectures, list) and architectures and isinstance(architectures[0], str)
        else None
    )
    provenance = dict(reader.provenance)
    for part, value in (("base", parsed.base), ("moe", parsed.moe)):
        for name in type(value).__dataclass_fields__ if value is not None else ():
            # Facts fixed by the family's modeling code (q/k norm, router shape) have no key.
            provenance.setdefault(f"{part}.{name}", "architecture")
    return ModelConfig(
        model_type=raw.data["model_type"],
        family=family.model_type,
        architecture=architecture,
        base=parsed.base,
        moe=parsed.moe,
        provenance=dict(sorted(provenance.items())),
        warnings=(*warnings, *reader.warnings),
        excluded=family.excluded,
    )
