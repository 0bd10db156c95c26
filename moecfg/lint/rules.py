"""The lint rules: a code, a kebab-case name, a default severity and a check, documented in
the check's docstring (ruff's sections), from which `moecfg rules` and docs/rules.md are made.

Rules read what the family adapters declare (their Field tables) and the errors the adapters
raise; no rule knows a family by name, so a newly registered family is linted the same way.
Codes are a public API: never renumber or reuse one.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moecfg.errors import ConfigError, MoecfgError
from moecfg.families import FAMILIES
from moecfg.families.fields import has_key
from moecfg.lint.context import RuleContext
from moecfg.lint.findings import Severity


@dataclass(frozen=True, slots=True)
class Hit:
    """What a check reports: a message and the key it concerns (scoped, e.g. text_config.x)."""

    message: str
    key: str | None = None


Check = Callable[[RuleContext], Iterator[Hit]]


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    #: Names the pattern, so that "ignore <name>" reads right.
    name: str
    severity: Severity
    summary: str
    check: Check
    #: The docstring of the check: What it does / Why is this bad? / Example / Use instead: / References.
    doc: str


def rule(code: str, name: str, severity: Severity, summary: str) -> Callable[[Check], Rule]:
    def make(check: Check) -> Rule:
        return Rule(code, name, severity, summary, check, inspect.cleandoc(check.__doc__ or ""))

    return make


def adapter_errors(ctx: RuleContext, *codes: str) -> Iterator[Hit]:
    for error in ctx.errors:
        if error.code in codes:
            yield Hit(error.message, error.key)


# --- CFG: the file and the config as a whole ----------------------------------------------


@rule("CFG001", "unreadable-file", Severity.ERROR, "The path cannot be read as a file.")
def _unreadable_file(ctx: RuleContext) -> Iterator[Hit]:
    """
    ## What it does
    Reports a path that cannot be read: missing, a broken or looping symlink, a FIFO or other
    non-regular file, a folder without a `config.json`, or a glob that matched nothing.

    ## Why is this bad?
    A config that cannot be read cannot be checked; a CI step that skipped it silently would
    pass a repository whose config is gone.

    ## Example
    ```console
    $ moecfg lint checkpoints/
    checkpoints: CFG001 folder has no config.json
    ```

    ## Use instead:
    Point `moecfg lint` at the config files, or at folders that hold a `config.json`.

    ## References
    - moecfg `loading/files.py` (only regular files are opened).
    """
    error = ctx.load_error
    if error is not None and not isinstance(error, ConfigError):
        yield Hit(error.message)


@rule("CFG002", "invalid-json", Severity.ERROR, "The file is not a UTF-8 JSON object.")
def _invalid_json(ctx: RuleContext) -> Iterator[Hit]:
    """
    ## What it does
    Reports a file that is not UTF-8 text, is not valid JSON, nests too deeply, is larger than
    16 MiB, or whose top level is not an object.

    ## Why is this bad?
    `transformers` and every inference engine read `config.json` with a strict JSON parser;
    a file they cannot parse makes the model unloadable.

    ## Example
    ```json
    {"model_type": "qwen3_moe", "num_experts": 128,}
    ```

    ## Use instead:
    ```json
    {"model_type": "qwen3_moe", "num_experts": 128}
    ```

    ## References
    - RFC 8259, The JavaScript Object Notation (JSON) Data Interchange Format.
    """
    if isinstance(ctx.load_error, ConfigError):
        yield Hit(ctx.load_error.message)


@rule("CFG003", "duplicate-key", Severity.ERROR, "An object holds the same key twice.")
def _duplicate_key(ctx: RuleContext) -> Iterator[Hit]:
    """
    ## What it does
    Reports a key that appears more than once in the same JSON object.

    ## Why is this bad?
    JSON parsers silently keep one of the values (Python's keeps the last), so the file says
    two things and the model gets whichever the parser picked, usually a merge accident.

    ## Example
    ```json
    {"num_experts": 128, "num_experts_per_tok": 8, "num_experts": 64}
    ```

    ## Use instead:
    ```json
    {"num_experts": 64, "num_experts_per_tok": 8}
    ```

    ## References
    - RFC 8259 §4: "The names within an object SHOULD be unique."
    """
    for key in ctx.duplicate_keys:
        top_level = ctx.raw is not None and key in ctx.raw
        yield Hit(
            f"duplicate key '{key}': JSON parsers silently keep only one of its values",
            key if top_level else None,
        )


@rule("CFG004", "unknown-model-type", Severity.WARNING, "moecfg has no adapter for the model_type.")
def _unknown_model_type(ctx: RuleContext) -> Iterator[Hit]:
    """
    ## What it does
    Reports a `model_type` that no moecfg family adapter reads, and whose `architectures[0]`
    does not name one either. Only the file-level rules run on such a config.

    ## Why is this bad?
    The expert and attention rules need the family's key table; without it most of the config
    goes unchecked. A typo in `model_type` also makes `transformers` refuse the model.

    ## Example
    ```json
    {"model_type": "qwen3moe"}
    ```

    ## Use instead:
    ```json
    {"model_type": "qwen3_moe"}
    ```

    ## References
    - `moecfg families` and `moecfg/families/` list the supported model types.
    """
    yield from adapter_errors(ctx, "unsupported_model_type")


@rule("CFG005", "missing-required-key", Severity.ERROR, "A key the family needs is absent.")
def _missing_required_key(ctx: RuleContext) -> Iterator[Hit]:
    """
    ## What it does
    Reports a key that the family has no safe default for and the config does not carry,
    under its name or any alias.

    ## Why is this bad?
    `transformers` would fill in a model-size default (e.g. 128 experts for `qwen3_moe`) that
    has nothing to do with this checkpoint; the weights then fail to load, or load wrongly.

    ## Example
    ```json
    {"model_type": "qwen3_moe", "num_experts": 128, "num_experts_per_tok": 8}
    ```

    ## Use instead:
    ```json
    {"model_type": "qwen3_moe", "num_experts": 128, "num_experts_per_tok": 8,
     "moe_intermediate_size": 768}
    ```

    ## References
    - transformers `models/<family>/configuration_<family>.py` (the defaults).
    """
    yield from adapter_errors(ctx, "missing_key")


@rule("CFG006", "wrong-value-type", Severity.ERROR, "A key holds the wrong JSON type.")
def _wrong_value_type(ctx: RuleContext) -> Iterator[Hit]:
    """
    ## What it does
    Reports a key whose JSON type is not what the family reads: a string where an integer is
    needed, a float size, a boolean as a count, null for a required value.

    ## Why is this bad?
    `transformers` does not validate types; `"4096"` reaches `nn.Linear` and fails there, and
    `4096.0` silently works in some engines and crashes others.

    ## Example
    ```json
    {"hidden_size": "2048"}
    ```

    ## Use instead:
    ```json
    {"hidden_size": 2048}
    ```

    ## References
    - transformers `PreTrainedConfig` (no type checks on load).
    """
    yield from adapter_errors(ctx, "wrong_type")


@rule("CFG007", "non-finite-number", Severity.ERROR, "A key holds NaN or Infinity.")
def _non_finite_number(ctx: RuleContext) -> Iterator[Hit]:
    """
    ## What it does
    Reports `NaN`, `Infinity` or `-Infinity` in a key the family reads.

    ## Why is this bad?
    These literals are not JSON; Python's parser accepts them, most others reject the whole
    file, and a NaN `rms_norm_eps` or `rope_theta` poisons every activation.

    ## Example
    ```json
    {"rms_norm_eps": NaN}
    ```

    ## Use instead:
    ```json
    {"rms_norm_eps": 1e-06}
    ```

    ## References
    - RFC 8259 §6: "Numeric values that cannot be represented ... (such as Infinity and NaN)
      are not permitted."
    """
    yield from adapter_errors(ctx, "non_finite")


@rule("CFG008", "non-positive-size", Severity.ERROR, "A size is not positive, or a count negative.")
def _non_positive_size(ctx: RuleContext) -> Iterator[Hit]:
    """
    ## What it does
    Reports a size (hidden size, heads, layers, experts, top-k, expert width) that is zero or
    negative, and a count or layer index that is negative.

    ## Why is this bad?
    A zero-width layer or zero experts per token builds a model that computes nothing; the
    error surfaces far from the config, as a shape mismatch at load time.

    ## Example
    ```json
    {"num_experts_per_tok": 0}
    ```

    ## Use instead:
    ```json
    {"num_experts_per_tok": 8}
    ```

    ## References
    - transformers `models/<family>/modeling_<family>.py` (the layer shapes).
    """
    yield from adapter_errors(ctx, "out_of_range")


@rule("CFG009", "conflicting-alias-values", Severity.ERROR, "A key and its alias disagree.")
def _conflicting_alias_values(ctx: RuleContext) -> Iterator[Hit]:
    """
    ## What it does
    Reports a key and one of its aliases (e.g. `num_experts` and `num_local_experts`,
    `dtype` and `torch_dtype`) present with different values.

    ## Why is this bad?
    Which one wins depends on the reader: `transformers`' `attribute_map` takes one, engines
    that read the raw JSON take the other, so two tools run two different models.

    ## Example
    ```json
    {"num_local_experts": 8, "num_experts": 16}
    ```

    ## Use instead:
    ```json
    {"num_local_experts": 8}
    ```

    ## References
    - transformers `PreTrainedConfig.attribute_map`.
    """
    yield from adapter_errors(ctx, "alias_conflict")


#: transformers v5 renamed these keys; v4 files keep working, but a file should not hold both.
V5_RENAMES = (
    ("torch_dtype", "dtype"),
    ("rope_scaling", "rope_parameters"),
    ("rope_theta", "rope_parameters.rope_theta"),
)


@rule(
    "CFG010",
    "deprecated-key-alongside-current",
    Severity.WARNING,
    "A transformers v4 key sits next to its v5 replacement.",
)
def _deprecated_key_alongside_current(ctx: RuleContext) -> Iterator[Hit]:
    """
    ## What it does
    Reports a transformers v4 spelling (`torch_dtype`, `rope_scaling`, top-level `rope_theta`)
    in the same object as its v5 replacement (`dtype`, `rope_parameters`,
    `rope_parameters.rope_theta`).

    ## Why is this bad?
    v5 reads the new key and v4-era engines read the old one; kept side by side they drift
    apart on the next edit, and each tool then runs a different model.

    ## Example
    ```json
    {"torch_dtype": "bfloat16", "dtype": "bfloat16"}
    ```

    ## Use instead:
    ```json
    {"dtype": "bfloat16"}
    ```

    ## References
    - transformers v5 `PreTrainedConfig` (`torch_dtype` → `dtype`) and
      `modeling_rope_utils.py` (`rope_scaling`/`rope_theta` → `rope_parameters`).
    """
    scopes = [("", ctx.raw or {})]
    if ctx.scope:
        scopes.append((ctx.scope, ctx.data))
    for prefix, data in scopes:
        for old, new in V5_RENAMES:
            if old in data and has_key(data, new):
                yield Hit(
                    f"deprecated '{prefix}{old}' is set alongside its replacement '{prefix}{new}'; "
                    f"keep only '{prefix}{new}'",
                    prefix + old,
                )


@rule("CFG011", "remote-code-auto-map", Severity.WARNING, "The config needs remote code.")
def _remote_code_auto_map(ctx: RuleContext) -> Iterator[Hit]:
    """
    ## What it does
    Reports an `auto_map` key: the model's classes live in Python files of the repository,
    loaded only with `trust_remote_code=True`.

    ## Why is this bad?
    Remote code can define its own keys and defaults, which moecfg never runs, so the checks
    and counts here describe the `transformers` class of that `model_type`, not necessarily
    the code the repository ships. Users must also trust and pin that code.

    ## Example
    ```json
    {"auto_map": {"AutoConfig": "configuration_deepseek.DeepseekV3Config"}}
    ```

    ## Use instead:
    Drop `auto_map` once `transformers` supports the architecture natively.

    ## References
    - transformers docs, "Customizing models" (`auto_map`, `trust_remote_code`).
    """
    if ctx.raw is not None and "auto_map" in ctx.raw:
        yield Hit("'auto_map' is set: the model needs trust_remote_code, which moecfg never runs", "auto_map")


_GENERIC_ERROR_CODES = frozenset(
    {"unsupported_model_type", "missing_key", "wrong_type", "non_finite", "out_of_range", "alias_conflict"}
)


@rule("CFG012", "invalid-value", Severity.ERROR, "The family adapter rejects a value.")
def _invalid_value(ctx: RuleContext) -> Iterator[Hit]:
    """
    ## What it does
    Reports any other value the family adapter cannot build a model from, with the adapter's
    own message, when no more specific rule already explains it.

    ## Why is this bad?
    moecfg's adapters mirror what `transformers` builds; a value they reject is a config
    `transformers` would reject too, or silently misread.

    ## Example
    ```json
    {"hidden_size": 2048, "num_attention_heads": 30}
    ```

    ## Use instead:
    ```json
    {"hidden_size": 2048, "num_attention_heads": 32}
    ```

    ## References
    - moecfg `families/` adapters; transformers `models/<family>/`.
    """
    for error in ctx.errors:
        if error.code not in _GENERIC_ERROR_CODES:
            yield Hit(error.message, error.key)


@rule(
    "CFG013",
    "model-type-read-through-architecture",
    Severity.WARNING,
    "The model_type is unknown; the config was read as the family its architecture names.",
)
def _model_type_read_through_architecture(ctx: RuleContext) -> Iterator[Hit]:
    """
    ## What it does
    Reports a `model_type` no family adapter knows, in a config whose `architectures[0]`
    names a supported class, so moecfg read it as that class's family (the assumption
    `moecfg inspect` warns about).

    ## Why is this bad?
    A renamed `model_type` (common in fine-tunes and conversions) makes `AutoConfig` refuse
    the model unless that name is registered, and every check here rests on the guess that
    the config really follows the named architecture's keys and defaults.

    ## Example
    ```json
    {"model_type": "my_qwen3_finetune", "architectures": ["Qwen3MoeForCausalLM"]}
    ```

    ## Use instead:
    ```json
    {"model_type": "qwen3_moe", "architectures": ["Qwen3MoeForCausalLM"]}
    ```

    ## References
    - transformers `models/auto/configuration_auto.py` (`model_type` picks the config class).
    """
    config = ctx.config
    if config is not None and config.model_type != config.family:
        yield Hit(
            f"model_type '{config.model_type}' is not a known family; read as "
            f"'{config.family}' because architectures[0] is '{config.architecture}'",
            "model_type",
        )


# --- ATT: attention shapes ----------------------------------------------------------------


@rule(
    "ATT001",
    "heads-not-divisible-by-kv-heads",
    Severity.ERROR,
    "num_attention_heads is not a multiple of num_key_value_heads.",
)
def _heads_not_divisible_by_kv_heads(ctx: RuleContext) -> Iterator[Hit]:
    """
    ## What it does
    Reports a `num_attention_heads` that is not a multiple of `num_key_value_heads`.

    ## Why is this bad?
    Grouped-query attention shares each key/value head among
    `num_attention_heads / num_key_value_heads` query heads; `repeat_kv` needs that to be an
    integer, so the model fails at its first forward pass.

    ## Example
    ```json
    {"num_attention_heads": 32, "num_key_value_heads": 5}
    ```

    ## Use instead:
    ```json
    {"num_attention_heads": 32, "num_key_value_heads": 4}
    ```

    ## References
    - transformers `models/llama/modeling_llama.py` (`repeat_kv`); Ainslie et al. 2023, GQA.
    """
    heads, kv_heads = ctx.value("base.num_attention_heads"), ctx.value("base.num_key_value_heads")
    if isinstance(heads, int) and isinstance(kv_heads, int) and kv_heads > 0 and heads % kv_heads:
        key = ctx.field_key("base.num_key_value_heads")
        yield Hit(
            f"num_attention_heads ({heads}) is not divisible by num_key_value_heads ({kv_heads})",
            key,
        )


@rule(
    "ATT002",
    "hidden-size-not-heads-times-head-dim",
    Severity.ERROR,
    "head_dim is derived from hidden_size / heads, which is not an integer.",
)
def _hidden_size_not_heads_times_head_dim(ctx: RuleContext) -> Iterator[Hit]:
    """
    ## What it does
    Reports a config without `head_dim`, for a family that then takes
    `head_dim = hidden_size / num_attention_heads`, where that division is not exact.
    Families with a fixed `head_dim` default (e.g. Qwen3, 128) do not need the equality.

    ## Why is this bad?
    The q/k/v projections are built as `num_attention_heads * head_dim` wide, so a truncated
    `head_dim` makes weights of the wrong shape, and RoPE rotates the wrong width.

    ## Example
    ```json
    {"model_type": "llama", "hidden_size": 4100, "num_attention_heads": 32}
    ```

    ## Use instead:
    ```json
    {"model_type": "llama", "hidden_size": 4096, "num_attention_heads": 32}
    ```

    ## References
    - transformers `models/llama/modeling_llama.py`
      (`getattr(config, "head_dim", None) or hidden_size // num_attention_heads`).
    """
    if ctx.family is None or "base.head_dim" not in ctx.family.fields:
        return
    if "base.head_dim" not in ctx.values or ctx.values["base.head_dim"] is not None:
        return
    hidden, heads = ctx.value("base.hidden_size"), ctx.value("base.num_attention_heads")
    if isinstance(hidden, int) and isinstance(heads, int) and heads > 0 and hidden % heads:
        yield Hit(
            f"head_dim is absent, so it is hidden_size / num_attention_heads = {hidden} / {heads}, "
            "which is not an integer; set head_dim or fix the sizes",
            ctx.field_key("base.head_dim"),
        )


# --- MOE: experts and routing -------------------------------------------------------------


def _per_layer(value: Any) -> list[int]:
    """An int, or a per-layer list of ints (some families give one value per layer)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, int) and not isinstance(v, bool)]
    return []


