"""GGUF metadata → an HF-style config dict for the matching family adapter.

llama.cpp writes `general.architecture` plus `{arch}.*` hyperparameters (gguf-py
`Keys.LLM`). Each supported architecture maps those keys onto the config.json keys its
transformers family reads, so a GGUF goes through the same adapter, metrics and report as a
config.json. Facts GGUF has no key for are taken from the tensor infos where they are
unambiguous (a missing `output.weight` means a tied head; layers without expert tensors
are dense; bias tensors mean biased projections). Anything else is left out of the dict and
reported as "missing", never guessed: `annotate` relabels the family default it got, and
refuses to count parameters from a default that sizes any of them.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moecfg.errors import ConfigError
from moecfg.loading.gguf import FLOAT_TYPES, INTEGER_TYPES, GgufArray, GgufHeader
from moecfg.model import ModelConfig

if TYPE_CHECKING:
    from moecfg.loading.files import RawConfig

#: Fields that only describe the model (no parameter count depends on them): when a GGUF
#: does not carry them they are shown as unknown (None) rather than as a family default.
DESCRIPTIVE_FIELDS = frozenset({
    "base.max_position_embeddings",
    "base.rope_theta",
    "base.rope_scaling",
    "base.rms_norm_eps",
    "base.dtype",
    "base.sliding_window",
    "base.attention_chunk_size",
    "moe.norm_topk_prob",
    "moe.routed_scaling_factor",
    "moe.n_group",
    "moe.topk_group",
    "moe.topk_method",
})

#: Fields no parameter count depends on but other figures (KV cache, attention schedule) read:
#: when a GGUF lacks them they keep the family value, shown as "missing".
UNCOUNTED_FIELDS = frozenset({
    "base.rope_parameters",
    "base.layer_types",
    "base.no_rope_layers",
    "base.no_rope_layer_interval",
    "base.use_sliding_window",
    "base.max_window_layers",
    "moe.moe_layer_freq",
})

#: Latent attention (MLA) sizes its projections from `base.mla`: these GQA fields count nothing.
UNCOUNTED_WITH_MLA = frozenset({"base.num_key_value_heads", "base.head_dim"})

#: llama.cpp's expert gating enum (src/llama-hparams.h; gguf-py `ExpertGatingFuncType`).
SOFTMAX_GATING, SIGMOID_GATING = 1, 2
GATING_FUNCS = {SOFTMAX_GATING: "softmax", SIGMOID_GATING: "sigmoid", 3: "softmax_weight"}


@dataclass
class GgufConfig:
    """The HF-style dict built from a GGUF, and where each of its keys came from."""

    data: dict[str, Any] = field(default_factory=dict)
    #: HF key → provenance label ("gguf:<key>", "derived:tensors", "derived:tokenizer").
    origin: dict[str, str] = field(default_factory=dict)

    def put(self, hf_key: str, value: Any, origin: str) -> None:
        self.data[hf_key] = value
        self.origin[hf_key] = origin


class _Metadata:
    """Typed access to `{arch}.*` keys: integers of any width, per-layer arrays, floats, bools."""

    def __init__(self, header: GgufHeader, arch: str) -> None:
        self.header = header
        self.arch = arch

    def name(self, suffix: str) -> str:
        return f"{self.arch}.{suffix}"

    def _wrong(self, key: str, expected: str, got: str) -> ConfigError:
        return ConfigError(f"wrong type for '{key}': expected {expected}, got {got}", key=key, code="wrong_type")

    def int(self, suffix: str) -> int | None:
        """An integer, or a per-layer array whose entries all agree."""
        key = self.name(suffix)
        entry = self.header.metadata.get(key)
        if entry is None:
            return None
        if entry.type in INTEGER_TYPES:
            return int(entry.value)
        array = entry.value
        if isinstance(array, GgufArray) and array.element_type in INTEGER_TYPES and array.items:
            distinct = sorted(set(array.items))
            if len(distinct) > 1:
                raise ConfigError(
                    f"unsupported value for '{key}': per-layer values differ ({distinct}); "
                    "moecfg models one value for every layer",
                    key=key,
                    code="per_layer_values",
                )
            return int(distinct[0])
        return self._raise_wrong(key, "an integer or an array of integers", entry)

    def float(self, suffix: str) -> float | None:
        key = self.name(suffix)
        entry = self.header.metadata.get(key)
        if entry is None:
            return None
        if entry.type in FLOAT_TYPES or entry.type in INTEGER_TYPES:
            return float(entry.value)
        return self._raise_wrong(key, "a number", entry)

    def bool(self, suffix: str) -> bool | None:
        key = self.name(suffix)
        entry = self.header.metadata.get(key)
        if entry is None:
            return None
        if entry.type == "bool":
            return bool(entry.value)
        return self._raise_wrong(key, "a boolean", entry)

    def _raise_wrong(self, key: str, expected: str, entry: Any) -> Any:
        if entry.type == "array":
            got = f"an array of {entry.value.length} {entry.value.element_type}"
        else:
            shown = repr(entry.value)[:40]
            got = f"{entry.type} ({shown})"
        raise self._wrong(key, expected, got)


def _copy(out: GgufConfig, meta: _Metadata, pairs: Mapping[str, tuple[str, str]]) -> None:
    """Copy `{arch}.<suffix>` into each HF key, for the keys the file carries."""
    for hf_key, (suffix, kind) in pairs.items():
        value = getattr(meta, kind)(suffix)
        if value is not None:
            out.put(hf_key, value, f"gguf:{meta.name(suffix)}")


BASE_KEYS = {
    "hidden_size": ("embedding_length", "int"),
    "num_hidden_layers": ("block_count", "int"),
    "num_attention_heads": ("attention.head_count", "int"),
    "num_key_value_heads": ("attention.head_count_kv", "int"),
    "head_dim": ("attention.key_length", "int"),
    "max_position_embeddings": ("context_length", "int"),
    "rope_theta": ("rope.freq_base", "float"),
    "rms_norm_eps": ("attention.layer_norm_rms_epsilon", "float"),
    "sliding_window": ("attention.sliding_window", "int"),
}

_EXPERT_TENSOR = re.compile(r"^blk\.(\d+)\.ffn_(gate|up|down|gate_up)_exps\.")
#: NextN (multi-token prediction) blocks llama.cpp keeps (GLM-4.5): `blk.N.nextn.*`.
_NEXTN_TENSOR = re.compile(r"^blk\.(\d+)\.nextn\.")
#: A biased dense or shared-expert MLP projection (DeepSeek-V2's `mlp_bias`).
_MLP_BIAS_TENSOR = re.compile(r"^blk\.\d+\.ffn_(gate|up|down)(_shexp)?\.bias$")


def _tensor_facts(header: GgufHeader, out: GgufConfig) -> set[int]:
    """Tied head, attention bias, and the layers holding experts, from tensor names."""
    names = {t.name for t in header.tensors}
    moe_layers = {int(m.group(1)) for n in names if (m := _EXPERT_TENSOR.match(n))}
    if not header.tensors:
        return moe_layers
    out.put("tie_word_embeddings", "output.weight" not in names, "derived:tensors")
    out.put("attention_bias", "blk.0.attn_q.bias" in names or "blk.0.attn_qkv.bias" in names,
            "derived:tensors")
    return moe_layers


def _vocab_size(header: GgufHeader, meta: _Metadata, out: GgufConfig) -> None:
    explicit = meta.int("vocab_size")
    if explicit is not None:
        out.put("vocab_size", explicit, f"gguf:{meta.name('vocab_size')}")
        return
    for tensor in header.tensors:
        if tensor.name == "token_embd.weight" and len(tensor.shape) == 2:
            out.put("vocab_size", tensor.shape[1], "derived:tensors")
            return
    tokens = header.metadata.get("tokenizer.ggml.tokens")
    if tokens is not None and isinstance(tokens.value, GgufArray):
        out.put("vocab_size", tokens.value.length, "derived:tokenizer")


def _dense_layers(out: GgufConfig, moe_layers: set[int]) -> list[int] | None:
    layers = out.data.get("num_hidden_layers")
    if not moe_layers or not isinstance(layers, int):
        return None
    return [i for i in range(layers) if i not in moe_layers]


def _qwen(out: GgufConfig, meta: _Metadata, moe_layers: set[int]) -> None:
    _copy(out, meta, {
        "intermediate_size": ("feed_forward_length", "int"),
        "num_experts": ("expert_count", "int"),
        "num_experts_per_tok": ("expert_used_count", "int"),
        "moe_intermediate_size": ("expert_feed_forward_length", "int"),
        "shared_expert_intermediate_size": ("expert_shared_feed_forward_length", "int"),
        "norm_topk_prob": ("expert_weights_norm", "bool"),
    })
    dense = _dense_layers(out, moe_layers)
    if dense is not None:
        out.put("mlp_only_layers", dense, "derived:tensors")
        out.put("decoder_sparse_step", 1, "derived:tensors")
    if "attention_bias" in out.data:
        out.put("qkv_bias", out.data["attention_bias"], "derived:tensors")


def _every_layer_moe(count_key: str) -> Callable[[GgufConfig, _Metadata, set[int]], None]:
    """Mixtral, OLMoE, gpt-oss: every layer is MoE and `intermediate_size` is the expert width."""

    def fill(out: GgufConfig, meta: _Metadata, moe_layers: set[int]) -> None:
        _copy(out, meta, {
            count_key: ("expert_count", "int"),
            "num_experts_per_tok": ("expert_used_count", "int"),
            "norm_topk_prob": ("expert_weights_norm", "bool"),
        })
        width = "expert_feed_forward_length"
        if meta.int(width) is None:
            width = "feed_forward_length"
        _copy(out, meta, {"intermediate_size": (width, "int")})

    return fill


def _deepseek_style(out: GgufConfig, meta: _Metadata, moe_layers: set[int]) -> None:
    """DeepSeek-V2/V3 and GLM-4-MoE: routed + shared experts after leading dense blocks."""
    _copy(out, meta, {
        "intermediate_size": ("feed_forward_length", "int"),
        "n_routed_experts": ("expert_count", "int"),
        "num_experts_per_tok": ("expert_used_count", "int"),
        "moe_intermediate_size": ("expert_feed_forward_length", "int"),
        "n_shared_experts": ("expert_shared_count", "int"),
        "first_k_dense_replace": ("leading_dense_block_count", "int"),
        "routed_scaling_factor": ("expert_weights_scale", "float"),
        "norm_topk_prob": ("expert_weights_norm", "bool"),
        "n_group": ("expert_group_count", "int"),
        "topk_group": ("expert_group_used_count", "int"),
        "num_nextn_predict_layers": ("nextn_predict_layers", "int"),
    })
    if "num_nextn_predict_layers" in out.data:
        out.put("num_mtp_layers", out.data.pop("num_nextn_predict_layers"),
                out.origin.pop("num_nextn_predict_layers"))
    elif meta.header.tensors:
        # No key: the file holds the NextN blocks its tensor infos list (llama.cpp's deepseek2
        # converter drops DeepSeek-V3's MTP layer, so there it holds none).
        nextn = {int(m.group(1)) for t in meta.header.tensors if (m := _NEXTN_TENSOR.match(t.name))}
        out.put("num_mtp_layers", len(nextn), "derived:tensors")


def _glm4moe(out: GgufConfig, meta: _Metadata, moe_layers: set[int]) -> None:
    """GLM-4.5: llama.cpp's converter counts the NextN (MTP) blocks in `block_count`."""
    _deepseek_style(out, meta, moe_layers)
    if meta.header.tensors:
        names = {t.name for t in meta.header.tensors}
        out.put("use_qk_norm", "blk.0.attn_q_norm.weight" in names, "derived:tensors")
    layers, mtp = out.data.get("num_hidden_layers"), out.data.get("num_mtp_layers")
    if isinstance(layers, int) and isinstance(mtp, int) and 0 < mtp < layers:
        out.put("num_hidden_layers", layers - mtp,
                f"derived:{meta.name('block_count')} - {meta.name('nextn_predict_layers')}")


