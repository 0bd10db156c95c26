"""Start-up guard: the machine-readable paths load Typer, the stdlib and moecfg, nothing heavy.

Timings are too noisy to assert on a shared machine (benchmarks/bench_cli.py reports them);
the set of modules a run imports is exact, so this is the regression test for start-up cost.
pydantic is not in the list: Typer 0.29 coerces every parameter through pydantic, including
its own `--help` flag, so every Typer app that runs a command loads it (README, Performance).
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

from moecfg import families

REPO = Path(__file__).resolve().parents[1]
SAMPLE = "sample_configs/Qwen3-30B-A3B.json"

HEAVY_MODULES = frozenset(
    {"rich", "numpy", "huggingface_hub", "gguf", "torch", "transformers", "safetensors"}
)

# Runs one command through the console-script entry point and records what it imported.
PROBE = """\
import json, sys
from moecfg.cli import main
modules_file, sys.argv = sys.argv[1], ["moecfg", *sys.argv[2:]]
try:
    main()
    code = 0
except SystemExit as exit:
    code = exit.code or 0
with open(modules_file, "w") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""


def run_probe(tmp_path: Path, *argv: str) -> tuple[int, set[str], str]:
    modules_file = tmp_path / "modules.json"
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, str(modules_file), *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert modules_file.exists(), completed.stderr
    probe = json.loads(modules_file.read_text())
    return probe["code"], set(probe["modules"]), completed.stdout


def heavy_loaded(modules: set[str]) -> list[str]:
    return sorted(name for name in modules if name.partition(".")[0] in HEAVY_MODULES)


def test_inspect_json_loads_nothing_heavy(tmp_path: Path) -> None:
    code, modules, stdout = run_probe(tmp_path, "inspect", SAMPLE, "--format", "json")
    assert code == 0
    assert json.loads(stdout)["model_type"] == "qwen3_moe"
    assert heavy_loaded(modules) == []


def test_inspect_json_imports_only_its_own_family(tmp_path: Path) -> None:
    _, modules, _ = run_probe(tmp_path, "inspect", SAMPLE, "--format", "json")
    family_modules = {f"moecfg.families.{name}" for name in families.FAMILY_MODULES.values()}
    assert sorted(family_modules & modules) == ["moecfg.families.qwen3_moe"]
    # Paths that only options or other inputs need stay unloaded too.
    for optional in ("moecfg.deploy", "moecfg.whatif", "moecfg.loading.gguf",
                     "moecfg.loading.checkpoint", "moecfg.loading.hub"):
        assert optional not in modules, optional


def test_family_modules_names_every_declared_family_and_only_those() -> None:
    declared: dict[str, set[str]] = {}  # model_type → modules holding it (defined or imported)
    objects: dict[str, set[int]] = {}
    for info in pkgutil.iter_modules(families.__path__):
        module = importlib.import_module(f"moecfg.families.{info.name}")
        for family in families.declared_families(module):
            declared.setdefault(family.model_type, set()).add(info.name)
            objects.setdefault(family.model_type, set()).add(id(family))
    assert sorted(declared) == sorted(families.FAMILY_MODULES)
    twice = sorted(model_type for model_type, ids in objects.items() if len(ids) > 1)
    assert twice == [], "each model_type must have one Family"
    for model_type, module_name in families.FAMILY_MODULES.items():
        assert module_name in declared[model_type], model_type
        family = families.family_for(model_type)
        assert family is not None
        assert family.model_type == model_type
    assert sorted(families.FAMILIES) == sorted(families.FAMILY_MODULES)


def test_inspect_table_loads_rich_and_nothing_else_heavy(tmp_path: Path) -> None:
    code, modules, _ = run_probe(tmp_path, "inspect", SAMPLE)
    assert code == 0
    assert "rich" in modules
    assert heavy_loaded(modules - {name for name in modules if name.startswith("rich")}) == []


def test_lint_json_loads_nothing_heavy(tmp_path: Path) -> None:
    code, modules, stdout = run_probe(tmp_path, "lint", "sample_configs", "--output-format", "json")
    assert code == 0
    json.loads(stdout)
    assert heavy_loaded(modules) == []


def test_heavy_modules_are_never_imported_at_module_level():
    """ruff's TID253 (banned-module-level-imports in pyproject.toml), enforced by the suite:
    rich, numpy, huggingface_hub, gguf, torch, transformers and safetensors load only inside
    the functions that need them (render/table.py owns rich)."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [ruff, "check", "--no-cache", "--select", "TID253", "moecfg"],
        cwd=root, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