def _top_k_pairs(ctx: RuleContext) -> Iterator[tuple[int, int]]:
    experts, top_k = _per_layer(ctx.value("moe.num_experts")), _per_layer(ctx.value("moe.num_experts_per_tok"))
    if len(experts) == 1:
        experts = experts * len(top_k)
    if len(top_k) == 1:
        top_k = top_k * len(experts)
    for e, k in zip(experts, top_k, strict=False):
        if e > 0:  # zero experts means the family builds no MoE block at all
            yield e, k


@rule(
    "MOE001",
    "experts-per-token-exceeds-expert-count",
    Severity.ERROR,
    "Top-k routes each token to more experts than exist.",
)
def _experts_per_token_exceeds_expert_count(ctx: RuleContext) -> Iterator[Hit]:
    """
    ## What it does
    Reports a top-k (`num_experts_per_tok`, or the family's spelling) larger than the number
    of routed experts.

    ## Why is this bad?
    `torch.topk` cannot pick more experts than exist, so the router fails at the first token.
    The usual cause is a pruned checkpoint whose expert count was updated but not its top-k.

    ## Example
    ```json
    {"num_experts": 8, "num_experts_per_tok": 16}
    ```

    ## Use instead:
    ```json
    {"num_experts": 8, "num_experts_per_tok": 2}
    ```

    ## References
    - transformers `models/mixtral/modeling_mixtral.py` (router `torch.topk`).
    """
    for experts, top_k in _top_k_pairs(ctx):
        if top_k > experts:
            yield Hit(
                f"top-k {top_k} exceeds the number of experts ({experts})",
                ctx.field_key("moe.num_experts_per_tok"),
            )
            return


