"""Whole-process start-up and throughput benchmark for moecfg, against reference commands.

Run it from the repository root with the venv that has moecfg installed:

    python benchmarks/bench_cli.py            # plain-text tables
    python benchmarks/bench_cli.py --markdown # the same tables, ready for the README

It builds its reference commands in a temporary folder, so every ratio compares processes
started by the same interpreter, side by side:

- F: a minimal Typer app (the installed typer), one command and one argument, printing a line;
- F+rich: the same app printing a one-row Rich table;
- J: `jq . FILE`, if jq is on PATH (the floor for reading a JSON file);
- T: transformers' `AutoConfig.from_pretrained(DIR)`, if transformers is importable.

Commands run round-robin (each round starts at a different command) and each figure is the
median over the rounds, so slow drift on a shared machine hits every command alike. Peak RSS
comes from the kernel's per-child accounting (`os.wait4`), and CPU time is reported next to
wall time because it is steadier on a busy machine. Bytecode is cached for every command, as
for an installed package. The figures are reported, never asserted: the tests check
behaviour (see tests/test_startup.py), this script checks speed.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE_CONFIGS = REPO / "sample_configs"
INSPECT_SAMPLE = SAMPLE_CONFIGS / "Qwen3-30B-A3B.json"
LINT_FILE_COUNT = 1000
GGUF_VOCAB_SIZE = 151_936  # Qwen3's vocabulary, the "150k-token" case

F_APP = """\
import typer

app = typer.Typer()


@app.command()
def main(path: str) -> None:
    print(f"read {path}")


app()
"""

F_RICH_APP = """\
import typer

app = typer.Typer()


