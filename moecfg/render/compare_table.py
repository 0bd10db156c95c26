"""Rich table for `moecfg compare`: one column per model, differing rows highlighted."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from moecfg.compare import cell_text
from moecfg.render.deployment_table import override_text

if TYPE_CHECKING:
    from rich.console import Console

#: Marks a row where the models differ, so the highlight survives with colour off.
DIFFERS_MARK = "≠"


def render_compare(comparison: dict[str, Any], console: Console) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, title="Comparison", title_justify="left", title_style="bold")
    table.add_column("", no_wrap=True)
    for model in comparison["models"]:
        table.add_column(Text(model["name"]), justify="right", no_wrap=True)
    for row in comparison["rows"]:
        style = "bold yellow" if row["differs"] else None
        cells = [Text(cell_text(row["unit"], value)) for value in row["values"]]
        label = Text(f"{DIFFERS_MARK if row['differs'] else ' '} {row['label']}")
        table.add_row(label, *cells, style=style)
    console.print(table)
    console.print(f"{DIFFERS_MARK} the models differ in this row")
    for model in comparison["models"]:
        for override in model["overrides"]:
            line = f" {model['name']}: {override_text(override)}"
            console.print(Text.assemble(("override", "magenta"), line))