@rule(
    "MOE002",
    "every-expert-active",
    Severity.WARNING,
    "Top-k equals the expert count: the model is not truly sparse.",
)
def _every_expert_active(ctx: RuleContext) -> Iterator[Hit]:
    """
    ## What it does
    Reports a top-k equal to the number of routed experts, so every token runs every expert.

    ## Why is this bad?
    The model pays for a router and expert dispatch but computes like a dense model:
    active parameters equal total parameters. It is usually a pruning or conversion slip.

    ## Example
    ```json
    {"num_experts": 8, "num_experts_per_tok": 8}
    ```

    ## Use instead:
    ```json
    {"num_experts": 8, "num_experts_per_tok": 2}
    ```

    ## References
    - Shazeer et al. 2017, "Outrageously Large Neural Networks" (sparsely-gated MoE).
    """
    for experts, top_k in _top_k_pairs(ctx):
        if top_k == experts:
            yield Hit(
                f"top-k equals the number of experts ({experts}): every token runs every expert, "
                "so the model is not truly sparse",
                ctx.field_key("moe.num_experts_per_tok"),
            )
            return


@functools.cache
def _moe_keys() -> frozenset[str]:
    """Top-level keys any registered MoE family reads for its expert block (fixed per run)."""
    return frozenset(
        key.split(".")[0]
        for family in FAMILIES.values()
        if family.is_moe
        for name, spec in family.fields.items()
        if name.startswith("moe.")
        for key in (spec.key, *spec.aliases)
    )


