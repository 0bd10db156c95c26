"""Deployment memory: weights, KV cache and GPU fit for a context length, batch and dtypes.

Weights are sized from the TOTAL parameter count (every expert must be resident), while the
work per generated token (FLOPs, weight bytes read) follows the ACTIVE count; tools that swap
the two either recommend MoE models that do not fit or underestimate their speed. The KV cache
follows each layer's kind through `metrics.kv_cache`: sliding layers hold at most their
window, linear-attention and Mamba layers a fixed state per sequence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from moecfg import metrics
from moecfg.dtypes import CHECKPOINT, KV_DTYPE_BYTES, WEIGHT_DTYPE_BITS
from moecfg.errors import MoecfgError
from moecfg.model import ModelConfig


#: Parts a checkpoint quantizer converts (Linear weights); embeddings, lm_head, norms and the
#: router stay at the config dtype, as in the fp8 and mxfp4 checkpoints on the Hub.
QUANTIZED_PARTS = ("attention", "routed_experts", "shared_experts", "dense_mlp")
#: The module name ending a `modules_to_not_convert` pattern → the part it keeps unquantized.
_PART_BY_MODULE = {
    "self_attn": "attention",
    "attn": "attention",
    "experts": "routed_experts",
    "shared_expert": "shared_experts",
    "shared_experts": "shared_experts",
}
_DTYPE_BYTES = {"bfloat16": 2, "float16": 2, "float32": 4}
_SIZE_UNITS = {
    "B": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "KIB": 2**10,
    "MIB": 2**20,
    "GIB": 2**30,
    "TIB": 2**40,
}


class DeploymentError(MoecfgError):
    """A deployment option that cannot be applied to this config: a usage problem, exit 2."""

    code = "deployment"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeploymentSpec:
    """The deployment options; None context means the model's max_position_embeddings."""

    context: int | None = None
    batch: int = 1
    kv_dtype: str = "bf16"
    #: One of WEIGHT_DTYPES, or None for every dtype (and the checkpoint's, when it has one).
    weights_dtype: str | None = None
    gpu_memory_bytes: int | None = None
    #: The size as the user wrote it ("80GB"), so labels say what was asked, not 74.51 GiB.
    gpu_memory: str | None = None


def parse_memory_size(text: str) -> int:
    """'80GB' → 80·10⁹ bytes, '80GiB' → 80·2³⁰. A unit is required; GB is decimal, as sold.
    The number is read exactly (no float rounding) and must come to at least one byte."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)\s*", text, flags=re.IGNORECASE)
    if not match:
        raise DeploymentError(
            f"--gpu-memory: expected a size such as 80GB or 24GiB, got '{text}'", code="bad_size"
        )
    size = int(Fraction(match.group(1)) * _SIZE_UNITS[match.group(2).upper()])
    if size < 1:
        raise DeploymentError(
            f"--gpu-memory: a GPU needs at least one byte of memory, got '{text}'", code="bad_size"
        )
    return size


def build_deployment_spec(
    context: int | None,
    batch: int | None,
    kv_dtype: str | None,
    weights_dtype: str | None,
    gpu_memory: str | None,
) -> DeploymentSpec | None:
    """The spec from the command-line options, or None when no deployment option was given."""
    if (
        context is None
        and batch is None
        and kv_dtype is None
        and weights_dtype is None
        and gpu_memory is None
    ):
        return None
    return DeploymentSpec(
        context=context,
        batch=batch if batch is not None else 1,
        kv_dtype=str(kv_dtype.value if hasattr(kv_dtype, "value") else kv_dtype or "bf16"),
        weights_dtype=str(weights_dtype.value)
        if hasattr(weights_dtype, "value")
        else weights_dtype,
        gpu_memory_bytes=parse_memory_size(gpu_memory) if gpu_memory is not None else None,
        gpu_memory=gpu_memory.strip() if gpu_memory is not None else None,
    )


@dataclass(frozen=True, slots=True)
class CheckpointQuantization:
    """How a checkpoint's `quantization_config` stores weights."""

    method: str
    #: Exact, so checkpoint sizes stay whole-byte integers however large the model.
    bytes_per_weight: Fraction
    #: Parts the quantizer leaves at the config dtype.
    unconverted: frozenset[str]


