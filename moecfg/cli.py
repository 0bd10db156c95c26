"""The Typer layer: options in, one core call, render, exit code. No logic lives here."""

# No `from __future__ import annotations` here: Typer reads every command's annotations on
# every run, and evaluating them from strings costs more than the rest of building the app.
import sys
from enum import Enum
from typing import Annotated, Any

import typer

from moecfg.dtypes import KV_DTYPE_BYTES, WEIGHT_DTYPES
from moecfg.errors import ExitCode, MoecfgError, one_line

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
    markdown = "markdown"

    def __str__(self) -> str:
        return self.value


FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
]


SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", metavar="KEY=VALUE",
                 help="What-if: set a field of the composed config before measuring (repeatable)."),
]
ContextOption = Annotated[
    int | None, typer.Option("--context", min=1, help="Deployment: tokens per sequence \\[default: max_position_embeddings].")
]
BatchOption = Annotated[int | None, typer.Option("--batch", min=1, help="Deployment: sequences at once \\[default: 1].")]
KvDtype = Enum("KvDtype", {name: name for name in KV_DTYPE_BYTES}, type=str)  # type: ignore[misc]
WeightsDtype = Enum("WeightsDtype", {name: name for name in WEIGHT_DTYPES}, type=str)  # type: ignore[misc]
KvDtypeOption = Annotated[KvDtype | None, typer.Option("--kv-dtype", help="Deployment: KV cache dtype \\[default: bf16].")]
WeightsDtypeOption = Annotated[
    WeightsDtype | None,
    typer.Option("--weights-dtype", help="Deployment: weights dtype; checkpoint = its quantization_config \\[default: all]."),
]
GpuMemoryOption = Annotated[
    str | None, typer.Option("--gpu-memory", metavar="SIZE", help="Deployment: GPU memory, e.g. 80GB or 24GiB.")
]


def _fail(source: str, error: MoecfgError, output_format: OutputFormat) -> typer.Exit:
    """Report an error (also as a JSON document in JSON mode) and give the exit to raise."""
    if output_format is OutputFormat.json:
        from moecfg.render.json import render_json
        from moecfg.report import error_report

        sys.stdout.write(render_json(error_report(source, error)))
    print(error.line(source), file=sys.stderr)
    return typer.Exit(int(error.exit_code))


def _deployment_spec(*options: Any) -> Any:
    """The deployment spec, loading moecfg.deploy only when a deployment option was given."""
    if all(option is None for option in options):
        return None
    from moecfg.deploy import build_deployment_spec

    return build_deployment_spec(*options)


def _emit(output_format: OutputFormat, document: Any, markdown: str, table: str) -> None:
    """Print a document as JSON, or with the named `moecfg.render` functions ("module:function").

    Renderers are imported only for the format asked for, so JSON never loads rich.
    """
    if output_format is OutputFormat.json:
        from moecfg.render.json import render_json

        sys.stdout.write(render_json(document))
        return
    import importlib

    module, _, function = (markdown if output_format is OutputFormat.markdown else table).partition(":")
    render = getattr(importlib.import_module(f"moecfg.render.{module}"), function)
    if output_format is OutputFormat.markdown:
        sys.stdout.write(render(document))
    else:
        from moecfg.render.table import make_console

        render(document, make_console())


def _warn(source: str, warnings: list[str]) -> None:
    for warning in warnings:
        print(f"moecfg: warning: {source}: {warning}", file=sys.stderr)


CheckpointOption = Annotated[
    bool | None,
    typer.Option(
        "--checkpoint/--no-checkpoint",
        help="Cross-check the config against the safetensors weights next to it "
        "\\[default: on when the folder holds weights].",
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
            help="config.json, a folder holding one, a .gguf file, a Hub id org/name\\[@revision], "
            "or - for stdin."
        ),
    ],
    output_format: FormatOption = OutputFormat.table,
    assignments: SetOption = None,
    context: ContextOption = None,
    batch: BatchOption = None,
    kv_dtype: KvDtypeOption = None,
    weights_dtype: WeightsDtypeOption = None,
    gpu_memory: GpuMemoryOption = None,
    checkpoint: CheckpointOption = None,
    as_family: Annotated[
        str | None,
        typer.Option(
            "--as",
            metavar="FAMILY",
            help="Read the config with this family's adapter (a model_type moecfg does not know "
            "yet); every output warns that it did.",
        ),
    ] = None,
) -> None:
    """Show the composed config, sparsity, parameter counts and memory of one model."""
    from moecfg.core import inspect_source

    source = "<stdin>" if path == "-" else path
    try:
        deployment = _deployment_spec(context, batch, kv_dtype, weights_dtype, gpu_memory)
        report = inspect_source(
            path,
            overrides=assignments or (),
            deployment=deployment,
            checkpoint=checkpoint,
            as_family=as_family,
        )
    except MoecfgError as error:
        raise _fail(source, error, output_format) from None
    _emit(output_format, report, "markdown:render_inspect_markdown", "table:render_inspect")
    _warn(source, report["warnings"])
    _checkpoint_exit(source, report)