@rule(
    "MOE003",
    "expert-keys-on-dense-model-type",
    Severity.ERROR,
    "A dense model_type carries MoE keys, which it ignores.",
)
def _expert_keys_on_dense_model_type(ctx: RuleContext) -> Iterator[Hit]:
    """
    ## What it does
    Reports expert keys (any key an MoE family reads for its experts: `num_experts`,
    `num_local_experts`, `moe_intermediate_size`, ...) with a non-empty value in a config
    whose `model_type` is a dense family.

    ## Why is this bad?
    The dense class ignores them: a converted Mixtral labelled `mistral` loads as a dense
    model, drops its experts and warns about unused weights at best.

    ## Example
    ```json
    {"model_type": "mistral", "num_local_experts": 8, "num_experts_per_tok": 2}
    ```

    ## Use instead:
    ```json
    {"model_type": "mixtral", "num_local_experts": 8, "num_experts_per_tok": 2}
    ```

    ## References
    - transformers `models/auto/configuration_auto.py` (`model_type` picks the class).
    """
    family = ctx.family
    if family is None or family.is_moe:
        return
    own = {spec.key.split(".")[0] for spec in family.fields.values()}
    stray = sorted(k for k in _moe_keys() - own if ctx.data.get(k) not in (None, 0, False, [], {}))
    if stray:
        yield Hit(
            f"model_type '{family.model_type}' is dense but the config sets expert keys "
            f"({', '.join(stray)}), which it ignores",
            ctx.scope + stray[0],
        )