def find_quantization_config(data: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for holder in (data, data.get("text_config")):
        if isinstance(holder, Mapping) and isinstance(holder.get("quantization_config"), Mapping):
            return holder["quantization_config"]
    return None


def read_checkpoint_quantization(quantization: Mapping[str, Any]) -> CheckpointQuantization:
    """Bytes per stored weight, scales included: fp8 with fp32 block scales, MXFP4 (4 bits plus
    one 8-bit scale per 32 values), or integer `bits` with an fp16 scale per `group_size`."""
    method = str(quantization.get("quant_method", "unknown"))
    if method == "fp8":
        size = Fraction(1)
        block = quantization.get("weight_block_size")
        if (
            isinstance(block, list)
            and len(block) == 2
            and all(isinstance(b, int) and b > 0 for b in block)
        ):
            size += Fraction(4, block[0] * block[1])
    elif method == "mxfp4":
        size = Fraction(1, 2) + Fraction(1, 32)
    elif isinstance(quantization.get("bits"), int) and quantization["bits"] > 0:
        size = Fraction(quantization["bits"], 8)
        group = quantization.get("group_size")
        if isinstance(group, int) and group > 0:
            size += Fraction(2, group)
    else:
        raise DeploymentError(
            f"--weights-dtype checkpoint: quant_method '{method}' is not understood "
            "(known: fp8, mxfp4, or a 'bits' key)",
            key="quantization_config.quant_method",
            code="unknown_quantization",
        )
    unconverted = set()
    for pattern in quantization.get("modules_to_not_convert") or ():
        if isinstance(pattern, str):
            part = _PART_BY_MODULE.get(pattern.rsplit(".", 1)[-1])
            if part is not None:
                unconverted.add(part)
    return CheckpointQuantization(method, size, frozenset(unconverted))


def active_parts(counts: metrics.ParamCounts) -> dict[str, int]:
    """The parts a token uses: `routed_experts` holds only the experts it is routed to."""
    parts = dict(counts.parts)
    parts["routed_experts"] = counts.active - (counts.total - counts.parts["routed_experts"])
    return parts


def non_weight_params(config: ModelConfig, active: bool = False) -> dict[str, int]:
    """Parameters inside quantized parts that are not Linear weights (biases, norms, sinks,
    convolutions, state-space parameters): quantizers leave them at the config dtype. Taken from
    `metrics.count_non_weight_params`, so every layer kind and per-layer shape is counted as the
    parameter count counts it. `active` counts only the experts a token uses."""
    counts = metrics.count_non_weight_params(config)
    parts = active_parts(counts) if active else counts.parts
    return {part: parts[part] for part in QUANTIZED_PARTS}


def _checkpoint_bytes(
    parts: Mapping[str, int],
    kept_inside: Mapping[str, int],
    quant: CheckpointQuantization,
    dtype_bytes: int,
) -> int:
    quantized = sum(
        v - kept_inside.get(part, 0)
        for part, v in parts.items()
        if part in QUANTIZED_PARTS and part not in quant.unconverted
    )
    kept = sum(parts.values()) - quantized
    return int(quantized * quant.bytes_per_weight + kept * dtype_bytes)


def _weight_dtypes(spec: DeploymentSpec, quantization: Mapping[str, Any] | None) -> list[str]:
    if spec.weights_dtype == CHECKPOINT and quantization is None:
        raise DeploymentError(
            "--weights-dtype checkpoint: the config has no quantization_config",
            key="quantization_config",
            code="no_quantization",
        )
    if spec.weights_dtype is not None:
        return [spec.weights_dtype]
    return [*WEIGHT_DTYPE_BITS, *([CHECKPOINT] if quantization is not None else [])]


def kv_cache_groups(
    config: ModelConfig, context: int, batch: int, dtype_bytes: int
) -> list[dict[str, Any]]:
    """Each layer kind's share of the cache for `batch` sequences of `context` tokens.

    `tokens_held` is the positions each sequence's cache keeps: the window or the whole context,
    for a compressed group its `context // compress_rate` entries, and 0 for a fixed state.
    """
    return [
        {
            "kind": group.kind,
            "layers": group.layers,
            "tokens_held": metrics.kv_group_positions(group, context),
            "bytes": metrics.kv_group_bytes(group, context) * batch,
        }
        for group in metrics.kv_cache(config, dtype_bytes)
    ]


def deployment_report(
    config: ModelConfig, raw_data: Mapping[str, Any], spec: DeploymentSpec
) -> dict[str, Any]:
    """Memory and per-token work for one deployment, per weight dtype, and whether it fits."""
    context = spec.context if spec.context is not None else config.base.max_position_embeddings
    if context is None:
        raise DeploymentError(
            "--context is needed: the config has no max_position_embeddings", code="no_context"
        )
    params = metrics.count_params(config)
    quantization = find_quantization_config(raw_data)
    dtypes = _weight_dtypes(spec, quantization)
    weights: dict[str, int] = {}
    read_per_token: dict[str, int] = {}
    for dtype in dtypes:
        if dtype == CHECKPOINT:
            assert quantization is not None
            quant = read_checkpoint_quantization(quantization)
            kept = _DTYPE_BYTES.get(config.base.dtype or "", 2.0)
            weights[dtype] = _checkpoint_bytes(params.parts, non_weight_params(config), quant, kept)
            read_per_token[dtype] = _checkpoint_bytes(
                active_parts(params), non_weight_params(config, active=True), quant, kept
            )
        else:
            weights[dtype] = metrics.weight_bytes(params.total)[dtype]
            read_per_token[dtype] = metrics.weight_bytes(params.active)[dtype]
    kv_dtype_bytes = KV_DTYPE_BYTES[spec.kv_dtype]
    groups = kv_cache_groups(config, context, spec.batch, kv_dtype_bytes)
    kv_bytes = metrics.kv_cache_bytes(config, context, spec.batch, kv_dtype_bytes)
    totals = {dtype: weights[dtype] + kv_bytes for dtype in dtypes}
    fits = None
    if spec.gpu_memory_bytes is not None:
        fits = {
            dtype: {
                "fits": spec.gpu_memory_bytes >= total,
                "headroom_bytes": spec.gpu_memory_bytes - total,
            }
            for dtype, total in totals.items()
        }
    return {
        "context": context,
        "batch": spec.batch,
        "kv_dtype": spec.kv_dtype,
        "checkpoint_quantization": (
            str(quantization.get("quant_method")) if quantization is not None else None
        ),
        "kv_cache_bytes": kv_bytes,
        "kv_cache_groups": groups,
        "weights_bytes": weights,
        "total_bytes": totals,
        "flops_per_token": 2 * params.active,
        "weight_bytes_read_per_token": read_per_token,
        "gpu_memory_bytes": spec.gpu_memory_bytes,
        "gpu_memory": spec.gpu_memory,
        "fits": fits,
    }
