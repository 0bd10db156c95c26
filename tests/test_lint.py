"""moecfg lint: the rules one by one, the invalid corpus, selection, output formats, exit codes."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest

from moecfg.families import FAMILIES
from moecfg.lint.context import build_context
from moecfg.lint.docs import rules_markdown
from moecfg.lint.findings import FileReport, Finding, LintReport, Severity
from moecfg.lint.output import escape_data, escape_property, render_github, render_sarif
from moecfg.lint.rules import ALL_RULES, RULES_BY_CODE
from moecfg.lint.runner import all_findings, lint_paths
from moecfg.lint.selection import Layer, SelectionError, resolve
from tests import test_checkpoint
from tests.conftest import ROOT, SAMPLES, load_sample, run_cli
from tests.test_checkpoint import drop_tensor, edit_config

CASES = ROOT / "tests" / "cases" / "invalid"
EXPECTED = json.loads((ROOT / "tests" / "cases" / "expected-codes.json").read_text())
SARIF_SCHEMA = json.loads((ROOT / "tests" / "schemas" / "sarif-schema-2.1.0.json").read_text())
VALID = json.loads((CASES / "valid-qwen3-moe.json").read_text())


def run_rule(code: str, raw: dict, tmp_path: Path) -> list[str]:
    """The messages one rule reports for a config dict (repo-review's compute_check)."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(raw))
    return [f.message for f in all_findings(build_context(str(path))) if f.code == code]


# --- the registry and its documentation ----------------------------------------------------


def test_rule_codes_are_unique_sorted_and_well_formed():
    codes = [r.code for r in ALL_RULES]
    assert codes == sorted(codes) and len(set(codes)) == len(codes)
    for rule in ALL_RULES:
        assert re.fullmatch(r"[A-Z]{3}\d{3}", rule.code)
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", rule.name)
        assert rule.summary.endswith(".")


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_rule_doc_has_every_section(rule):
    sections = re.split(r"^## ", rule.doc, flags=re.MULTILINE)[1:]
    titles = [s.split("\n", 1)[0] for s in sections]
    assert titles == ["What it does", "Why is this bad?", "Example", "Use instead:", "References"]
    assert all(s.split("\n", 1)[1].strip() for s in sections)


def test_docs_rules_md_is_generated_from_the_rules():
    """Regenerate with `python -m moecfg.lint.docs > docs/rules.md`."""
    assert (ROOT / "docs" / "rules.md").read_text() == rules_markdown()


def test_rules_command_lists_and_documents():
    listing = run_cli("rules")
    assert listing.exit_code == 0
    assert [line.split()[0] for line in listing.stdout.splitlines()] == [r.code for r in ALL_RULES]
    one = run_cli("rules", "moe001")
    assert one.exit_code == 0
    assert one.stdout.startswith("# MOE001 experts-per-token-exceeds-expert-count\n")
    assert "## Why is this bad?" in one.stdout
    unknown = run_cli("rules", "XYZ999")
    assert unknown.exit_code == 2
    assert unknown.stderr == "moecfg: error: unknown rule code 'XYZ999' (see `moecfg rules`)\n"


# --- the invalid corpus: one file per rule, through the API and the CLI ---------------------


#: Rules that need safetensors weights beside the config: a corpus folder holding a
#: config.json would hide the corpus's named *.json files from `moecfg lint tests/cases/invalid`,
#: so these are tested on real tiny checkpoints below (checkpoint-expert-count-mismatch).
NEEDS_WEIGHTS = {"MOE007"}


def test_corpus_covers_every_rule():
    covered = {code for codes in EXPECTED.values() for code in codes}
    assert covered == set(RULES_BY_CODE) - NEEDS_WEIGHTS
    for name in EXPECTED:
        assert name.split("-")[0] in RULES_BY_CODE


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_through_python_api(name):
    report = lint_paths([str(CASES / name)])
    assert sorted(f.code for f in report.findings) == sorted(EXPECTED[name])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_through_cli(name):
    result = run_cli("lint", "--isolated", "--output-format", "json", str(CASES / name))
    document = result.json()
    assert sorted(f["code"] for f in document["findings"]) == sorted(EXPECTED[name])
    has_error = any(RULES_BY_CODE[c].severity is Severity.ERROR for c in EXPECTED[name])
    assert result.exit_code == (1 if has_error else 0)


def test_valid_corpus_file_is_clean():
    assert lint_paths([str(CASES / "valid-qwen3-moe.json")]).findings == ()


def test_whole_corpus_in_one_run_checks_every_file():
    report = lint_paths([str(CASES)])
    assert len(report.files) == len(EXPECTED) + 1
    assert [r.path for r in report.files] == sorted(r.path for r in report.files)


# --- rules, positive and negative ----------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "bad", "message"),
    [
        ("MOE001", {"num_experts": 8, "num_experts_per_tok": 9}, "top-k 9 exceeds the number of experts (8)"),
        (
            "MOE002",
            {"num_experts": 4, "num_experts_per_tok": 4},
            "top-k equals the number of experts (4): every token runs every expert, so the model "
            "is not truly sparse",
        ),
        (
            "ATT001",
            {"num_key_value_heads": 3},
            "num_attention_heads (32) is not divisible by num_key_value_heads (3)",
        ),
        (
            "MOE005",
            {"mlp_only_layers": [1, 9, 4]},
            "'mlp_only_layers' names layers [4, 9], beyond num_hidden_layers (4)",
        ),
        (
            "CFG010",
            {"rope_scaling": None, "rope_parameters": {"rope_type": "default"}},
            "deprecated 'rope_scaling' is set alongside its replacement 'rope_parameters'; keep only "
            "'rope_parameters'",
        ),
        (
            "CFG006",
            {"num_experts": 1.5},
            "wrong type for 'num_experts': expected an integer, got a number (1.5)",
        ),
        (
            "CFG008",
            {"num_hidden_layers": -1},
            "invalid value for 'num_hidden_layers': must be positive, got -1",
        ),
    ],
)
def test_rule_fires_and_stays_quiet(code, bad, message, tmp_path):
    assert run_rule(code, {**VALID, **bad}, tmp_path)[:1] == [message]
    assert run_rule(code, VALID, tmp_path) == []