@rule(
    "MOE004",
    "moe-model-type-without-experts",
    Severity.ERROR,
    "An MoE model_type has no expert count.",
)
def _moe_model_type_without_experts(ctx: RuleContext) -> Iterator[Hit]:
    """
    ## What it does
    Reports a config whose `model_type` is an MoE family but which does not say how many
    experts it has, under any spelling the family accepts.

    ## Why is this bad?
    The class falls back on its model-size default (e.g. 128 experts for `qwen3_moe`, 8 for
    `mixtral`), which matches no checkpoint but the reference one; a dense checkpoint with a
    wrong `model_type` gets expert weights invented for it.

    ## Example
    ```json
    {"model_type": "qwen3_moe", "hidden_size": 4096, "intermediate_size": 12288}
    ```

    ## Use instead:
    ```json
    {"model_type": "qwen3", "hidden_size": 4096, "intermediate_size": 12288}
    ```

    ## References
    - transformers `models/qwen3_moe/configuration_qwen3_moe.py` (defaults).
    """
    family = ctx.family
    if family is None or not family.is_moe or (ctx.scope and not ctx.data):
        return
    spec = family.fields.get("moe.num_experts")
    if spec is not None and ctx.spelled_key(spec) is None:
        names = " or ".join(f"'{ctx.scope}{k}'" for k in (spec.key, *spec.aliases))
        yield Hit(
            f"model_type '{family.model_type}' is MoE but the config has no expert count ({names})",
            ctx.scope + spec.key,
        )


