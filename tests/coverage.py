"""Coverage of transformers' MoE families: enumerate them from the installed transformers,
build each default config on the meta device, and compare moecfg's counts with it.

`python -m tests.coverage` rewrites docs/coverage.md; tests/test_coverage.py checks it.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from moecfg.errors import MoecfgError
from moecfg.families import FAMILY_MODULES, parse_config
from moecfg.loading.files import RawConfig
from moecfg.metrics import count_params
from tests.oracle import oracle_counts

#: A config with any of these fields (itself or its text_config) is an MoE family.
MOE_FIELD_NAMES = frozenset({
    "num_experts", "num_local_experts", "n_routed_experts", "moe_num_experts",
    "num_experts_per_tok", "moe_intermediate_size", "moe_topk", "moe_k", "ffn_config",
    "expert_ffn_hidden_size",
})

COVERAGE_DOC = Path(__file__).resolve().parent.parent / "docs" / "coverage.md"


@dataclass(frozen=True)
class CoverageRow:
    model_type: str
    supported: bool
    exact: bool | None  #: None when transformers cannot build the default config
    notes: str


def _field_names(config_class: type) -> set[str]:
    try:
        return {f.name for f in dataclasses.fields(config_class)}
    except TypeError:
        return set()


def moe_model_types() -> list[str]:
    """Every causal-LM model_type of the installed transformers whose config has MoE fields."""
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    found = []
    for model_type in sorted(MODEL_FOR_CAUSAL_LM_MAPPING_NAMES):
        if model_type not in CONFIG_MAPPING:
            continue
        config_class = CONFIG_MAPPING[model_type]
        names = _field_names(config_class)
        text_config = (getattr(config_class, "sub_configs", None) or {}).get("text_config")
        if isinstance(text_config, type):
            names |= _field_names(text_config)
        if names & MOE_FIELD_NAMES:
            found.append(model_type)
    return found


def default_config_dict(model_type: str) -> dict:
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    return CONFIG_MAPPING[model_type]().to_dict()


def evaluate(model_type: str) -> CoverageRow:
    """Build transformers' default config for `model_type` and compare moecfg with it."""
    try:
        config = json.loads(json.dumps(default_config_dict(model_type)))
        with tempfile.TemporaryDirectory() as tmp:
            expected = oracle_counts(config, Path(tmp))
    except Exception as exc:  # transformers' own failure: listed, not held against moecfg
        message = str(exc).splitlines()[0][:160] if str(exc) else ""
        return CoverageRow(
            model_type,
            model_type in FAMILY_MODULES,
            None,
            f"transformers cannot build its default config: {type(exc).__name__}: {message}",
        )
    note = ""
    try:
        try:
            counts = count_params(parse_config(RawConfig(source=model_type, data=config)))
        except MoecfgError as error:
            if not (error.key or "").endswith("head_dim") or "head_dim" in config:
                raise
            # transformers truncates hidden_size // heads where moecfg refuses to guess; spell
            # out the head_dim transformers uses, and check both sides again with it.
            config["head_dim"] = config["hidden_size"] // config["num_attention_heads"]
            with tempfile.TemporaryDirectory() as tmp:
                expected = oracle_counts(config, Path(tmp))
            counts = count_params(parse_config(RawConfig(source=model_type, data=config)))
            note = (f"default config has hidden_size {config['hidden_size']} not divisible by "
                    f"{config['num_attention_heads']} heads; checked with head_dim "
                    f"{config['head_dim']} written out, as transformers truncates it")
    except MoecfgError as error:
        if error.code == "unsupported_model_type":
            return CoverageRow(model_type, False, False, "no adapter")
        return CoverageRow(model_type, True, False, f"moecfg rejects the default config: {error.message}")
    got = {**counts.parts, "total": counts.total, "active": counts.active}
    if got == expected:
        return CoverageRow(model_type, True, True, note)
    differing = ", ".join(f"{k}: {got[k]} vs {expected[k]}" for k in expected if got.get(k) != expected[k])
    return CoverageRow(model_type, True, False, f"differs (moecfg vs transformers) — {differing}")


def summary_line(rows: list[CoverageRow]) -> str:
    import transformers

    exact = sum(1 for row in rows if row.exact)
    buildable = sum(1 for row in rows if row.exact is not None)
    return (
        f"{exact}/{buildable} MoE families exact vs transformers {transformers.__version__} "
        f"({len(rows)} MoE causal-LM model types, {len(rows) - buildable} not buildable from defaults)"
    )


def render(rows: list[CoverageRow]) -> str:
    lines = [
        "# Coverage: MoE families in transformers",
        "",
        "Generated by `python -m tests.coverage` from the installed transformers; checked by",
        "`tests/test_coverage.py`. Each row builds transformers' default config for the model type,",
        "instantiates `AutoModelForCausalLM` on the meta device and compares moecfg's `params.total`,",
        "`params.active` and every part for exact equality.",
        "",
        f"**{summary_line(rows)}**",
        "",
        "| family | supported | exact | notes |",
        "|---|---|---|---|",
    ]
    for row in rows:
        exact = "—" if row.exact is None else ("yes" if row.exact else "no")
        notes = row.notes.replace("|", "\\|")
        lines.append(f"| `{row.model_type}` | {'yes' if row.supported else 'no'} | {exact} | {notes} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    all_rows = [evaluate(model_type) for model_type in moe_model_types()]
    COVERAGE_DOC.write_text(render(all_rows))
    print(summary_line(all_rows))
