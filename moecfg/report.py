"""The report: the JSON contract every renderer consumes, built from a composed config.

`build_report` is the core call the CLI makes. Field names here are a public contract:
later versions add fields, never rename these (README, "JSON contract").
"""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from dataclasses import is_dataclass
from typing import Any

from moecfg import metrics
from moecfg.errors import MoecfgError
from moecfg.model import ModelConfig

SCHEMA_VERSION = 1


def _dataclass_dict(value: Any) -> dict[str, Any]:
    out = {}
    for f in dataclass_fields(value):
        item = getattr(value, f.name)
        if isinstance(item, tuple):
            item = [_dataclass_dict(x) if is_dataclass(x) else x for x in item]
        elif is_dataclass(item):
            item = _dataclass_dict(item)
        elif item is not None and hasattr(item, "items"):
            item = dict(item)
        out[f.name] = item
    return out


def build_report(source: str, config: ModelConfig) -> dict[str, Any]:
    """Everything moecfg says about one config, as plain JSON-able data."""
    base, moe = config.base, config.moe
    params = metrics.count_params(config)
    moe_dict = None
    if moe is not None:
        moe_dict = _dataclass_dict(moe)
    derived: dict[str, Any] = {
        "gqa_group_size": base.gqa_group_size,
        "moe_layer_count": len(moe.moe_layers) if moe else 0,
        "dense_layer_count": len(config.dense_layers),
        "sparsity": moe.sparsity if moe else None,
        "is_truly_sparse": moe.is_truly_sparse if moe else False,
        "active_share": params.active / params.total,
        "flops_per_token": 2 * params.active,
    }
    return {
        "schema_version": SCHEMA_VERSION,
        "source": source,
        "model_type": config.model_type,
        "family": config.family,
        "architecture": config.architecture,
        "is_moe": config.is_moe,
        "base": _dataclass_dict(base),
        "moe": moe_dict,
        "derived": derived,
        "params": {
            "total": params.total,
            "active": params.active,
            **params.parts,
            # Only models whose checkpoint stores MTP layers carry these two keys.
            **({"mtp": params.mtp, "checkpoint_total": params.checkpoint_total} if params.mtp else {}),
        },
        "memory": {
            "weights_bytes": metrics.weight_bytes(params.total),
            "kv_cache_dtype": "bf16",
            "kv_cache_bytes_per_token": metrics.kv_cache_bytes_per_token(config),
            "kv_cache": {
                "dtype": "bf16",
                "groups": [_dataclass_dict(group) for group in metrics.kv_cache(config)],
            },
        },
        "provenance": dict(config.provenance),
        "keys": dict(config.source_keys),
        "warnings": list(config.warnings),
        "excluded": list(config.excluded),
    }


def error_report(source: str, error: MoecfgError) -> dict[str, Any]:
    """The JSON shape of a failure: the same `source`, and the error instead of the facts."""
    return {
        "schema_version": SCHEMA_VERSION,
        "source": source,
        "error": {"code": error.code, "key": error.key, "message": error.message},
    }