@rule(
    "MOE005",
    "layer-index-out-of-range",
    Severity.ERROR,
    "A layer list names a layer the model does not have.",
)
def _layer_index_out_of_range(ctx: RuleContext) -> Iterator[Hit]:
    """
    ## What it does
    Reports indices in a layer list of the expert schedule (`mlp_only_layers`, `moe_layers`)
    that are not below `num_hidden_layers`.

    ## Why is this bad?
    `transformers` silently ignores them, so the dense/MoE layer pattern is not the one the
    file describes; it usually means layers were pruned and the list was not updated.

    ## Example
    ```json
    {"num_hidden_layers": 24, "mlp_only_layers": [0, 24]}
    ```

    ## Use instead:
    ```json
    {"num_hidden_layers": 24, "mlp_only_layers": [0, 23]}
    ```

    ## References
    - transformers `models/qwen3_moe/modeling_qwen3_moe.py` (`Qwen3MoeDecoderLayer`).
    """
    family = ctx.family
    layers = ctx.value("base.num_hidden_layers")
    if family is None or not isinstance(layers, int):
        return
    for name, spec in family.fields.items():
        if not name.startswith("moe.") or spec.kind != "int_list":
            continue
        outside = sorted({i for i in ctx.value(name) or () if i >= layers})
        if outside:
            key = ctx.field_key(name)
            yield Hit(
                f"'{key}' names layers {outside}, beyond num_hidden_layers ({layers})", key
            )


