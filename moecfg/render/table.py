"""Rich tables for `moecfg inspect`: the one module that imports rich at the top."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from moecfg.render.deployment_table import render_deployment, render_overrides
from moecfg.render.memory_rows import kv_group_rows
from moecfg.render.pictures import layer_map, parameter_bar
from moecfg.render.units import how_found, human_bytes, human_count, value_text

_HOW_STYLE = {"present": "green", "default": "yellow", "derived": "cyan", "missing": "red"}


def _how(report: dict[str, Any], name: str) -> Text:
    how = how_found(report, name)
    return Text(how, style=_HOW_STYLE.get(how.split(":")[0].split(" ")[0], "magenta"))


def _fact_table(title: str) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", title_style="bold")
    table.add_column("field")
    table.add_column("value", justify="right", overflow="fold")
    table.add_column("how found", overflow="fold")
    return table


#: Attention shapes a family may give layer by layer, and how the table names them.
_BY_LAYER_ROWS = (
    ("head_dim_by_layer", "head_dim by layer"),
    ("kv_heads_by_layer", "KV heads by layer"),
    ("kv_projections_by_layer", "K/V projections by layer"),
)


def _layer_counts(values: list[int]) -> str:
    """A per-layer list as each value and how many layers have it: "256 on 24, 512 on 6 layers"."""
    counts: dict[int, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return ", ".join(f"{value} on {n}" for value, n in counts.items()) + " layers"


def _value(value: Any) -> Text:
    """A config value as a cell: `Text`, because strings from a config are data, never markup."""
    return Text(value_text(value))


def _layers(indices: list[int], total: int) -> str:
    if len(indices) == total:
        return f"all {total}"
    if not indices:
        return "none"
    runs: list[str] = []
    start = prev = indices[0]
    for i in [*indices[1:], None]:
        if i is not None and i == prev + 1:
            prev = i
            continue
        runs.append(str(start) if start == prev else f"{start}-{prev}")
        if i is not None:
            start = prev = i
    return f"{len(indices)} of {total}: " + ", ".join(runs)


def render_inspect(report: dict[str, Any], console: Console) -> None:
    base, moe, derived = report["base"], report["moe"], report["derived"]
    title = f"{report['source']} — {report['model_type']}"
    if report["family"] != report["model_type"]:
        title += f" (read as {report['family']})"
    console.print(Text.assemble((title, "bold"), f"  {'MoE' if report['is_moe'] else 'dense'}"))
    render_overrides(report, console)

    model = _fact_table("Model")
    for name in ("hidden_size", "num_hidden_layers", "vocab_size", "max_position_embeddings",
                 "tie_word_embeddings", "intermediate_size", "rope_theta", "rope_scaling",
                 "rms_norm_eps", "dtype"):
        model.add_row(name, _value(base[name]), _how(report, f"base.{name}"))
    console.print(model)

    attention = _fact_table("Attention")
    for name in ("num_attention_heads", "num_key_value_heads", "head_dim", "attention_bias",
                 "qk_norm", "sliding_window"):
        attention.add_row(name, _value(base[name]), _how(report, f"base.{name}"))
    attention.add_row("gqa_group_size", str(derived["gqa_group_size"]), "[cyan]derived[/]")
    for name, value in (base.get("mla") or {}).items():
        if value in (0, [], None) and f"base.mla.{name}" not in report["provenance"]:
            continue  # a sub-feature this model does not have (e.g. no sparse-attention indexer)
        attention.add_row(f"mla.{name}", _value(value), _how(report, f"base.mla.{name}"))
    if base.get("value_head_dim") is not None:
        attention.add_row(
            "value_head_dim", _value(base["value_head_dim"]), _how(report, "base.value_head_dim")
        )
    for name, label in _BY_LAYER_ROWS:
        if base.get(name):
            attention.add_row(label, _layer_counts(base[name]), _how(report, f"base.{name}"))
    for override in base.get("attention_by_kind") or ():
        differs = []
        if override.get("num_key_value_heads") is not None:
            differs.append(f"{override['num_key_value_heads']} KV heads")
        if override.get("attention_sinks") is not None:
            differs.append("sinks" if override["attention_sinks"] else "no sinks")
        if override.get("num_attention_heads") is not None:
            differs.append(f"{override['num_attention_heads']} heads")
        for name, value in (override.get("mla") or {}).items():
            # Sizes that differ; a sub-feature these layers lack (their indexer) is not listed.
            if value != (base.get("mla") or {}).get(name) and value not in (0, [], None):
                differs.append(f"mla.{name} {value_text(value)}")
        attention.add_row(
            Text(f"{override['kind']} layers"), Text(", ".join(differs)),
            _how(report, "base.attention_by_kind"),
        )
    if base.get("attention_experts"):
        attention.add_row(
            "attention_experts (top-k of E)",
            f"{base['attention_experts_per_tok']} of {base['attention_experts']}",
            _how(report, "base.attention_experts"),
        )
    console.print(attention)

    if moe is not None:
        block = _fact_table("MoE")
        for name in ("num_experts", "num_experts_per_tok", "expert_intermediate_size",
                     "num_shared_experts", "shared_expert_intermediate_size", "norm_topk_prob",
                     "scoring_func", "routed_scaling_factor", "n_group", "topk_group",
                     "router_bias", "topk_method", "score_correction_bias"):
            block.add_row(name, _value(moe[name]), _how(report, f"moe.{name}"))
        block.add_row(
            "moe_layers", _layers(moe["moe_layers"], base["num_hidden_layers"]), "[cyan]derived[/]"
        )
        if moe.get("top_k_by_layer"):
            block.add_row(
                "top_k_by_layer", ", ".join(map(str, moe["top_k_by_layer"])),
                _how(report, "moe.num_experts_per_tok"),
            )
        console.print(block)

        sparsity = _fact_table("Sparsity")
        sparsity.add_row("top-k / experts", f"{derived['sparsity']:.4g}", "[cyan]derived[/]")
        sparsity.add_row("truly sparse (0 < k < E)", _value(derived["is_truly_sparse"]), "[cyan]derived[/]")
        sparsity.add_row("dense layers", str(derived["dense_layer_count"]), "[cyan]derived[/]")
        console.print(sparsity)

    console.print(layer_map(report))

    params = report["params"]
    table = Table(title="Parameters", box=box.SIMPLE_HEAD, title_justify="left", title_style="bold")
    table.add_column("part")
    table.add_column("params", justify="right")
    table.add_column("", justify="right")
    table.add_column("share", justify="right")
    for part, value in params.items():
        if part in ("total", "active", "mtp", "checkpoint_total") or not value:
            continue
        table.add_row(part, f"{value:,}", human_count(value), f"{value / params['total']:.1%}")
    table.add_section()
    table.add_row("[bold]total[/]", f"{params['total']:,}", human_count(params["total"]), "100.0%")
    table.add_row(
        "[bold]active per token[/]", f"{params['active']:,}", human_count(params["active"]),
        f"{derived['active_share']:.1%}",
    )
    if "mtp" in params:
        table.add_row("MTP layers (checkpoint only)", f"{params['mtp']:,}", human_count(params["mtp"]), "")
        table.add_row(
            "[bold]checkpoint total[/]", f"{params['checkpoint_total']:,}",
            human_count(params["checkpoint_total"]), "",
        )
    console.print(table)
    console.print(parameter_bar(report))

    memory = report["memory"]
    mem = Table(title="Memory", box=box.SIMPLE_HEAD, title_justify="left", title_style="bold")
    mem.add_column("what")
    mem.add_column("bytes", justify="right")
    mem.add_column("", justify="right")
    for dtype, size in memory["weights_bytes"].items():
        mem.add_row(f"weights at {dtype}", f"{size:,}", human_bytes(size))
    kv = memory["kv_cache_bytes_per_token"]
    for group in memory["kv_cache"]["groups"]:
        for what, size in kv_group_rows(group):
            mem.add_row(Text(what), f"{size:,}", human_bytes(size))
    kv_label = Text(f"KV cache per token ({memory['kv_cache']['dtype']})")
    mem.add_row(kv_label, f"{kv:,}", human_bytes(kv))
    mem.add_row("FLOPs per token (≈ 2 × active)", f"{derived['flops_per_token']:,}", human_count(derived["flops_per_token"]))
    console.print(mem)
    if "deployment" in report:
        render_deployment(report["deployment"], console)

    if "checkpoint" in report:
        from moecfg.render.checkpoint_table import render_checkpoint

        render_checkpoint(report["checkpoint"], console)

    # Warnings are diagnostics: the CLI prints them to stderr. What is not counted qualifies
    # the numbers above, so it stays in the report.
    for excluded in report["excluded"]:
        console.print(Text.assemble(("not counted:", "yellow"), f" {excluded}"))


def make_console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False)