@app.command()
def compare(
    paths: Annotated[list[str], typer.Argument(help="Two or more configs, anything inspect accepts.")],
    output_format: FormatOption = OutputFormat.table,
    assignments: SetOption = None,
    context: ContextOption = None,
    batch: BatchOption = None,
    kv_dtype: KvDtypeOption = None,
    weights_dtype: WeightsDtypeOption = None,
    gpu_memory: GpuMemoryOption = None,
) -> None:
    """Compare models side by side: experts, top-k, sparsity, total and active parameters, memory."""
    from moecfg.compare import build_comparison
    from moecfg.core import inspect_source

    if len(paths) < 2:
        raise typer.BadParameter("give at least two configs to compare", param_hint="PATHS")
    reports = []
    for path in paths:
        source = "<stdin>" if path == "-" else path
        try:
            deployment = _deployment_spec(context, batch, kv_dtype, weights_dtype, gpu_memory)
            reports.append(
                inspect_source(
                    path, overrides=assignments or (), deployment=deployment, checkpoint=False
                )
            )
        except MoecfgError as error:
            raise _fail(source, error, output_format) from None
    comparison = build_comparison(reports)
    _emit(output_format, comparison, "markdown:render_compare_markdown", "compare_table:render_compare")
    for report in reports:
        _warn(report["source"], report["warnings"])


SelectorOption = Annotated[list[str] | None, typer.Option(help="Rule codes or prefixes, comma-separated.")]


@app.command()
def lint(
    paths: Annotated[list[str] | None, typer.Argument(help="config.json files, folders or globs.")] = None,
    select: SelectorOption = None,
    extend_select: SelectorOption = None,
    ignore: SelectorOption = None,
    output_format: Annotated[
        str, typer.Option(help="full, concise, json, github, sarif or markdown.", case_sensitive=False)
    ] = "full",
    exit_zero: Annotated[bool, typer.Option(help="Exit 0 even with findings (2 stays 2).")] = False,
    isolated: Annotated[bool, typer.Option(help="Ignore \\[tool.moecfg] in pyproject.toml.")] = False,
) -> None:
    """Check configs against coded rules; exit 1 on error findings, 2 on usage errors."""
    from moecfg.lint.command import run_lint
    from moecfg.lint.output import OutputFormat as LintOutputFormat

    try:
        chosen = LintOutputFormat(output_format.lower())
    except ValueError:
        raise typer.BadParameter(
            f"'{output_format}' is not one of {', '.join(f.value for f in LintOutputFormat)}",
            param_hint="'--output-format'",
        ) from None
    code = run_lint(
        paths or [],
        select=select,
        extend_select=extend_select,
        ignore=ignore,
        output_format=chosen,
        exit_zero=exit_zero,
        isolated=isolated,
    )
    raise typer.Exit(int(code))


@app.command()
def rules(code: Annotated[str | None, typer.Argument(help="A rule code, e.g. MOE001.")] = None) -> None:
    """List the lint rules, or print one rule's documentation."""
    from moecfg.lint.command import run_rules

    raise typer.Exit(int(run_rules(code)))


@app.command()
def families(output_format: FormatOption = OutputFormat.table) -> None:
    """List the supported families and the config keys each reads, with aliases and defaults."""
    from moecfg.family_docs import families_report

    _emit(output_format, families_report(), "families:render_families_markdown", "families:render_families")


def _cli_error_types() -> tuple[type[Exception], ...]:
    """Usage errors as this Typer raises them: its own (0.29+ vendors click) or click's."""
    types: list[type[Exception]] = []
    typer_exception = getattr(typer, "TyperException", None)
    if typer_exception is not None:
        types.append(typer_exception)
    try:
        import click
    except ImportError:
        pass
    else:
        types.append(click.ClickException)
    return tuple(types)


def main() -> None:
    """Console-script entry point: every failure is one line on stderr, never a traceback.

    Typer runs in non-standalone mode so that its usage errors (a missing argument, a bad
    option value) come back as exceptions and are printed as `moecfg: error: ...` like every
    other failure, instead of Rich's multi-line box.
    """
    try:
        exit_code = app(standalone_mode=False, prog_name="moecfg")
    except _cli_error_types() as error:
        context = getattr(error, "ctx", None)
        if type(error).__name__ == "NoArgsIsHelpError" and context is not None:
            help_text = context.get_help()  # Rich help prints itself and returns ""
            if help_text:
                print(help_text)
        else:
            hint = f" (see '{context.command_path} --help')" if context is not None else ""
            message = one_line(error.format_message())  # type: ignore[attr-defined]
            print(f"moecfg: error: {message}{hint}", file=sys.stderr)
        sys.exit(int(ExitCode.ERROR))
    except (KeyboardInterrupt, BrokenPipeError, typer.Abort):
        sys.exit(int(ExitCode.ERROR))
    except Exception as exc:  # last resort: the contract is one line and exit 2
        print(f"moecfg: internal error: {one_line(f'{type(exc).__name__}: {exc}')}", file=sys.stderr)
        sys.exit(int(ExitCode.ERROR))
    sys.exit(exit_code if isinstance(exit_code, int) else int(ExitCode.OK))