def test_rope_theta_beside_rope_parameters_theta_is_deprecated(tmp_path):
    raw = {**VALID, "rope_parameters": {"rope_theta": 1000000.0, "rope_type": "default"}}
    assert (
        "deprecated 'rope_theta' is set alongside its replacement 'rope_parameters.rope_theta'; "
        "keep only 'rope_parameters.rope_theta'"
    ) in run_rule("CFG010", raw, tmp_path)


def test_text_config_keys_are_checked_in_scope(tmp_path):
    if "llama4" not in FAMILIES:
        pytest.skip("the llama4 adapter (the sample with a text_config) is not registered")
    raw = load_sample("Llama-4-Scout-17B-16E-Instruct.json")
    raw["text_config"]["num_experts_per_tok"] = 17
    assert run_rule("MOE001", raw, tmp_path) == ["top-k 17 exceeds the number of experts (16)"]
    path = tmp_path / "config.json"
    finding = next(f for f in all_findings(build_context(str(path))) if f.code == "MOE001")
    assert finding.pointer == "$.text_config.num_experts_per_tok"


def test_generic_adapter_error_yields_to_the_specific_rule(tmp_path):
    """The adapter also rejects top-k > E (invalid value); only MOE001 reports it."""
    raw = {**VALID, "num_experts": 8, "num_experts_per_tok": 9}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(raw))
    ctx = build_context(str(path))
    assert any(e.code == "invalid_value" for e in ctx.errors)
    assert [f.code for f in all_findings(ctx) if f.severity is Severity.ERROR] == ["MOE001"]


