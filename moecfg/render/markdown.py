"""Markdown output for PR comments and GitHub job summaries (`>> $GITHUB_STEP_SUMMARY`).

Pure functions from an inspect report, a comparison or a lint report to a string: GitHub pipe
tables, the pictures in `text` code blocks, no Rich.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from moecfg.compare import cell_text
from moecfg.metrics import PARTS
from moecfg.render.memory_rows import kv_group_rows
from moecfg.render.pictures import layer_map_lines, parameter_bar_lines
from moecfg.render.units import how_found, human_bytes, human_count, value_text

if TYPE_CHECKING:
    from moecfg.lint.findings import LintReport

#: Per-layer and summarised fields that the layer map shows instead of a table row.
_SHOWN_ELSEWHERE = ("base.layer_types", "moe.moe_layers")
#: Values that mean "the model has no such part" for a field fixed by the architecture.
_ABSENT = (None, False, 0, [], {}, "")


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(
    header: Sequence[str], rows: Iterable[Sequence[str]], align: Sequence[str] = ()
) -> list[str]:
    """A GitHub pipe table; `align` holds "l" or "r" per column (left by default)."""
    marks = [("---:" if a == "r" else "---") for a in [*align, *"l" * len(header)][: len(header)]]
    out = ["| " + " | ".join(_escape(h) for h in header) + " |", "| " + " | ".join(marks) + " |"]
    out += ["| " + " | ".join(_escape(cell) for cell in row) + " |" for row in rows]
    return out


def _config_rows(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows = []
    for part in ("base", "moe"):
        for name, value in (report[part] or {}).items():
            key = f"{part}.{name}"
            how = how_found(report, key)
            if key in _SHOWN_ELSEWHERE or (how == "architecture" and value in _ABSENT):
                # Structure the family does not have (no sinks, no indexer...) is not news.
                continue
            rows.append((key, value_text(value), how))
    return rows


def _code_block(lines: list[str]) -> list[str]:
    return ["```text", *lines, "```"]


def render_inspect_markdown(report: dict[str, Any]) -> str:
    """One model: config with provenance, pictures, parameters, memory, deployment."""
    kind = "MoE" if report["is_moe"] else "dense"
    family = f", read as {report['family']}" if report["family"] != report["model_type"] else ""
    out = [f"## `{report['source']}` — {report['model_type']} ({kind}{family})", ""]
    for override in report.get("overrides", []):
        out.append(
            f"- **override** `{override['field']}` = `{value_text(override['value'])}` "
            f"(was `{value_text(override['was'])}`)"
        )
    if report.get("overrides"):
        out.append("")
    out += [
        "### Config",
        "",
        *table(("field", "value", "how found"), _config_rows(report), "lrl"),
        "",
    ]
    out += ["### Layers", "", *_code_block(layer_map_lines(report)), ""]
    params, derived = report["params"], report["derived"]
    rows = [
        (part, f"{value:,}", human_count(value), f"{value / params['total']:.1%}")
        for part in PARTS
        if (value := params.get(part, 0))
    ]
    rows.append(("**total**", f"{params['total']:,}", human_count(params["total"]), "100.0%"))
    rows.append(
        (
            "**active per token**",
            f"{params['active']:,}",
            human_count(params["active"]),
            f"{derived['active_share']:.1%}",
        )
    )
    if "mtp" in params:
        mtp = params["mtp"]
        rows.append(("MTP layers (checkpoint only)", f"{mtp:,}", human_count(mtp), ""))
        checkpoint_total = params["checkpoint_total"]
        rows.append(
            ("**checkpoint total**", f"{checkpoint_total:,}", human_count(checkpoint_total), "")
        )
    out += ["### Parameters", "", *table(("part", "params", "", "share"), rows, "lrrr"), ""]
    out += [*_code_block(parameter_bar_lines(report)), ""]
    memory = report["memory"]
    rows = [
        (f"weights at {d}", f"{size:,}", human_bytes(size))
        for d, size in memory["weights_bytes"].items()
    ]
    for group in memory["kv_cache"]["groups"]:
        rows += [(what, f"{size:,}", human_bytes(size)) for what, size in kv_group_rows(group)]
    kv = memory["kv_cache_bytes_per_token"]
    rows.append(
        (f"KV cache per token ({memory['kv_cache']['dtype']})", f"{kv:,}", human_bytes(kv))
    )
    flops = derived["flops_per_token"]
    rows.append(("FLOPs per token (≈ 2 × active)", f"{flops:,}", human_count(flops)))
    out += ["### Memory", "", *table(("what", "bytes", ""), rows, "lrr"), ""]
    if "deployment" in report:
        out += deployment_markdown(report["deployment"])
    out += [f"- not counted: {excluded}" for excluded in report["excluded"]]
    out += [f"- warning: {warning}" for warning in report["warnings"]]
    return "\n".join(out).rstrip("\n") + "\n"


def deployment_markdown(deployment: dict[str, Any]) -> list[str]:
    title = (
        f"### Deployment: {deployment['context']:,} tokens × batch {deployment['batch']}, "
        f"KV at {deployment['kv_dtype']}"
    )
    rows = [
        (f"KV cache, {g['layers']} {g['kind']} layers", f"{g['bytes']:,}", human_bytes(g["bytes"]))
        for g in deployment["kv_cache_groups"]
    ]
    kv = deployment["kv_cache_bytes"]
    rows.append(("**KV cache total**", f"{kv:,}", human_bytes(kv)))
    out = [title, "", *table(("what", "bytes", ""), rows, "lrr"), ""]
    header = ["weights", "total params", "+ KV cache", "active read/token"]
    fits = deployment["fits"]
    if fits is not None:
        header.append(f"on {deployment['gpu_memory'] or human_bytes(deployment['gpu_memory_bytes'])}")
    rows = []
    for dtype, weights in deployment["weights_bytes"].items():
        row = [
            dtype,
            human_bytes(weights),
            human_bytes(deployment["total_bytes"][dtype]),
            human_bytes(deployment["weight_bytes_read_per_token"][dtype]),
        ]
        if fits is not None:
            row.append(cell_text("headroom", fits[dtype]["headroom_bytes"]))
        rows.append(row)
    out += [*table(header, rows, "lrrrr"), ""]
    return out


def render_compare_markdown(comparison: dict[str, Any]) -> str:
    """Models side by side; cells of rows where the models differ are bold."""
    header = ["", *(model["name"] for model in comparison["models"])]
    rows = []
    for row in comparison["rows"]:
        cells = [cell_text(row["unit"], value) for value in row["values"]]
        if row["differs"]:
            cells = [f"**{cell}**" for cell in cells]
        rows.append([row["label"], *cells])
    out = ["## Comparison", "", *table(header, rows, "l" + "r" * len(comparison["models"]))]
    if any(model["overrides"] for model in comparison["models"]):
        out.append("")
    for model in comparison["models"]:
        for override in model["overrides"]:
            out.append(
                f"- {model['name']}: **override** `{override['field']}` = "
                f"`{value_text(override['value'])}` (was `{value_text(override['was'])}`)"
            )
    return "\n".join(out) + "\n"


def render_lint_markdown(report: LintReport) -> str:
    """Lint findings as one table, with the same summary line as the text formats."""
    from moecfg.lint.output import summary_line

    out = ["## moecfg lint", "", summary_line(report)]
    if report.findings or report.internal_errors:
        rows = [
            (
                f"`{finding.path}`",
                str(finding.line) if finding.line is not None else "",
                finding.code,
                str(finding.severity),
                finding.message + (f" (`{finding.pointer}`)" if finding.pointer else ""),
            )
            for finding in report.findings
        ]
        rows += [
            (f"`{broken.path}`", "", "", "error", f"internal error: {broken.internal_error}")
            for broken in report.internal_errors
        ]
        out += ["", *table(("file", "line", "code", "severity", "message"), rows, "lrll")]
    return "\n".join(out) + "\n"
