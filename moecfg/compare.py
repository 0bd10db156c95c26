"""Side-by-side comparison of several models: the key facts as rows, one column per model.

Built from the same reports `inspect` produces, so every number in a comparison is the number
`inspect` shows for that model. Values stay raw (ints, floats, None) for JSON; `cell_text`
is the one place they become text for the Markdown and Rich renderers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from moecfg.render.units import human_bytes, human_count

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class Row:
    """One fact compared across models; `unit` picks how `cell_text` shows it."""

    key: str
    label: str
    unit: str  #: "int", "count", "ratio", "share", "bytes" or "headroom"
    value: Callable[[dict[str, Any]], Any]


def _moe(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda report: report["moe"][name] if report["moe"] is not None else None


ROWS: tuple[Row, ...] = (
    Row("experts", "experts", "int", _moe("num_experts")),
    Row("top_k", "top-k", "int", _moe("num_experts_per_tok")),
    Row("sparsity", "sparsity (k / E)", "ratio", lambda r: r["derived"]["sparsity"]),
    Row("shared_experts", "shared experts", "int", _moe("num_shared_experts")),
    Row("moe_layers", "MoE layers", "int", lambda r: r["derived"]["moe_layer_count"]),
    Row("dense_layers", "dense layers", "int", lambda r: r["derived"]["dense_layer_count"]),
    Row("total", "total params", "count", lambda r: r["params"]["total"]),
    Row("active", "active params", "count", lambda r: r["params"]["active"]),
    Row("active_share", "active share", "share", lambda r: r["derived"]["active_share"]),
)


def _dtype_rows(reports: Sequence[dict[str, Any]]) -> list[Row]:
    """Weights per dtype, KV per token, and the deployment rows when a deployment was asked."""
    dtypes = list(dict.fromkeys(d for r in reports for d in r["memory"]["weights_bytes"]))
    rows = [
        Row(
            f"weights_{d}",
            f"weights {d}",
            "bytes",
            lambda r, d=d: r["memory"]["weights_bytes"].get(d),
        )
        for d in dtypes
    ]
    kv_dtype = reports[0]["memory"].get("kv_cache_dtype", "bf16")
    rows.append(
        Row(
            "kv_per_token",
            f"KV/token ({kv_dtype})",
            "bytes",
            lambda r: r["memory"]["kv_cache_bytes_per_token"],
        )
    )
    if all("deployment" in r for r in reports):
        first = reports[0]["deployment"]
        # Without --context each model is measured at its own max_position_embeddings.
        contexts = {r["deployment"]["context"] for r in reports}
        context = f"{first['context']:,}" if len(contexts) == 1 else "context"
        rows.append(Row("context", "context (tokens)", "int", lambda r: r["deployment"]["context"]))
        rows.append(
            Row(
                "kv_cache",
                f"KV {context} × {first['batch']} ({first['kv_dtype']})",
                "bytes",
                lambda r: r["deployment"]["kv_cache_bytes"],
            )
        )
        deployed = list(dict.fromkeys(d for r in reports for d in r["deployment"]["total_bytes"]))
        for d in deployed:
            rows.append(
                Row(
                    f"total_{d}",
                    f"weights + KV {d}",
                    "bytes",
                    lambda r, d=d: r["deployment"]["total_bytes"].get(d),
                )
            )
        if first["fits"] is not None:
            gpu = first["gpu_memory"] or human_bytes(first["gpu_memory_bytes"])
            for d in deployed:
                rows.append(
                    Row(
                        f"headroom_{d}",
                        f"fits {gpu}? {d}",
                        "headroom",
                        lambda r, d=d: (r["deployment"]["fits"].get(d) or {}).get("headroom_bytes"),
                    )
                )
    return rows


#: File extensions a column name leaves out; any other dot is part of the name
#: (`Qwen2.5-72B-Instruct`, `DeepSeek-V3.1`).
_DROPPED_SUFFIXES = (".json", ".gguf")


def column_name(source: str) -> str:
    """What to call a model's column: its file name without .json / .gguf, its folder for a
    config.json, or the repo name of a Hub id (with its @revision)."""
    if source == "<stdin>":
        return source
    repo, at, revision = source.partition("@")
    if at and "/" in revision:  # a Hub revision such as refs/pr/1 is not a path
        return f"{PurePath(repo).name}@{revision}"
    path = PurePath(source)
    if path.name.lower() == "config.json" and path.parent.name:
        return path.parent.name
    name = path.name or source
    for suffix in _DROPPED_SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _unique(names: list[str]) -> list[str]:
    """Each repeated name numbered from its second use on ("Qwen3-8B #2"), never reusing a
    name another column already has."""
    taken: set[str] = set()
    out = []
    for name in names:
        unique, number = name, 1
        while unique in taken:
            number += 1
            unique = f"{name} #{number}"
        taken.add(unique)
        out.append(unique)
    return out


def build_comparison(reports: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The comparison document: models (columns) and rows of raw values, with `differs` set
    when not every model has the same value."""
    names = _unique([column_name(report["source"]) for report in reports])
    rows = []
    for row in (*ROWS, *_dtype_rows(reports)):
        values = [row.value(report) for report in reports]
        rows.append(
            {
                "key": row.key,
                "label": row.label,
                "unit": row.unit,
                "values": values,
                "differs": any(value != values[0] for value in values[1:]),
            }
        )
    models = [
        {
            "name": name,
            "source": report["source"],
            "model_type": report["model_type"],
            "overrides": report.get("overrides", []),
        }
        for name, report in zip(names, reports, strict=True)
    ]
    return {"schema_version": SCHEMA_VERSION, "models": models, "rows": rows}


def cell_text(unit: str, value: Any) -> str:
    """A compared value as text: counts in K/M/B, bytes in GiB, shares in percent."""
    if value is None:
        return "—"
    if unit == "count":
        return human_count(value)
    if unit == "bytes":
        return human_bytes(value)
    if unit == "headroom":
        return f"fits +{human_bytes(value)}" if value >= 0 else f"no -{human_bytes(-value)}"
    if unit == "share":
        return f"{value:.1%}"
    if unit == "ratio":
        return f"{value:.4g}"
    return f"{value:,}" if isinstance(value, int) else str(value)