def test_several_problems_in_one_file_are_all_reported(tmp_path):
    raw = {**VALID, "vocab_size": "x", "hidden_size": 0, "num_key_value_heads": 5}
    del raw["norm_topk_prob"]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(raw))
    assert sorted(f.code for f in lint_paths([str(path)]).findings) == [
        "ATT001", "CFG006", "CFG008", "MOE006",
    ]


@pytest.mark.parametrize("model_type", sorted(FAMILIES))
def test_moe_keys_on_dense_follow_the_registry(model_type, tmp_path):
    """Every registered family is linted generically; dense ones flag a stray expert count."""
    family = FAMILIES[model_type]
    raw = {"model_type": model_type, "num_local_experts": 8, "num_experts": 8, "n_routed_experts": 8}
    codes = {f.code for f in all_findings(_context(raw, tmp_path))}
    assert ("MOE003" in codes) == (not family.is_moe)


def _context(raw: dict, tmp_path: Path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(raw))
    return build_context(str(path))


# --- MOE007: the config against the safetensors weights beside it ------------------------


#: The tiny transformers checkpoint of the cross-check tests, shared as fixtures.
saved, checkpoint = test_checkpoint.saved, test_checkpoint.checkpoint


def _lint_json(folder: Path):
    result = run_cli("lint", "--isolated", "--output-format", "json", str(folder))
    return result, [f for f in result.json()["findings"] if f["code"] == "MOE007"]


@pytest.mark.oracle
def test_untouched_checkpoint_has_no_expert_mismatch(checkpoint):
    _, findings = _lint_json(checkpoint())
    assert findings == []


@pytest.mark.oracle
def test_config_lying_about_num_experts_is_a_lint_error(checkpoint):
    folder = checkpoint()
    saved_config = json.loads((folder / "config.json").read_text())
    key = "num_local_experts" if "num_local_experts" in saved_config else "num_experts"
    edit_config(folder, **{key: 8})
    message = f"every MoE layer holds 4 experts, the config says 8 ({key})"
    result, findings = _lint_json(folder)
    assert result.exit_code == 1
    assert [(f["message"], f["path"], f["pointer"]) for f in findings] == [
        (message, str(folder / "config.json"), f"$.{key}"),
    ]
    text = run_cli("lint", "--isolated", str(folder / "config.json"))
    assert f"MOE007 [error] {message}\n" in text.stdout


@pytest.mark.oracle
def test_removed_expert_tensor_is_a_lint_error(checkpoint):
    folder = checkpoint()
    drop_tensor(folder, "model.layers.1.mlp.experts.3.down_proj.weight")
    _, findings = _lint_json(folder)
    assert [f["message"] for f in findings] == ["layer 1 has down_proj for 3 experts, the config says 4"]


@pytest.mark.oracle
def test_unreadable_weights_are_named_not_raised(checkpoint):
    folder = checkpoint()
    shard = folder / "model-00001-of-00002.safetensors"
    size = shard.stat().st_size
    with open(shard, "r+b") as stream:
        stream.write((1 << 62).to_bytes(8, "little"))
    _, findings = _lint_json(folder)
    assert [f["message"] for f in findings] == [
        "the weights beside the config cannot be read: model-00001-of-00002.safetensors: "
        f"header length {1 << 62} exceeds the file size ({size} bytes)"
    ]


# --- sample configs ------------------------------------------------------------------------


def test_sample_configs_lint_clean():
    """`moecfg lint sample_configs/` exits 0: no error findings on real models.

    Samples whose family is not registered yet only get the file-level rules; they are listed
    so the gap is visible rather than failing the build.
    """
    result = run_cli("lint", "--isolated", "--output-format", "json", str(SAMPLES))
    assert result.exit_code == 0, result.stdout
    document = result.json()
    assert document["summary"]["errors"] == 0
    unsupported = sorted(
        Path(f["path"]).name for f in document["findings"] if f["code"] == "CFG004"
    )
    supported = sorted(p.name for p in SAMPLES.glob("*.json") if p.name not in unsupported)
    print(f"\nsamples linted with their family: {supported}\nwithout an adapter yet: {unsupported}")
    assert {"Llama-3.1-8B.json", "Qwen3-30B-A3B.json", "Qwen3-8B.json"} <= set(supported)


