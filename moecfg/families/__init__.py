"""The family registry: model_type → adapter, and `parse_config`, the one entry point.

Adding a family means writing its module and adding its model_type to `FAMILY_MODULES` below
(a family missing from that table still works, but costs every run that reads it a full load).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterator, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

from moecfg.errors import ConfigError
from moecfg.families.base import Family
from moecfg.families.fields import Reader
from moecfg.loading.files import RawConfig
from moecfg.model import ModelConfig

#: model_type → the module of moecfg.families that declares it. Family modules are imported on
#: first use, so reading one config pays for its own family only; `FAMILIES` (every family the
#: listed modules declare) is built when something asks for it. tests/test_startup.py checks
#: this table against the families the modules declare.
FAMILY_MODULES: dict[str, str] = {
    "llama": "dense",
    "mistral": "dense",
    "qwen2": "dense",
    "qwen3": "dense",
    "qwen3_moe": "qwen3_moe",
    "deepseek_v3": "deepseek",
    "deepseek_v2": "deepseek",
    "glm4_moe": "deepseek",
    "dots1": "deepseek",
    "deepseek": "deepseek",
    "qwen3_next": "qwen3_next",
    "jamba": "jamba",
    "granitemoehybrid": "granitemoehybrid",
    "minimax": "minimax",
    "qwen2_moe": "qwen2_moe",
    "mixtral": "mixtral",
    "olmoe": "mixtral",
    "phimoe": "mixtral",
    "granitemoe": "mixtral",
    "gpt_oss": "gpt_oss",
    "dbrx": "dbrx",
    "llama4": "llama4",
    "llama4_text": "llama4",
    "qwen3_vl_moe": "qwen3_vl_moe",
    "ernie4_5_moe": "ernie4_5_moe",
    "hunyuan_v1_moe": "hunyuan_v1_moe",
    "flex_olmo": "longtail_mixtral",
    "minimax_m2": "longtail_mixtral",
    "granitemoeshared": "longtail_mixtral",
    "granitemoe_swa": "longtail_mixtral",
    "solar_open": "longtail_deepseek",
    "exaone_moe": "longtail_deepseek",
    "glm4_moe_lite": "longtail_deepseek",
    "deepseek_v32": "longtail_deepseek",
    "glm_moe_dsa": "longtail_deepseek",
    "hy_v3": "longtail_deepseek",
    "afmoe": "longtail_deepseek",
    "qwen3_5_moe_text": "longtail_qwen3_next",
    "qwen3_5_moe": "longtail_qwen3_next",
    "mellum": "longtail_qwen3_moe",
    "cohere2_moe": "longtail_cohere",
    "nemotron_h": "longtail_hybrid",
    "axk1": "longtail_axk",
    "axk2": "longtail_axk",
    "dots3_note_text": "longtail_dots3",
    "dots3_note": "longtail_dots3",
    "beam": "longtail_beam",
    "bailing_hybrid": "longtail_hybrid",
    "minimax_m3_vl_text": "minimax_m3",
    "longcat_flash": "longcat_flash",
    "hy_v4": "longtail_dsa",
    "kolibri1": "longtail_shared_expert",
    "flint": "longtail_shared_expert",
    "laguna": "longtail_shared_expert",
    "doge": "doge",
    "deepseek_v4": "deepseek_v4",
    "zaya": "zaya",
    "inkling_text": "longtail_inkling",
    "inkling2_text": "longtail_inkling",
    "gemma4_text": "gemma4",
    "gemma4": "gemma4",
    "mimo_v2_flash": "longtail_mimo",
    "jetmoe": "longtail_jetmoe",
    "kimi_linear": "longtail_kimi_linear",
}

if TYPE_CHECKING:
    #: Every family by model_type / by architecture name (built on first access, see below).
    FAMILIES: dict[str, Family]
    FAMILIES_BY_ARCHITECTURE: dict[str, Family]


def declared_families(module: ModuleType) -> Iterator[Family]:
    """The Family objects a module defines, alone or in a tuple such as `FAMILIES`."""
    for value in vars(module).values():
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, Family):
                yield item


@functools.cache
def family_for(model_type: str) -> Family | None:
    """The family of a model_type, importing only the module that declares it."""
    module_name = FAMILY_MODULES.get(model_type)
    if module_name is not None:
        module = importlib.import_module(f"moecfg.families.{module_name}")
        for family in declared_families(module):
            if family.model_type == model_type:
                return family
    return _registry()[0].get(model_type)


@functools.cache
def _registry() -> tuple[dict[str, Family], dict[str, Family]]:
    families: dict[str, Family] = {}
    for module_name in dict.fromkeys(FAMILY_MODULES.values()):
        module = importlib.import_module(f"moecfg.families.{module_name}")
        for family in declared_families(module):
            # The table decides which module a model_type comes from, as family_for does.
            if FAMILY_MODULES.get(family.model_type, module_name) == module_name:
                families.setdefault(family.model_type, family)
    by_architecture = {
        arch: family for family in families.values() for arch in family.architectures
    }
    return families, by_architecture


def __getattr__(name: str) -> Any:
    if name == "FAMILIES":
        return _registry()[0]
    if name == "FAMILIES_BY_ARCHITECTURE":
        return _registry()[1]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def supported_model_types() -> str:
    return ", ".join(sorted(_registry()[0]))


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
    family = family_for(model_type)
    if family is not None:
        return family, []
    architectures = data.get("architectures")
    if isinstance(architectures, list) and architectures and isinstance(architectures[0], str):
        family = _registry()[1].get(architectures[0])
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
    config = ModelConfig(
        model_type=raw.data["model_type"],
        family=family.model_type,
        architecture=architecture,
        base=parsed.base,
        moe=parsed.moe,
        provenance=dict(sorted(provenance.items())),
        source_keys=dict(sorted(reader.keys.items())),
        warnings=(*warnings, *reader.warnings),
        excluded=family.excluded,
    )
    reject_defaulted_core_keys(reader, config)
    return config


#: Keys whose transformers default describes the family's reference checkpoint, never the one
#: at hand: when absent they are an error, whatever default the family's config class has.
CORE_FIELDS = (
    "base.hidden_size",
    "base.num_hidden_layers",
    "base.num_attention_heads",
    "base.vocab_size",
    "moe.num_experts",
    "moe.num_experts_per_tok",
    "moe.expert_intermediate_size",
)


def reject_defaulted_core_keys(reader: Reader, config: ModelConfig) -> None:
    """No silent defaults for core keys: the dense MLP width counts as core when a layer uses it."""
    names = list(CORE_FIELDS)
    if config.dense_layers or (config.moe is not None and config.moe.dense_mlp_in_moe_layers):
        names.append("base.intermediate_size")
    for name in names:
        if reader.provenance.get(name) == "default":
            key = reader.key_name(reader.fields[name].key)
            raise ConfigError(f"missing required key '{key}'", key=key, code="missing_key")
