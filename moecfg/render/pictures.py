"""Pictures of a model: the layer map and the parameter-breakdown bar.

Every cell carries a letter as well as a colour, so the pictures read the same with colour off
(NO_COLOR, or output that is not a terminal) and in Markdown code blocks. The layout is plain
text (`*_lines`); `layer_map` and `parameter_bar` only add Rich styles, and import Rich lazily.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from moecfg.metrics import PARTS

if TYPE_CHECKING:
    from rich.text import Text

#: Layers per line of the layer map; 50 cells plus the row label fit a 100-column terminal.
LAYERS_PER_LINE = 50
#: Cells in the parameter bar.
BAR_WIDTH = 60
_LABEL_WIDTH = 10


@dataclass(frozen=True, slots=True)
class Cell:
    letter: str
    style: str
    meaning: str


#: Attention kinds (the per-layer `layer_types`); unknown kinds get their initial and no colour.
ATTENTION_CELLS = {
    "full_attention": Cell("F", "bold blue", "full attention"),
    "sliding_attention": Cell("S", "bold cyan", "sliding-window attention"),
    "chunked_attention": Cell("C", "bold cyan", "chunked attention"),
    "linear_attention": Cell("L", "bold magenta", "linear attention"),
    "mamba": Cell("M", "bold green", "Mamba"),
}
#: Full attention through a compressed latent KV (DeepSeek's MLA, `base.mla`).
LATENT_ATTENTION_CELL = Cell("A", "bold blue", "latent attention (MLA)")
MLP_CELLS = {
    "dense": Cell("D", "bold yellow", "dense MLP"),
    "moe": Cell("E", "bold red", "MoE (routed experts)"),
}
#: Parameter parts (metrics.PARTS) as bar segments; other parts get their initial.
PART_CELLS = {
    "routed_experts": Cell("x", "red", "routed experts"),
    "shared_experts": Cell("s", "bright_red", "shared experts"),
    "router": Cell("r", "magenta", "router"),
    "attention": Cell("a", "blue", "attention"),
    "dense_mlp": Cell("d", "yellow", "dense MLP"),
    "embedding": Cell("e", "green", "embedding"),
    "lm_head": Cell("h", "bright_green", "lm_head"),
    "norms": Cell("n", "white", "norms"),
    "other": Cell("o", "white", "other"),
}


def _cell(table: dict[str, Cell], kind: str) -> Cell:
    return table.get(kind) or Cell(kind[:1].upper() or "?", "bold", kind.replace("_", " "))


def layer_rows(report: dict[str, Any]) -> list[tuple[str, list[Cell]]]:
    """Two rows of cells, one per layer: the attention kind, then dense MLP or MoE."""
    base, moe = report["base"], report["moe"]
    layers = base["num_hidden_layers"]
    kinds = base.get("layer_types") or ["full_attention"] * layers
    moe_layers = set(moe["moe_layers"]) if moe else set()
    cells = (
        {**ATTENTION_CELLS, "full_attention": LATENT_ATTENTION_CELL}
        if base.get("mla")
        else ATTENTION_CELLS
    )
    return [
        ("attention", [_cell(cells, kind) for kind in kinds]),
        ("mlp", [MLP_CELLS["moe" if i in moe_layers else "dense"] for i in range(layers)]),
    ]


def _ruler(start: int, count: int) -> str:
    marks = [" "] * count
    for i in range(count):
        if (start + i) % 10 == 0:
            label = str(start + i)
            if i + len(label) <= count:
                marks[i : i + len(label)] = label
    return "".join(marks).rstrip()


def _legend(cells: Iterable[Cell]) -> list[Cell]:
    return list({cell.letter + cell.meaning: cell for cell in cells}.values())


def _styled_lines(report: dict[str, Any]) -> list[list[tuple[str, str]]]:
    """The layer map as lines of (text, style) spans; style "" is unstyled."""
    rows = layer_rows(report)
    layers = len(rows[0][1])
    lines: list[list[tuple[str, str]]] = [[(f"Layer map ({layers} layers)", "bold")]]
    for start in range(0, layers, LAYERS_PER_LINE):
        count = min(LAYERS_PER_LINE, layers - start)
        lines.append([(" " * _LABEL_WIDTH + _ruler(start, count), "dim")])
        for label, cells in rows:
            spans = [(label.ljust(_LABEL_WIDTH), "")]
            spans += [(cell.letter, cell.style) for cell in cells[start : start + count]]
            lines.append(spans)
    legend = _legend(cell for _, cells in rows for cell in cells)
    spans = [("legend".ljust(_LABEL_WIDTH), "")]
    for i, cell in enumerate(legend):
        spans += [("  " if i else "", ""), (cell.letter, cell.style), (f" {cell.meaning}", "")]
    lines += [spans, []]
    return lines


def _bar_segments(params: dict[str, int]) -> list[tuple[str, int, int]]:
    """(part, params, cells) for each non-zero part, largest first; cells sum to BAR_WIDTH."""
    parts = [(p, params[p]) for p in PARTS if params.get(p, 0) > 0]
    parts.sort(key=lambda item: -item[1])
    total = sum(v for _, v in parts)
    exact = [v * BAR_WIDTH / total for _, v in parts]
    cells = [int(x) for x in exact]
    by_remainder = sorted(range(len(parts)), key=lambda i: cells[i] - exact[i])
    for i in by_remainder[: BAR_WIDTH - sum(cells)]:
        cells[i] += 1
    return [(p, v, c) for (p, v), c in zip(parts, cells, strict=True)]


def _bar_styled_lines(report: dict[str, Any]) -> list[list[tuple[str, str]]]:
    segments = _bar_segments(report["params"])
    total = sum(v for _, v, _ in segments)
    bar = [("|", "")]
    bar += [
        (_cell(PART_CELLS, p).letter * c, _cell(PART_CELLS, p).style) for p, _, c in segments if c
    ]
    bar.append(("|", ""))
    lines = [[("Parameter breakdown", "bold")], bar]
    for part, value, _ in segments:
        cell = _cell(PART_CELLS, part)
        lines.append(
            [
                ("  ", ""),
                (cell.letter, cell.style),
                (f" {cell.meaning:<16}{value / total:>7.1%}", ""),
            ]
        )
    lines.append([])
    return lines


def _plain(lines: list[list[tuple[str, str]]]) -> list[str]:
    return ["".join(text for text, _ in spans).rstrip() for spans in lines if spans]


def layer_map_lines(report: dict[str, Any]) -> list[str]:
    """The layer map as plain text (Markdown code blocks, tests)."""
    return _plain(_styled_lines(report))


def parameter_bar_lines(report: dict[str, Any]) -> list[str]:
    """The parameter bar and its legend as plain text."""
    return _plain(_bar_styled_lines(report))


def _rich(lines: list[list[tuple[str, str]]]) -> Text:
    from rich.text import Text

    text = Text(no_wrap=True, overflow="ignore")
    for n, spans in enumerate(lines):
        if n:
            text.append("\n")
        for chunk, style in spans:
            text.append(chunk, style=style or None)
    return text


def layer_map(report: dict[str, Any]) -> Text:
    """The layer map as Rich text: each layer a coloured letter, with a legend."""
    return _rich(_styled_lines(report))


def parameter_bar(report: dict[str, Any]) -> Text:
    """The parameter breakdown as a Rich bar of lettered, coloured segments."""
    return _rich(_bar_styled_lines(report))