def _deepseek2(out: GgufConfig, meta: _Metadata, moe_layers: set[int]) -> None:
    _deepseek_style(out, meta, moe_layers)
    out.data.pop("head_dim", None)
    out.origin.pop("head_dim", None)
    _copy(out, meta, {
        "q_lora_rank": ("attention.q_lora_rank", "int"),
        "kv_lora_rank": ("attention.kv_lora_rank", "int"),
        "qk_rope_head_dim": ("rope.dimension_count", "int"),
        "v_head_dim": ("attention.value_length", "int"),
    })
    _copy(out, meta, {"v_head_dim": ("attention.value_length_mla", "int")})
    key_suffix = "attention.key_length_mla" if meta.int("attention.key_length_mla") else "attention.key_length"
    qk_head_dim, rope = meta.int(key_suffix), out.data.get("qk_rope_head_dim")
    if qk_head_dim is not None and rope is not None:
        out.put("qk_nope_head_dim", qk_head_dim - rope, f"gguf:{meta.name(key_suffix)}")
    if "num_key_value_heads" in out.data and meta.int("attention.key_length_mla") is not None:
        # The converter stores MLA as multi-query attention over the latent (head_count_kv 1):
        # llama.cpp's layout, not the checkpoint's num_key_value_heads.
        out.data.pop("num_key_value_heads")
        out.origin.pop("num_key_value_heads")
    tensors = {t.name: t for t in meta.header.tensors}
    if "q_lora_rank" not in out.data:
        # V2-Lite has no q_lora_rank: a plain q_proj (attn_q) instead of attn_q_a → attn_q_b.
        q_a = tensors.get("blk.0.attn_q_a.weight")
        if q_a is not None and len(q_a.shape) == 2:
            out.put("q_lora_rank", q_a.shape[1], "derived:tensors")
        elif "blk.0.attn_q.weight" in tensors:
            out.put("q_lora_rank", None, "derived:tensors")
    if tensors:
        out.put("mlp_bias", any(_MLP_BIAS_TENSOR.match(name) for name in tensors), "derived:tensors")