# --- selection and pyproject settings ------------------------------------------------------


def _enabled(*layers: Layer) -> set[str]:
    return set(resolve(layers).enabled)


def test_selection_by_code_and_prefix():
    everything = {r.code for r in ALL_RULES}
    assert _enabled() == everything
    assert _enabled(Layer(select=["MOE"])) == {c for c in everything if c.startswith("MOE")}
    assert _enabled(Layer(select=["MOE"], ignore=["MOE00"])) == set()
    assert _enabled(Layer(select=["MOE"], ignore=["MOE002"])) == {
        "MOE001", "MOE003", "MOE004", "MOE005", "MOE006", "MOE007",
    }
    # The more specific selector wins, as in ruff.
    assert _enabled(Layer(select=["MOE001"], ignore=["MOE"])) == {"MOE001"}
    assert _enabled(Layer(select=["ATT"], extend_select=["CFG001"])) == {"ATT001", "ATT002", "CFG001"}
    # A later layer without select refines the one below.
    assert _enabled(Layer(select=["MOE"]), Layer(ignore=["MOE006"], extend_select=["ATT001"])) == {
        "MOE001", "MOE002", "MOE003", "MOE004", "MOE005", "MOE007", "ATT001",
    }


def test_unknown_selector_is_a_usage_error():
    with pytest.raises(SelectionError, match="unknown rule selector 'MOE9'"):
        resolve([Layer(select=["MOE9"])])
    result = run_cli("lint", "--isolated", "--ignore", "NOPE", str(CASES / "valid-qwen3-moe.json"))
    assert result.exit_code == 2
    assert result.stderr == "moecfg: error: command line: unknown rule selector 'NOPE'\n"


def test_cli_selection_changes_findings_and_exit():
    bad = str(CASES / "MOE001-experts-per-token-exceeds-expert-count.json")
    assert run_cli("lint", "--isolated", bad).exit_code == 1
    assert run_cli("lint", "--isolated", "--ignore", "MOE001", bad).exit_code == 0
    assert run_cli("lint", "--isolated", "--select", "CFG,ATT", bad).exit_code == 0
    assert run_cli("lint", "--isolated", "--exit-zero", bad).exit_code == 0


def test_pyproject_settings_are_found_upward(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.moecfg]\nignore = ["MOE002"]\n'
        '[tool.moecfg.per-file-ignores]\n"legacy/*" = ["CFG011"]\n'
    )
    (tmp_path / "legacy").mkdir()
    nested = tmp_path / "models" / "deep"
    nested.mkdir(parents=True)
    every = json.loads((CASES / "MOE002-every-expert-active.json").read_text())
    (nested / "config.json").write_text(json.dumps({**every, "auto_map": {}}))
    (tmp_path / "legacy" / "config.json").write_text(json.dumps({**VALID, "auto_map": {}}))
    monkeypatch.chdir(nested)
    result = run_cli("lint", "--output-format", "json", str(tmp_path))
    assert [(Path(f["path"]).parent.name, f["code"]) for f in result.json()["findings"]] == [
        ("deep", "CFG011"),
    ]
    isolated = run_cli("lint", "--isolated", "--output-format", "json", str(tmp_path))
    assert sorted(f["code"] for f in isolated.json()["findings"]) == ["CFG011", "CFG011", "MOE002"]
    # The command line's select replaces the project's.
    cli = run_cli("lint", "--select", "MOE002", "--output-format", "concise", str(nested))
    assert "MOE002" in cli.stdout


def test_bad_pyproject_settings_exit_2(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.moecfg]\nselct = ["MOE"]\n')
    monkeypatch.chdir(tmp_path)
    result = run_cli("lint", str(CASES / "valid-qwen3-moe.json"))
    assert result.exit_code == 2
    assert result.stderr == (
        f"moecfg: error: {tmp_path / 'pyproject.toml'}: unknown [tool.moecfg] key 'selct'\n"
    )


