"""Rich output for the checkpoint cross-check section of `moecfg inspect`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from moecfg.render.units import human_count

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

_STATUS_STYLE = {"match": "green", "explained": "cyan", "not_comparable": "yellow", "mismatch": "red"}


def _status(status: str) -> Text:
    from rich.text import Text

    return Text(status.replace("_", " "), style=_STATUS_STYLE.get(status, "magenta"))


def render_checkpoint(section: dict[str, Any], console: Console) -> None:
    """Weights against config: parameter counts, what explains a gap, experts per layer."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    params, experts = section["params"], section["experts"]
    table = Table(
        title=Text.assemble("Checkpoint — ", _status(section["status"])),
        box=box.SIMPLE_HEAD,
        title_justify="left",
        title_style="bold",
    )
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_column("", justify="right")
    table.add_row("safetensors files / tensors", f"{section['files']} / {section['tensors']}", "")
    if section["quantization"] is not None:
        table.add_row("quantization", Text(section["quantization"]), "")
    table.add_row("elements in the weights", f"{params['checkpoint']:,}", human_count(params["checkpoint"]))
    table.add_row("parameters from the config", f"{params['config']:,}", human_count(params["config"]))
    table.add_row("parameter count", _status(params["status"]), f"{params['difference']:+,}")
    for item in params["explained_by"]:
        table.add_row(
            Text(f"  explained by {item['what']}"),
            f"{item['params']:+,}",
            f"{item['tensors']} tensors",
        )
    if experts["config"] is not None or experts["per_layer"]:
        counts = sorted(set(experts["per_layer"].values()))
        found = ", ".join(map(str, counts)) if counts else "none"
        table.add_row("experts per layer (weights / config)", f"{found} / {experts['config']}",
                      _status(experts["status"]))
    console.print(table)
    for finding in section["findings"]:
        console.print(Text.assemble(("checkpoint:", "red"), f" {finding}"))