@rule(
    "MOE006",
    "norm-topk-prob-absent",
    Severity.WARNING,
    "norm_topk_prob is absent, and engines disagree on its default.",
)
def _norm_topk_prob_absent(ctx: RuleContext) -> Iterator[Hit]:
    """
    ## What it does
    Reports a config of a family with a `norm_topk_prob` switch that does not set it.

    ## Why is this bad?
    Whether the top-k routing weights are renormalised to sum to one changes every MoE
    layer's output. `transformers` defaults to `false` for most families, while some Rust
    engines default to `true`: the same checkpoint then produces different text.

    ## Example
    ```json
    {"model_type": "qwen3_moe", "num_experts": 128, "num_experts_per_tok": 8}
    ```

    ## Use instead:
    ```json
    {"model_type": "qwen3_moe", "num_experts": 128, "num_experts_per_tok": 8,
     "norm_topk_prob": true}
    ```

    ## References
    - transformers `models/qwen3_moe/modeling_qwen3_moe.py` (`if self.norm_topk_prob`).
    """
    family = ctx.family
    if family is None or (ctx.scope and not ctx.data):
        return
    spec = family.fields.get("moe.norm_topk_prob")
    if spec is not None and ctx.spelled_key(spec) is None:
        default = "true" if spec.default is True else "false"
        yield Hit(
            f"'{ctx.scope}{spec.key}' is absent: transformers reads it as {default}, "
            "other engines may not; set it explicitly",
            ctx.scope + spec.key,
        )



@rule(
    "MOE007",
    "checkpoint-expert-count-mismatch",
    Severity.ERROR,
    "The safetensors weights beside the config hold a different number of experts.",
)
def _checkpoint_expert_count_mismatch(ctx: RuleContext) -> Iterator[Hit]:
    """
    ## What it does
    When the config sits in a folder with safetensors weights (`model.safetensors`, or shards
    listed in `model.safetensors.index.json`), counts the experts of every layer from the
    tensor names in the safetensors headers (per-expert `experts.7.down_proj.weight` or fused
    `experts.gate_up_proj` layouts) and reports each layer that disagrees with the config's
    expert count or MoE layer schedule. Only the headers are read, never the tensor data.

    ## Why is this bad?
    A config whose expert count differs from its weights is left behind by pruning experts
    or a botched conversion. `transformers` then fails to load the checkpoint or, with
    `ignore_mismatched_sizes`, silently initialises the missing experts at random, and every
    figure computed from the config (parameters, memory, active compute) describes a model
    that is not the one stored.

    ## Example
    A folder whose `model.safetensors` stores 4 experts per layer, beside:
    ```json
    {"model_type": "qwen3_moe", "num_experts": 8, "num_experts_per_tok": 2}
    ```

    ## Use instead:
    ```json
    {"model_type": "qwen3_moe", "num_experts": 4, "num_experts_per_tok": 2}
    ```

    ## References
    - `moecfg inspect DIR --checkpoint`, which reports the same comparison with the
      parameter counts.
    - safetensors format: an 8-byte header length, then the JSON header of names and shapes.
    """
    if ctx.config is None:
        return
    from moecfg.loading.files import holds_weights

    folder = Path(ctx.path).parent
    if not holds_weights(folder):
        return
    from moecfg.loading.checkpoint import expert_mismatches

    key = ctx.field_key("moe.num_experts") if ctx.config.moe is not None else None
    try:
        mismatches = expert_mismatches(ctx.config, folder)
    except MoecfgError as error:
        yield Hit(f"the weights beside the config cannot be read: {error.message}", key)
        return
    for mismatch in mismatches:
        yield Hit(mismatch, key)

ALL_RULES: tuple[Rule, ...] = tuple(
    sorted(
        (
            _unreadable_file,
            _invalid_json,
            _duplicate_key,
            _unknown_model_type,
            _missing_required_key,
            _wrong_value_type,
            _non_finite_number,
            _non_positive_size,
            _conflicting_alias_values,
            _deprecated_key_alongside_current,
            _remote_code_auto_map,
            _invalid_value,
            _model_type_read_through_architecture,
            _heads_not_divisible_by_kv_heads,
            _hidden_size_not_heads_times_head_dim,
            _experts_per_token_exceeds_expert_count,
            _every_expert_active,
            _expert_keys_on_dense_model_type,
            _moe_model_type_without_experts,
            _layer_index_out_of_range,
            _norm_topk_prob_absent,
            _checkpoint_expert_count_mismatch,
        ),
        key=lambda r: r.code,
    )
)
RULES_BY_CODE: dict[str, Rule] = {r.code: r for r in ALL_RULES}
