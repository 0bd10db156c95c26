"""Rich output for the what-if and deployment parts of `moecfg inspect`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from moecfg.compare import cell_text
from moecfg.render.units import human_bytes, value_text

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text


def override_text(override: dict[str, Any]) -> str:
    """`field = value (was old)`; printed as plain `Text`, since it comes from the command line
    and the config and is never Rich markup."""
    return (
        f"{override['field']} = {value_text(override['value'])} "
        f"(was {value_text(override['was'])})"
    )


def render_overrides(report: dict[str, Any], console: Console) -> None:
    """One line per `--set`, so a what-if is never mistaken for the file's own values."""
    from rich.text import Text

    for override in report.get("overrides", []):
        console.print(Text.assemble(("override:", "magenta"), " ", override_text(override)))


def render_deployment(deployment: dict[str, Any], console: Console) -> None:
    """KV cache by layer kind, then weights, total and GPU fit per weight dtype."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    title = (
        f"Deployment: {deployment['context']:,} tokens × batch {deployment['batch']}, "
        f"KV at {deployment['kv_dtype']}"
    )
    kv = Table(title=Text(title), box=box.SIMPLE_HEAD, title_justify="left", title_style="bold")
    kv.add_column("KV cache")
    kv.add_column("tokens held", justify="right")
    kv.add_column("bytes", justify="right")
    for group in deployment["kv_cache_groups"]:
        held = f"{group['tokens_held']:,}" if group["tokens_held"] else "fixed state"
        label = Text(f"{group['layers']} {group['kind']} layers")
        kv.add_row(label, held, human_bytes(group["bytes"]))
    kv.add_section()
    kv.add_row("[bold]total[/]", "", human_bytes(deployment["kv_cache_bytes"]))
    console.print(kv)

    fits = deployment["fits"]
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("weights", no_wrap=True)
    table.add_column("total params", justify="right", no_wrap=True)
    table.add_column("+ KV cache", justify="right", no_wrap=True)
    table.add_column("active read/token", justify="right", no_wrap=True)
    if fits is not None:
        table.add_column(
            f"on {deployment['gpu_memory'] or human_bytes(deployment['gpu_memory_bytes'])}",
            justify="right",
            no_wrap=True,
        )
    for dtype, weights in deployment["weights_bytes"].items():
        row: list[str | Text] = [
            Text(dtype),
            human_bytes(weights),
            human_bytes(deployment["total_bytes"][dtype]),
            human_bytes(deployment["weight_bytes_read_per_token"][dtype]),
        ]
        if fits is not None:
            headroom = fits[dtype]["headroom_bytes"]
            style = "green" if fits[dtype]["fits"] else "red"
            row.append(Text(cell_text("headroom", headroom), style=style))
        table.add_row(*row)
    console.print(table)
