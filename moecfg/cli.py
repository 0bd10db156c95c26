"""The Typer layer: options in, one core call, render, exit code. No logic lives here."""

from __future__ import annotations

import sys
from enum import Enum
from typing import Annotated

import typer

from moecfg.errors import ExitCode, MoecfgError

app = typer.Typer(
    name="moecfg",
    help="Inspect and lint Mixture-of-Experts model configs: sparsity, exact parameter counts, memory.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Inspect and lint Mixture-of-Experts model configs."""


class OutputFormat(str, Enum):
    table = "table"
    json = "json"

    def __str__(self) -> str:
        return self.value


FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
]


def _warn(source: str, warnings: list[str]) -> None:
    for warning in warnings:
        print(f"moecfg: warning: {source}: {warning}", file=sys.stderr)


CheckpointOption = Annotated[
    bool | None,
    typer.Option(
        "--checkpoint/--no-checkpoint",
        help="Cross-check the config against the safetensors weights next to it "
        "[default: on when the folder holds weights].",
        show_default=False,
    ),
]


def _checkpoint_exit(source: str, report: dict) -> None:
    """Checkpoint findings go to stderr; weights that contradict the config exit 1."""
    section = report.get("checkpoint")
    if section is None:
        return
    for finding in section["findings"]:
        print(f"moecfg: checkpoint: {source}: {finding}", file=sys.stderr)
    if section["status"] == "mismatch":
        raise typer.Exit(int(ExitCode.INVALID))


@app.command()
def inspect(
    path: Annotated[
        str,
        typer.Argument(
            help="config.json, a folder holding one, a .gguf file, a Hub id org/name[@revision], "
            "or - for stdin."
        ),
    ],
    output_format: FormatOption = OutputFormat.table,
    checkpoint: CheckpointOption = None,
) -> None:
    """Show the composed config, sparsity, parameter counts and memory of one model."""
    from moecfg.core import inspect_source

    source = "<stdin>" if path == "-" else path
    try:
        report = inspect_source(path, checkpoint=checkpoint)
    except MoecfgError as error:
        if output_format is OutputFormat.json:
            from moecfg.render.json import render_json
            from moecfg.report import error_report

            sys.stdout.write(render_json(error_report(source, error)))
        print(error.line(source), file=sys.stderr)
        raise typer.Exit(int(error.exit_code)) from None
    if output_format is OutputFormat.json:
        from moecfg.render.json import render_json

        sys.stdout.write(render_json(report))
    else:
        from moecfg.render.table import make_console, render_inspect

        render_inspect(report, make_console())
    _warn(source, report["warnings"])
    _checkpoint_exit(source, report)


def main() -> None:
    """Console-script entry point: a crash is reported in one line, never as a traceback."""
    try:
        app()
    except (KeyboardInterrupt, BrokenPipeError):
        sys.exit(int(ExitCode.ERROR))
    except Exception as exc:  # last resort: the contract is one line and exit 2
        print(f"moecfg: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(int(ExitCode.ERROR))