# --- paths, order, exit codes --------------------------------------------------------------


def test_paths_files_folders_globs_and_missing(tmp_path):
    for name in ("b", "a"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text(json.dumps(VALID))
    (tmp_path / "b" / "tokenizer.json").write_text("{}")
    (tmp_path / "empty").mkdir()
    report = lint_paths(
        [str(tmp_path), str(tmp_path / "*" / "config.json"), str(tmp_path / "nothing*"),
         str(tmp_path / "empty"), str(tmp_path / "gone.json")]
    )
    assert [(Path(r.path).relative_to(tmp_path).as_posix(), [f.message for f in r.findings])
            for r in report.files] == [
        ("a/config.json", []),
        ("b/config.json", []),
        ("nothing*", ["pattern matched no files"]),
        ("empty", ["folder has no config.json"]),
        ("gone.json", ["no such file or directory"]),
    ]


def test_no_paths_is_a_usage_error():
    result = run_cli("lint")
    assert result.exit_code == 2
    assert result.stderr == "moecfg: error: no PATH given; pass config files, folders or globs\n"


def test_exit_codes_and_full_output():
    clean = run_cli("lint", "--isolated", str(CASES / "valid-qwen3-moe.json"))
    assert (clean.exit_code, clean.stdout) == (0, "All checks passed! (1 file checked)\n")
    warn = run_cli("lint", "--isolated", str(CASES / "MOE006-norm-topk-prob-absent.json"))
    assert warn.exit_code == 0
    bad = CASES / "MOE001-experts-per-token-exceeds-expert-count.json"
    result = run_cli("lint", "--isolated", str(bad))
    assert result.exit_code == 1
    assert result.stdout == (
        f"{bad}:19: MOE001 [error] top-k 16 exceeds the number of experts (8)\n"
        "  --> $.num_experts_per_tok\n"
        "  = help: experts-per-token-exceeds-expert-count: Top-k routes each token to more experts "
        "than exist. (moecfg rules MOE001)\n\n"
        "Found 1 error in 1 file (1 file checked).\n"
    )


def test_bad_output_format_is_a_usage_error():
    result = run_cli("lint", "--output-format", "xml", str(CASES / "valid-qwen3-moe.json"))
    assert result.exit_code == 2


# --- json, github and sarif ----------------------------------------------------------------


def test_json_output_is_one_document_even_when_clean():
    result = run_cli("lint", "--isolated", "--output-format", "json", str(CASES / "valid-qwen3-moe.json"))
    assert result.json() == {
        "schema_version": 1,
        "summary": {"files": 1, "errors": 0, "warnings": 0, "internal_errors": 0},
        "files": [{"path": str(CASES / "valid-qwen3-moe.json"), "findings": 0, "internal_error": None}],
        "findings": [],
    }


def test_github_escaping_follows_actions_toolkit():
    assert escape_data("100%\r\nnext") == "100%25%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    finding = Finding(
        code="CFG002", name="invalid-json", severity=Severity.ERROR,
        message="bad: 50%,\nworse", path="we,ird:dir/config.json", line=3,
    )
    report = LintReport(files=(FileReport(path=finding.path, findings=(finding,)),))
    assert render_github(report) == (
        "::error file=we%2Cird%3Adir/config.json,line=3,title=moecfg CFG002 invalid-json"
        "::CFG002 bad: 50%25,%0Aworse\n"
    )


def test_github_output_through_cli():
    bad = CASES / "MOE002-every-expert-active.json"
    result = run_cli("lint", "--isolated", "--output-format", "github", str(bad))
    assert result.exit_code == 0
    assert result.stdout == (
        f"::warning file={escape_property(str(bad))},line=19,title=moecfg MOE002 every-expert-active"
        "::MOE002 top-k equals the number of experts (8): every token runs every expert, so the "
        "model is not truly sparse\n"
    )