@app.command()
def main(path: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("path", "status")
    table.add_row(path, "ok")
    Console().print(table)


app()
"""

T_ONE_LINER = (
    "import sys; from transformers import AutoConfig; AutoConfig.from_pretrained(sys.argv[1])"
)


@dataclass(frozen=True, slots=True)
class Command:
    """One process to time; slow ones run only every `every` rounds to bound the total."""

    name: str
    argv: tuple[str, ...]
    ok_codes: frozenset[int] = frozenset({0})
    every: int = 1


@dataclass(slots=True)
class Timings:
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    peak_rss_kib: list[int] = field(default_factory=list)

    @property
    def median_s(self) -> float:
        return statistics.median(self.seconds)

    @property
    def median_cpu_s(self) -> float:
        return statistics.median(self.cpu_seconds)

    @property
    def rss_mib(self) -> float:
        return statistics.median(self.peak_rss_kib) / 1024


@dataclass(frozen=True, slots=True)
class Target:
    """One line of the issue's target table, with how to compute it from the timings."""

    measure: str
    target: str
    needs: tuple[str, ...]
    compute: Callable[[dict[str, Timings]], tuple[str, bool]]


class CommandFailed(Exception):
    """A command exited with an unexpected code; the message is its last line of stderr."""


def run_once(command: Command, env: dict[str, str]) -> tuple[float, float, int]:
    """Wall time, CPU time and peak RSS (KiB) of one run; the exit code must be expected.

    A child's peak RSS starts at its parent's when it is spawned (Linux carries the high-water
    mark across exec), so the parent stays small: heavy fixtures are written by a subprocess.
    """
    start = time.perf_counter()
    process = subprocess.Popen(
        command.argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
    )
    # wait4 returns the rusage of this one child, so peak RSS is per run, not a running max.
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if process.stderr:
        process.stderr.close()
    if process.returncode not in command.ok_codes:
        last_line = stderr.strip().splitlines()[-1:] or ["no output"]
        raise CommandFailed(f"exited {process.returncode}: {last_line[0]}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def measure(
    commands: Sequence[Command], rounds: int, env: dict[str, str], notes: list[str]
) -> dict[str, Timings]:
    """Round-robin runs after one untimed warm-up of each command (caches, bytecode).

    A command that fails its warm-up is left out with a note, so one broken command does not
    hide the others' figures.
    """
    working = []
    for command in commands:
        try:
            run_once(command, env)
        except CommandFailed as failure:
            notes.append(f"{command.name} skipped: {failure}")
        else:
            working.append(command)
    commands = working
    results = {command.name: Timings() for command in commands}
    for round_index in range(rounds):
        offset = round_index % len(commands)
        for command in [*commands[offset:], *commands[:offset]]:
            if round_index % command.every:
                continue
            seconds, cpu_seconds, rss = run_once(command, env)
            results[command.name].seconds.append(seconds)
            results[command.name].cpu_seconds.append(cpu_seconds)
            results[command.name].peak_rss_kib.append(rss)
        print(f"\rround {round_index + 1}/{rounds}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return results


def moecfg_argv() -> tuple[str, ...]:
    """The installed console script, as users run it; `python -m moecfg` if there is none."""
    script = Path(sys.executable).with_name("moecfg")
    if script.exists():
        return (str(script),)
    return (sys.executable, "-m", "moecfg")


def write_lint_corpus(folder: Path) -> list[str]:
    """LINT_FILE_COUNT config.json files cycling through the real sample configs."""
    samples = sorted(SAMPLE_CONFIGS.glob("*.json"))
    paths = []
    for index in range(LINT_FILE_COUNT):
        target = folder / f"{index:04d}" / "config.json"
        target.parent.mkdir(parents=True)
        shutil.copyfile(samples[index % len(samples)], target)
        paths.append(str(target))
    return paths


def write_gguf(path: Path) -> None:
    """A Qwen3-MoE GGUF header with a full 151,936-token vocabulary, its merges and the
    tensor infos (no tensor data): moecfg counts nothing from a GGUF without tensor infos."""
    import gguf
    import numpy as np

    sys.path.insert(0, str(REPO))
    from tests.gguf_files import qwen3moe_tensors

    writer = gguf.GGUFWriter(str(path), arch="qwen3moe")
    writer.add_name("Qwen3-30B-A3B (benchmark metadata)")
    writer.add_context_length(40960)
    writer.add_embedding_length(2048)
    writer.add_block_count(48)
    writer.add_feed_forward_length(6144)
    writer.add_head_count(32)
    writer.add_head_count_kv(4)
    writer.add_key_length(128)
    writer.add_value_length(128)
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_rope_freq_base(1_000_000.0)
    writer.add_expert_count(128)
    writer.add_expert_used_count(8)
    writer.add_expert_feed_forward_length(768)
    writer.add_tokenizer_model("gpt2")
    writer.add_token_list([f"tok{index}" for index in range(GGUF_VOCAB_SIZE)])
    writer.add_token_types([1] * GGUF_VOCAB_SIZE)
    writer.add_token_merges([f"t {index}" for index in range(GGUF_VOCAB_SIZE - 256)])
    for name, shape in qwen3moe_tensors():
        writer.add_tensor_info(name, shape, np.dtype(np.float16), 2 * int(np.prod(shape)))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    writer.close()


def build_commands(workdir: Path) -> tuple[list[Command], list[str]]:
    """The moecfg commands and the reference commands; notes say what was skipped and why.

    A moecfg command that does not work yet (no `lint`, no GGUF reader) fails its warm-up
    in `measure` and is reported there.
    """
    notes: list[str] = []
    (workdir / "f_app.py").write_text(F_APP)
    (workdir / "f_rich_app.py").write_text(F_RICH_APP)
    model_dir = workdir / "model"
    model_dir.mkdir()
    config = model_dir / "config.json"
    shutil.copyfile(INSPECT_SAMPLE, config)
    moecfg = moecfg_argv()
    commands = [
        Command("F", (sys.executable, str(workdir / "f_app.py"), str(config))),
        Command("F+rich", (sys.executable, str(workdir / "f_rich_app.py"), str(config))),
        Command("inspect --format json", (*moecfg, "inspect", str(config), "--format", "json")),
        Command("inspect (table)", (*moecfg, "inspect", str(config))),
    ]
    jq = shutil.which("jq")
    if jq:
        commands.append(Command("J (jq .)", (jq, ".", str(config))))
    else:
        notes.append("J skipped: jq is not installed.")
    commands.append(
        Command(
            f"lint x{LINT_FILE_COUNT}",
            (*moecfg, "lint", *write_lint_corpus(workdir / "lint")),
            ok_codes=frozenset({0, 1}),
            every=3,
        )
    )
    if importlib.util.find_spec("gguf") is None:
        notes.append("GGUF row skipped: the gguf package (test extra) is not installed.")
    else:
        gguf_path = workdir / "qwen3moe-150k-vocab.gguf"
        subprocess.run([sys.executable, __file__, "--write-gguf", str(gguf_path)], check=True)
        commands.append(
            Command(
                "inspect GGUF --format json",
                (*moecfg, "inspect", str(gguf_path), "--format", "json"),
            )
        )
    if importlib.util.find_spec("transformers") is None:
        notes.append("T skipped: transformers (oracle extra) is not installed.")
    else:
        commands.append(
            Command("T (AutoConfig)", (sys.executable, "-c", T_ONE_LINER, str(model_dir)), every=4)
        )
    return commands, notes


def ratio_row(
    numerator: str, denominator: str, limit: float
) -> Callable[[dict[str, Timings]], tuple[str, bool]]:
    def compute(timings: dict[str, Timings]) -> tuple[str, bool]:
        ratio = timings[numerator].median_s / timings[denominator].median_s
        cpu_ratio = timings[numerator].median_cpu_s / timings[denominator].median_cpu_s
        return f"{ratio:.2f} x {denominator} (CPU {cpu_ratio:.2f})", ratio <= limit

    return compute


def lint_row(timings: dict[str, Timings]) -> tuple[str, bool]:
    lint, framework = timings[f"lint x{LINT_FILE_COUNT}"], timings["F"]
    extra = lint.median_s - framework.median_s
    cpu_extra = lint.median_cpu_s - framework.median_cpu_s
    return f"F {extra:+.2f} s (CPU {cpu_extra:+.2f})", extra <= 1.0


def rss_row(timings: dict[str, Timings]) -> tuple[str, bool]:
    worst = max(timings["inspect (table)"].rss_mib, timings["inspect --format json"].rss_mib)
    ratio = worst / timings["F+rich"].rss_mib
    return f"{ratio:.2f} x F+rich", ratio <= 1.2


def transformers_row(timings: dict[str, Timings]) -> tuple[str, bool]:
    slowest = max(timings["inspect (table)"].median_s, timings["inspect --format json"].median_s)
    speedup = timings["T (AutoConfig)"].median_s / slowest
    cpu_slowest = max(
        timings["inspect (table)"].median_cpu_s, timings["inspect --format json"].median_cpu_s
    )
    cpu_speedup = timings["T (AutoConfig)"].median_cpu_s / cpu_slowest
    return f"{speedup:.1f} x faster (CPU {cpu_speedup:.1f})", speedup >= 15


TARGETS = (
    Target(
        "inspect X --format json",
        "<= 1.10 x F",
        ("inspect --format json", "F"),
        ratio_row("inspect --format json", "F", 1.10),
    ),
    Target(
        "inspect X (Rich table)",
        "<= 1.10 x F+rich",
        ("inspect (table)", "F+rich"),
        ratio_row("inspect (table)", "F+rich", 1.10),
    ),
    Target(
        f"lint over {LINT_FILE_COUNT:,} configs, one process",
        "<= F + 1.0 s",
        (f"lint x{LINT_FILE_COUNT}", "F"),
        lint_row,
    ),
    Target(
        "inspect GGUF, 150k-token vocabulary",
        "<= 1.2 x F",
        ("inspect GGUF --format json", "F"),
        ratio_row("inspect GGUF --format json", "F", 1.2),
    ),
    Target(
        "peak RSS of inspect (worse of table/json)",
        "<= 1.2 x F+rich",
        ("inspect (table)", "inspect --format json", "F+rich"),
        rss_row,
    ),
    Target(
        "against T (slower of table/json)",
        ">= 15 x faster",
        ("T (AutoConfig)", "inspect (table)", "inspect --format json"),
        transformers_row,
    ),
)


def versions() -> str:
    parts = [f"Python {platform.python_version()}"]
    for package in ("typer", "click", "pydantic", "rich"):
        try:
            parts.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{package} (not installed)")
    parts.append(f"{os.cpu_count()} CPUs, {platform.system()} {platform.machine()}")
    return ", ".join(parts)


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * width for width in widths))
    lines += [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    return "\n".join(lines)


def report(timings: dict[str, Timings], notes: Sequence[str], rounds: int, markdown: bool) -> str:
    floor_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    command_rows = [
        [
            name,
            f"{t.median_s * 1000:.0f}",
            f"{min(t.seconds) * 1000:.0f}",
            f"{t.median_cpu_s * 1000:.0f}",
            f"{t.rss_mib:.1f}" if t.rss_mib > floor_mib else f"<= {floor_mib:.1f}",
            str(len(t.seconds)),
        ]
        for name, t in timings.items()
    ]
    target_rows = []
    for target in TARGETS:
        if not all(name in timings for name in target.needs):
            target_rows.append([target.measure, target.target, "not measured", "-"])
            continue
        measured, met = target.compute(timings)
        target_rows.append([target.measure, target.target, measured, "met" if met else "NOT met"])
    sections = [
        versions(),
        f"{rounds} interleaved rounds; medians of whole-process runs; status judged on wall time.",
        "",
        format_table(
            ["command", "median ms", "min ms", "median CPU ms", "peak RSS MiB", "runs"],
            command_rows,
            markdown,
        ),
        "",
        format_table(["measure", "target", "measured", "status"], target_rows, markdown),
    ]
    if notes:
        sections += ["", *(f"- {note}" for note in notes)]
    return "\n".join(sections)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21, help="interleaved rounds (default 21)")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument("--write-gguf", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_gguf:
        write_gguf(args.write_gguf)
        return
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "NO_COLOR": "1"}
    with tempfile.TemporaryDirectory(prefix="moecfg-bench-") as tmp:
        # Bytecode is cached, as for any installed package: the warm-up run writes it, here
        # rather than into the source tree. Without this, PYTHONDONTWRITEBYTECODE would make
        # every run recompile moecfg (an editable install) but not its installed dependencies.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        commands, notes = build_commands(Path(tmp))
        timings = measure(commands, args.rounds, env, notes)
    print(report(timings, notes, args.rounds, args.markdown))


if __name__ == "__main__":
    main()
