"""Output for `moecfg families`: one table of keys per supported family (rich or Markdown)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from moecfg.family_docs import default_text

if TYPE_CHECKING:
    from rich.console import Console


def render_families(report: dict[str, Any], console: Console) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    for family in report["families"]:
        title = Text(f"{family['model_type']} — {family['summary']}")
        table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", title_style="bold")
        # Keys are the point of the listing: wrap them, never cut them short.
        table.add_column("reported as", overflow="fold")
        table.add_column("key", overflow="fold")
        table.add_column("aliases", overflow="fold")
        table.add_column("kind", overflow="fold")
        table.add_column("default", justify="right", overflow="fold")
        for field in family["fields"]:
            table.add_row(
                Text(field["name"]),
                Text(field["key"]),
                Text(", ".join(field["aliases"]) or "—"),
                Text(field["kind"]),
                Text(default_text(field)),
            )
        table.caption = Text("architectures: " + (", ".join(family["architectures"]) or "—"))
        table.caption_justify = "left"
        console.print(table)
        for excluded in family["excluded"]:
            console.print(Text.assemble("  ", ("not counted:", "yellow"), f" {excluded}"))


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_families_markdown(report: dict[str, Any]) -> str:
    """The same listing as Markdown, one section and table per family (for docs)."""
    lines: list[str] = []
    for family in report["families"]:
        lines += [f"## {family['model_type']}", "", family["summary"], ""]
        lines.append("architectures: " + (", ".join(f"`{a}`" for a in family["architectures"]) or "—"))
        lines.append("")
        lines += ["| reported as | key | aliases | kind | default |", "|---|---|---|---|---|"]
        for field in family["fields"]:
            aliases = ", ".join(f"`{alias}`" for alias in field["aliases"]) or "—"
            lines.append(
                f"| {field['name']} | `{field['key']}` | {aliases} | {field['kind']} | "
                f"{_cell(default_text(field))} |"
            )
        for excluded in family["excluded"]:
            lines += ["", f"Not counted: {excluded}"]
        lines.append("")
    return "\n".join(lines)