def _llama4(out: GgufConfig, meta: _Metadata, moe_layers: set[int]) -> None:
    _copy(out, meta, {
        "intermediate_size_mlp": ("feed_forward_length", "int"),
        "intermediate_size": ("expert_feed_forward_length", "int"),
        "num_local_experts": ("expert_count", "int"),
        "num_experts_per_tok": ("expert_used_count", "int"),
        "interleave_moe_layer_step": ("interleave_moe_layer_step", "int"),
    })
    if moe_layers:
        out.put("moe_layers", sorted(moe_layers), "derived:tensors")


def _dense_llama(out: GgufConfig, meta: _Metadata, moe_layers: set[int]) -> None:
    _copy(out, meta, {"intermediate_size": ("feed_forward_length", "int")})


@dataclass(frozen=True)
class ArchMapping:
    model_type: str
    architecture: str
    fill: Callable[[GgufConfig, _Metadata, set[int]], None]


#: llama.cpp has no mixtral architecture: Mixtral is `llama` with `llama.expert_count` > 0.
LLAMA_WITH_EXPERTS = ArchMapping("mixtral", "MixtralForCausalLM", _every_layer_moe("num_local_experts"))
LLAMA_DENSE = ArchMapping("llama", "LlamaForCausalLM", _dense_llama)
#: llama.cpp's `deepseek2` holds both: V3 is written with a sigmoid router
#: (expert_gating_func 2); V2 with softmax (1), or without the key in files converted
#: before it existed, which llama.cpp reads as softmax.
DEEPSEEK_V3 = ArchMapping("deepseek_v3", "DeepseekV3ForCausalLM", _deepseek2)
DEEPSEEK_V2 = ArchMapping("deepseek_v2", "DeepseekV2ForCausalLM", _deepseek2)