def test_sarif_matches_the_official_schema():
    result = run_cli("lint", "--isolated", "--output-format", "sarif", str(CASES))
    log = result.json()
    jsonschema.Draft7Validator.check_schema(SARIF_SCHEMA)
    jsonschema.Draft7Validator(SARIF_SCHEMA).validate(log)
    run = log["runs"][0]
    assert log["version"] == "2.1.0"
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [r.code for r in ALL_RULES]
    assert len(run["results"]) == sum(len(codes) for codes in EXPECTED.values())
    first = next(r for r in run["results"] if r["ruleId"] == "MOE001")
    assert first == {
        "ruleId": "MOE001",
        "ruleIndex": [r.code for r in ALL_RULES].index("MOE001"),
        "level": "error",
        "message": {"text": "top-k 16 exceeds the number of experts (8)"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {
                        "uri": (CASES / "MOE001-experts-per-token-exceeds-expert-count.json").as_uri()
                    },
                    "region": {"startLine": 19},
                },
                "logicalLocations": [{"fullyQualifiedName": "$.num_experts_per_tok", "kind": "member"}],
            }
        ],
    }


def test_sarif_with_no_findings_is_valid_and_uses_relative_uris(tmp_path, monkeypatch):
    monkeypatch.chdir(CASES)
    log = json.loads(render_sarif(lint_paths(["valid-qwen3-moe.json"])))
    jsonschema.Draft7Validator(SARIF_SCHEMA).validate(log)
    assert log["runs"][0]["results"] == []
    log = json.loads(render_sarif(lint_paths(["./MOE006-norm-topk-prob-absent.json"])))
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "MOE006-norm-topk-prob-absent.json"}


# --- internal errors: a file moecfg failed to check is reported, never "passed" -------------


@pytest.fixture
def broken_rule(monkeypatch):
    """MOE002's check raises on the valid corpus file, as a bug in a rule would."""
    broken = str(CASES / "valid-qwen3-moe.json")
    check = RULES_BY_CODE["MOE002"].check

    def boom(ctx):
        if ctx.path == broken:
            raise RuntimeError("rule bug")
        return check(ctx)

    rules = tuple(replace(r, check=boom) if r.code == "MOE002" else r for r in ALL_RULES)
    monkeypatch.setattr("moecfg.lint.runner.ALL_RULES", rules)
    return broken


def test_internal_error_in_full_and_concise_output(broken_rule):
    for fmt in ("full", "concise"):
        result = run_cli("lint", "--isolated", "--output-format", fmt, broken_rule)
        assert result.exit_code == 2
        assert result.stdout == (
            f"{broken_rule}: internal error: RuntimeError: rule bug\n"
            + ("\n" if fmt == "full" else "")
            + "Found 1 internal error in 1 file (1 file checked).\n"
        )
        assert result.stderr == f"moecfg: internal error: {broken_rule}: RuntimeError: rule bug\n"


def test_internal_error_beside_findings_is_counted_in_the_summary(broken_rule):
    other = str(CASES / "MOE001-experts-per-token-exceeds-expert-count.json")
    result = run_cli("lint", "--isolated", "--output-format", "concise", broken_rule, other)
    assert result.exit_code == 2
    assert result.stdout.splitlines()[-2:] == [
        f"{broken_rule}: internal error: RuntimeError: rule bug",
        "Found 1 error and 1 internal error in 2 files (2 files checked).",
    ]


def test_internal_error_in_json_output(broken_rule):
    result = run_cli("lint", "--isolated", "--output-format", "json", broken_rule)
    assert result.exit_code == 2
    assert result.json() == {
        "schema_version": 1,
        "summary": {"files": 1, "errors": 1, "warnings": 0, "internal_errors": 1},
        "files": [{"path": broken_rule, "findings": 0, "internal_error": "RuntimeError: rule bug"}],
        "findings": [],
    }


def test_internal_error_in_github_output(broken_rule):
    result = run_cli("lint", "--isolated", "--output-format", "github", broken_rule)
    assert result.exit_code == 2
    assert result.stdout == (
        f"::error file={escape_property(broken_rule)},title=moecfg internal error"
        "::internal error: RuntimeError: rule bug\n"
    )


