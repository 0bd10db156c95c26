"""The checkpoint cross-check: does the config describe the weights it ships with?

Parameters are counted from the safetensors shapes (headers only) and compared with the
count moecfg derives from the config: equal, or different by tensors that explain it (MTP
layers, a vision tower, a stored or missing lm_head, buffers), or a mismatch. Experts are
counted per layer from tensor names, in per-expert (`experts.7.down_proj.weight`) and fused
(`experts.gate_up_proj`, experts first) layouts, and compared with `num_experts`. Packed
quantization stores several weights per element, so its element counts are reported as not
comparable instead of as a wrong parameter count.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from moecfg.errors import SourceError
from moecfg.loading.files import RawConfig, holds_weights
from moecfg.loading.safetensors_header import (
    TensorInfo,
    read_checkpoint_tensors,
    weight_files,
)
from moecfg.model import ModelConfig

#: quant_method values whose stored element counts are not parameter counts (packed ints,
#: fp4 blocks) or come with extra scale tensors (fp8).
NOT_COMPARABLE_QUANT = {
    "gptq": "GPTQ packs several weights per int32 element",
    "awq": "AWQ packs several weights per int32 element",
    "compressed-tensors": "compressed-tensors may pack weights and adds scale tensors",
    "mxfp4": "MXFP4 stores two weights per byte in blocks with scales",
    "fp8": "FP8 checkpoints add weight scale tensors",
    "bitsandbytes": "bitsandbytes packs 4-bit weights",
    "hqq": "HQQ packs quantized weights",
    "aqlm": "AQLM stores codebooks, not weights",
}

_PER_EXPERT = re.compile(r"layers\.(\d+)\..*\.experts\.(\d+)\.(.+?)(?:\.weight|\.bias)?$")
_FUSED = re.compile(r"layers\.(\d+)\..*\.experts\.([A-Za-z_]+?)(?:\.weight)?$")
_LAYER = re.compile(r"(?:^|\.)layers\.(\d+)\.")
_VISION = re.compile(r"(vision_tower|vision_model|visual\.|multi_modal_projector|audio_tower|vision_)")
_MTP = re.compile(r"(^|\.)mtp[._]")
_BUFFERS = re.compile(r"(e_score_correction_bias|rotary_emb\.inv_freq)$")
MAX_LISTED_FINDINGS = 8


def quantization_method(data: Mapping[str, Any]) -> str | None:
    """`quant_method` from `quantization_config`, top-level or under `text_config`."""
    for scope in (data, data.get("text_config")):
        if isinstance(scope, Mapping) and isinstance(scope.get("quantization_config"), Mapping):
            method = scope["quantization_config"].get("quant_method")
            return str(method).lower() if method is not None else "unknown"
    return None


def expert_counts(tensors: Iterable[TensorInfo]) -> dict[int, dict[str, int]]:
    """Layer → projection → number of experts found for it."""
    per_expert: dict[int, dict[str, set[int]]] = {}
    fused: dict[int, dict[str, int]] = {}
    for tensor in tensors:
        if (match := _PER_EXPERT.search(tensor.name)) is not None:
            layer, expert, projection = int(match[1]), int(match[2]), match[3]
            per_expert.setdefault(layer, {}).setdefault(projection, set()).add(expert)
        elif (match := _FUSED.search(tensor.name)) is not None and tensor.shape:
            projection = match[2]
            if projection.endswith(("_bias", "_scales", "_blocks")):
                continue
            fused.setdefault(int(match[1]), {})[projection] = tensor.shape[0]
    counts = {layer: {p: len(ids) for p, ids in projs.items()} for layer, projs in per_expert.items()}
    for layer, projections in fused.items():
        counts.setdefault(layer, {}).update(projections)
    return counts


def _experts_key(config: ModelConfig) -> str:
    """The config key num_experts was read from, as the user wrote it."""
    from moecfg.families import FAMILIES

    how = config.provenance.get("moe.num_experts", "")
    if how.startswith("alias:"):
        return how.removeprefix("alias:")
    family = FAMILIES.get(config.family)
    spec = family.fields.get("moe.num_experts") if family is not None else None
    return spec.key if spec is not None else "num_experts"


def _expert_findings(config: ModelConfig, counts: dict[int, dict[str, int]]) -> list[str]:
    moe = config.moe
    expected = moe.num_experts if moe is not None else 0
    moe_layers = set(moe.moe_layers) if moe is not None else set()
    if moe is not None and not counts:
        return [f"no expert tensors found, the config says {expected} experts per MoE layer"]
    findings = []
    per_layer = {layer: max(projs.values()) for layer, projs in counts.items()}
    if moe is not None and set(per_layer) == moe_layers and len(set(per_layer.values())) == 1:
        (found,) = set(per_layer.values())
        if found != expected and all(set(p.values()) == {found} for p in counts.values()):
            return [f"every MoE layer holds {found} experts, the config says {expected} ({_experts_key(config)})"]
    projections = sorted({p for projs in counts.values() for p in projs})
    for layer in sorted(moe_layers | set(counts)):
        if layer not in moe_layers:
            findings.append(f"layer {layer} holds expert tensors but the config makes it dense")
            continue
        found = counts.get(layer)
        if found is None:
            findings.append(f"layer {layer} has no expert tensors, the config says {expected} experts")
            continue
        for projection in projections:
            n = found.get(projection, 0)
            if n != expected:
                findings.append(f"layer {layer} has {projection} for {n} experts, the config says {expected}")
    return findings


def expert_mismatches(config: ModelConfig, folder: Path) -> list[str]:
    """How the experts stored in `folder` disagree with the config, one line each, capped.

    Raises SourceError when the weights cannot be read (a lying header, a missing shard).
    """
    counts = expert_counts(read_checkpoint_tensors(folder).values())
    return _capped(_expert_findings(config, counts) if (config.moe or counts) else [])


def _capped(findings: list[str]) -> list[str]:
    listed = findings[:MAX_LISTED_FINDINGS]
    if len(findings) > len(listed):
        listed.append(f"... and {len(findings) - len(listed)} more expert mismatches")
    return listed


def _explanations(config: ModelConfig, tensors: Mapping[str, TensorInfo]) -> list[dict[str, Any]]:
    """Tensors a checkpoint may legitimately hold beyond (or lack against) the config count."""
    base = config.base
    groups: dict[str, list[TensorInfo]] = {"MTP layers": [], "vision/audio tower": [], "buffers": []}
    for tensor in tensors.values():
        layer = _LAYER.search(tensor.name)
        if _VISION.search(tensor.name):
            groups["vision/audio tower"].append(tensor)
        elif _MTP.search(tensor.name) or (layer is not None and int(layer[1]) >= base.num_hidden_layers):
            groups["MTP layers"].append(tensor)
        elif _BUFFERS.search(tensor.name):
            groups["buffers"].append(tensor)
    out = [
        {"what": what, "params": sum(t.numel for t in found), "tensors": len(found)}
        for what, found in groups.items()
        if found
    ]
    head = base.vocab_size * base.hidden_size
    has_head = "lm_head.weight" in tensors
    if base.tie_word_embeddings and has_head:
        out.append({"what": "lm_head stored although the config ties it", "params": head, "tensors": 1})
    elif not base.tie_word_embeddings and not has_head and tensors:
        out.append({"what": "lm_head absent (tied in the weights)", "params": -head, "tensors": 0})
    return out


def cross_check(config: ModelConfig, data: Mapping[str, Any], folder: Path, config_total: int) -> dict[str, Any]:
    """The `checkpoint` section of the report for the weights in `folder`."""
    tensors = read_checkpoint_tensors(folder)
    elements = sum(t.numel for t in tensors.values())
    quant = quantization_method(data)
    findings: list[str] = []
    explained_by: list[dict[str, Any]] = []
    if quant is not None:
        reason = NOT_COMPARABLE_QUANT.get(quant, f"quantization '{quant}' changes element counts")
        params_status = "not_comparable"
        findings.append(f"element counts are not parameter counts: {reason}")
    elif elements == config_total:
        params_status = "match"
    else:
        explained_by = _explanations(config, tensors)
        if elements - sum(e["params"] for e in explained_by) == config_total:
            params_status = "explained"
        else:
            params_status = "mismatch"
            findings.append(
                f"the weights hold {elements:,} parameters, the config describes {config_total:,} "
                f"({elements - config_total:+,})"
            )
    counts = expert_counts(tensors.values())
    expert_findings = _expert_findings(config, counts) if (config.moe or counts) else []
    findings.extend(_capped(expert_findings))
    if params_status == "mismatch" or expert_findings:
        status = "mismatch"
    else:
        status = params_status
    per_layer = {str(layer): max(projs.values()) for layer, projs in sorted(counts.items())}
    layouts = Counter("per_expert" if _PER_EXPERT.search(t.name) else "fused"
                      for t in tensors.values() if ".experts." in t.name)
    return {
        "status": status,
        "folder": str(folder),
        "files": len(weight_files(folder)),
        "tensors": len(tensors),
        "quantization": quant,
        "params": {
            "status": params_status,
            "checkpoint": elements,
            "config": config_total,
            "difference": elements - config_total,
            "explained_by": explained_by,
        },
        "experts": {
            "status": "mismatch" if expert_findings else ("match" if counts else "none"),
            "config": config.moe.num_experts if config.moe else None,
            "layout": layouts.most_common(1)[0][0] if layouts else None,
            "per_layer": per_layer,
        },
        "findings": findings,
    }


def checkpoint_section(
    config: ModelConfig, raw: RawConfig, config_total: int, requested: bool | None
) -> dict[str, Any] | None:
    """The cross-check when asked for (`True`), or when the config's folder holds weights (`None`)."""
    if requested is False:
        return None
    folder = raw.folder
    if requested and folder is not None and not os.path.lexists(raw.source):
        from moecfg.loading.hub import fetch_index, parse_hub_id

        hub_id = parse_hub_id(raw.source)
        if hub_id is not None:
            fetch_index(hub_id)
    if folder is None or not holds_weights(folder):
        if requested:
            where = "stdin and GGUF input have no checkpoint folder" if folder is None else (
                "no safetensors weights next to the config"
            )
            raise SourceError(f"--checkpoint: {where}", code="no_checkpoint")
        return None
    return cross_check(config, raw.data, folder, config_total)