ARCHITECTURES: dict[str, ArchMapping] = {
    "qwen3moe": ArchMapping("qwen3_moe", "Qwen3MoeForCausalLM", _qwen),
    "qwen2moe": ArchMapping("qwen2_moe", "Qwen2MoeForCausalLM", _qwen),
    "olmoe": ArchMapping("olmoe", "OlmoeForCausalLM", _every_layer_moe("num_experts")),
    "gpt-oss": ArchMapping("gpt_oss", "GptOssForCausalLM", _every_layer_moe("num_local_experts")),
    "llama4": ArchMapping("llama4", "Llama4ForConditionalGeneration", _llama4),
    "glm4moe": ArchMapping("glm4_moe", "Glm4MoeForCausalLM", _glm4moe),
}


def _resolve_arch(header: GgufHeader) -> tuple[str, ArchMapping]:
    entry = header.metadata.get("general.architecture")
    if entry is None:
        raise ConfigError("missing required key 'general.architecture'", key="general.architecture",
                          code="missing_key")
    if entry.type != "string":
        raise ConfigError(f"wrong type for 'general.architecture': expected a string, got {entry.type}",
                          key="general.architecture", code="wrong_type")
    arch = entry.value
    meta = _Metadata(header, arch)
    if arch == "llama":
        return arch, LLAMA_WITH_EXPERTS if (meta.int("expert_count") or 0) > 0 else LLAMA_DENSE
    if arch == "deepseek2":
        return arch, DEEPSEEK_V3 if meta.int("expert_gating_func") == SIGMOID_GATING else DEEPSEEK_V2
    if arch not in ARCHITECTURES:
        supported = ", ".join(sorted([*ARCHITECTURES, "llama", "deepseek2"]))
        raise ConfigError(
            f"unsupported GGUF architecture '{arch}' (supported: {supported})",
            key="general.architecture",
            code="unsupported_model_type",
        )
    return arch, ARCHITECTURES[arch]