def test_internal_error_in_sarif_output(broken_rule):
    result = run_cli("lint", "--isolated", "--output-format", "sarif", broken_rule)
    assert result.exit_code == 2
    log = result.json()
    jsonschema.Draft7Validator(SARIF_SCHEMA).validate(log)
    assert log["runs"][0]["invocations"] == [
        {
            "executionSuccessful": False,
            "toolExecutionNotifications": [
                {
                    "level": "error",
                    "message": {"text": "internal error: RuntimeError: rule bug"},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": Path(broken_rule).as_uri()}
                            }
                        }
                    ],
                }
            ],
        }
    ]


def test_internal_error_in_markdown_output(broken_rule):
    result = run_cli("lint", "--isolated", "--output-format", "markdown", broken_rule)
    assert result.exit_code == 2
    lines = result.stdout.splitlines()
    assert lines[2] == "Found 1 internal error in 1 file (1 file checked)."
    assert [cell.strip() for cell in lines[-1].split("|")[1:-1]] == [
        f"`{broken_rule}`", "", "", "error", "internal error: RuntimeError: rule bug",
    ]


def test_clean_sarif_run_says_execution_succeeded():
    valid = str(CASES / "valid-qwen3-moe.json")
    log = run_cli("lint", "--isolated", "--output-format", "sarif", valid).json()
    assert log["runs"][0]["invocations"] == [{"executionSuccessful": True}]


# --- lint reads configs as inspect does ----------------------------------------------------


def qwen3_vl_moe_with_text_tie_string() -> dict:
    """A valid top-level tie_word_embeddings (the key transformers reads) and a stray string one
    in text_config, which Qwen3-VL-MoE never reads."""
    from tests.test_families_mainstream_b import qwen3_vl_v4

    return qwen3_vl_v4(tie_word_embeddings="yes")


def test_top_level_field_is_read_where_inspect_reads_it(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(qwen3_vl_moe_with_text_tie_string()))
    assert run_cli("inspect", str(path), "--format", "json").exit_code == 0
    result = run_cli("lint", "--isolated", "--output-format", "json", str(path))
    assert [f["code"] for f in result.json()["findings"]] == []
    assert result.exit_code == 0


def test_top_level_field_errors_name_the_top_level_key(tmp_path):
    path = tmp_path / "config.json"
    config = qwen3_vl_moe_with_text_tie_string()
    config["tie_word_embeddings"] = "no"
    path.write_text(json.dumps(config))
    inspected = run_cli("inspect", str(path), "--format", "json").json()["error"]
    assert inspected["message"] == (
        "wrong type for 'tie_word_embeddings': expected a boolean, got a string (\"no\")"
    )
    findings = lint_paths([str(path)]).findings
    assert [(f.code, f.pointer, f.message) for f in findings] == [
        ("CFG006", "$.tie_word_embeddings", inspected["message"])
    ]


AGREEMENT_FILES = sorted(SAMPLES.glob("*.json")) + sorted(CASES.glob("*.json"))


@pytest.mark.parametrize("path", AGREEMENT_FILES, ids=lambda p: p.name)
def test_lint_adapter_agrees_with_inspect(path):
    """lint runs the family adapter as inspect does: inspect accepts a file iff lint's adapter
    reports nothing, and the key inspect rejects is one lint reports."""
    inspected = run_cli("inspect", str(path), "--format", "json")
    ctx = build_context(str(path))
    adapter_errors = [*ctx.errors, *([ctx.load_error] if ctx.load_error else [])]
    assert (inspected.exit_code == 0) == (not adapter_errors), adapter_errors
    if inspected.exit_code:
        key = inspected.json()["error"]["key"]
        assert key in [getattr(e, "key", None) for e in adapter_errors]
        pointers = [f.pointer for f in lint_paths([str(path)]).findings]
        assert ("$." + key if key else None) in pointers