def gguf_to_config(header: GgufHeader) -> GgufConfig:
    """The HF-style dict for the adapter of the file's architecture."""
    arch, mapping = _resolve_arch(header)
    meta = _Metadata(header, arch)
    out = GgufConfig()
    out.put("model_type", mapping.model_type, "gguf:general.architecture")
    out.put("architectures", [mapping.architecture], "gguf:general.architecture")
    _copy(out, meta, BASE_KEYS)
    _vocab_size(header, meta, out)
    moe_layers = _tensor_facts(header, out)
    mapping.fill(out, meta, moe_layers)
    gating = meta.int("expert_gating_func")
    if gating is not None:
        out.put("scoring_func", GATING_FUNCS.get(gating, str(gating)), f"gguf:{meta.name('expert_gating_func')}")
    return out


def translate_error(error: ConfigError, origin_by_key: Mapping[str, str]) -> ConfigError:
    """Name the GGUF key instead of the HF key the adapter complained about."""
    message, key = error.message, error.key
    for hf_key, origin in origin_by_key.items():
        if origin.startswith("gguf:") and f"'{hf_key}'" in message:
            gguf_key = origin.removeprefix("gguf:")
            message = message.replace(f"'{hf_key}'", f"'{gguf_key}'")
            key = gguf_key if key == hf_key else key
        elif f"'{hf_key}'" in message and origin.startswith("derived"):
            message = message.replace(f"'{hf_key}'", f"'{hf_key}' ({origin.removeprefix('derived:')})")
    if "missing required key" in message and key == error.key:
        message += " (not in the GGUF metadata)"
    return ConfigError(message, key=key, code=error.code)


def _uncountable(spec_key: str) -> ConfigError:
    return ConfigError(
        f"cannot count parameters: the GGUF does not say '{spec_key}' (no metadata key, and no "
        "tensor infos it can be derived from)",
        key=spec_key,
        code="missing_key",
    )


def annotate(config: ModelConfig, origin_by_key: Mapping[str, str]) -> ModelConfig:
    """Relabel provenance with GGUF keys; fields the file lacks become "missing" (unknown).

    A missing field that sizes a parameter would make the count the family default's: that
    is refused with a ConfigError naming the field, rather than counted.
    """
    from moecfg.families import FAMILIES

    fields = FAMILIES[config.family].fields
    uncounted = DESCRIPTIVE_FIELDS | UNCOUNTED_FIELDS
    if config.base.mla is not None:
        uncounted |= UNCOUNTED_WITH_MLA
    provenance = dict(config.provenance)
    unknown: dict[str, dict[str, Any]] = {"base": {}, "moe": {}}
    for name, how in config.provenance.items():
        spec = fields.get(name)
        keys = (spec.key, *spec.aliases) if spec is not None else ()
        origin = next((origin_by_key[k] for k in keys if k in origin_by_key), None)
        if origin is not None and (how == "present" or how.startswith("alias:")):
            provenance[name] = origin
        elif how == "default":
            if name not in uncounted and spec is not None:
                raise _uncountable(spec.key)
            provenance[name] = "missing"
            part, attr = name.split(".", 1)
            if name in DESCRIPTIVE_FIELDS and part in unknown:
                unknown[part][attr] = None
    base = dataclasses.replace(config.base, **{k: v for k, v in unknown["base"].items()
                                               if hasattr(config.base, k)})
    moe = config.moe
    if moe is not None:
        moe = dataclasses.replace(moe, **{k: v for k, v in unknown["moe"].items() if hasattr(moe, k)})
    return dataclasses.replace(config, base=base, moe=moe, provenance=provenance)


def parse_source_config(raw: RawConfig) -> ModelConfig:
    """`parse_config`, with GGUF keys named in errors and provenance when the source was one."""
    from moecfg.families import parse_config

    if not raw.origin:
        return parse_config(raw)
    try:
        config = parse_config(raw)
    except ConfigError as error:
        raise translate_error(error, raw.origin) from None
    return annotate(config, raw.origin)


def load_gguf_config(path: Path) -> GgufConfig:
    from moecfg.loading.gguf import read_gguf

    return gguf_to_config(read_gguf(path))
