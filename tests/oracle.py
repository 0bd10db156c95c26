"""The oracle: transformers' own model on the meta device, counted by module path.

Used only by tests (the `oracle` extra). It never passes trust_remote_code. Parts are named
like moecfg's (`metrics.PARTS`) and assigned by the parameter's module path, because
transformers 5 fuses experts into 3-D tensors (`experts.gate_up_proj` [E, 2I, H]), so
per-expert names do not exist.
"""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from moecfg.metrics import PARTS

#: First match wins; patterns are searched in the full parameter name.
PART_PATTERNS: tuple[tuple[str, str], ...] = (
    ("shared_experts", r"\.shared_experts?\.|\.shared_expert_gate\.|\.shared_mlp\."),
    # JetMoE: the attention experts' (MoA) router and output bias; the MLP's experts and bias.
    ("router", r"\.(self_attention\.experts|mlp)\.router\.layer\.weight$"),
    ("attention", r"\.self_attention\.(kv_proj\.weight|experts\.bias)$"),
    ("routed_experts", r"\.mlp\.(input|output)_linear\.weight$"),
    ("other", r"\.mlp\.bias$"),
    ("routed_experts", r"\.experts\."),
    ("router", r"\.(mlp|feed_forward|block_sparse_moe)\.(gate|router)\.(weight|bias)$"),
    ("router", r"\.ffn\.router\.layer\.weight$"),  # DBRX
    ("router", r"\.mlp\.gate\.wg\.weight$"),  # HunYuan
    ("router", r"\.mlp\.router\.gate\.weight$|\.mlp\.expert_bias$"),  # AFMoE
    # LongCat-Flash: the router's `classifier`, two dense `mlps` and two of each norm per layer.
    ("router", r"\.mlp\.router\.classifier\.(weight|bias)$"),
    ("dense_mlp", r"\.mlps\.\d+\."),
    ("norms", r"layernorm\.\d+\.weight$"),
    ("router", r"\.mlp\.gate\.moe_statics\.e_score_correction_bias$"),  # ERNIE 4.5 (a Parameter)
    ("router", r"\.mlp\.gate\.e_score_correction_bias$"),  # Laguna (a Parameter)
    ("router", r"\.mlp\.router_gate\.weight$"),  # Doge's product-key router
    ("router", r"\.mlp\.gate\.(down_proj|router_mlp)\.|\.mlp\.gate\.router_states_scale$"),  # ZAYA
    # Gemma 4: the router's projection and its input and per-expert scales; the per-layer input
    # embedding table (PLE) is an embedding, its projections fall through to `other`.
    ("router", r"\.layers\.\d+\.router\.(proj\.weight|scale|per_expert_scale)$"),
    ("embedding", r"\.embed_tokens_per_layer\.weight$"),
    ("routed_experts", r"\.mlp\.(down|up)_embed\.weight$"),  # Doge's one-neuron experts
    # Inkling: the router's learned output scalar, and the RMSNorm inside the embedding.
    ("router", r"\.mlp\.gate\.global_scale$"),
    ("norms", r"\.embed_tokens\.embed_norm\.weight$"),
    # Nemotron-H: each layer is one `mixer`, a MoE block, Mamba-2, attention or a plain MLP.
    ("router", r"\.mixer\.gate\.weight$"),
    ("attention", r"\.mixer\.(in_proj|conv1d|norm|out_proj|[qkvo]_proj)\.|\.mixer\.(dt_bias|A_log|D)$"),
    ("dense_mlp", r"\.mixer\.(up_proj|down_proj)\."),
    ("embedding", r"^model\.embeddings\.weight$"),
    # Linear-attention and Mamba mixers stand where attention stands (metrics docstring).
    ("attention", r"\.(self_attn|attention|attn|linear_attn|mamba)\."),
    ("norms", r"\.mlp\.post_mlp_layernorm\.weight$"),  # A.X-K1
    ("norms", r"_layernorm\.mlp\.fc[12]\.weight$"),  # A.X-K2's gated norms
    ("dense_mlp", r"\.(mlp|feed_forward)\."),
    ("embedding", r"(^|\.)(embed_tokens|wte)\."),
    ("lm_head", r"^lm_head\."),
    ("norms", r"norm[^.]*\.(weight|bias)$"),
)


def classify(name: str) -> str:
    for part, pattern in PART_PATTERNS:
        if re.search(pattern, name):
            return part
    return "other"


def require_oracle() -> tuple[Any, Any]:
    """Import torch and transformers, or skip; MOECFG_REQUIRE_ORACLE=1 makes absence a failure."""
    try:
        import torch
        import transformers
    except ImportError as exc:
        if os.environ.get("MOECFG_REQUIRE_ORACLE") == "1":
            pytest.fail(f"oracle extra required (MOECFG_REQUIRE_ORACLE=1) but missing: {exc}")
        pytest.skip(f"oracle extra not installed: {exc}")
    return torch, transformers


def config_value(config: Any, dotted: str) -> Any:
    """An attribute of the HF config; dots walk into sub-configs ("ffn_config.moe_top_k")."""
    return functools.reduce(getattr, dotted.split("."), config)


def oracle_counts(
    config: dict[str, Any],
    tmp_path: Path,
    top_k_key: str = "num_experts_per_tok",
    num_experts_key: str | None = None,
    model_class: str = "AutoModelForCausalLM",
    skip: str | None = None,
) -> dict[str, int]:
    """Parts, total and active of the transformers model built from `config` on meta.

    Active = every parameter except routed experts, plus each MoE layer's expert bank × k / E,
    with E read from the fused expert tensor's first dimension and k from the HF config. A
    family that flattens its experts into that dimension (DBRX's w1 is [E·I, H]) passes
    `num_experts_key`, and E is then read from the HF config instead.

    A family with no causal-LM class (Qwen3-VL-MoE) names the `model_class` that builds it, and
    `skip` is a regex for parameter names moecfg deliberately leaves out (its vision tower). A
    list-valued top-k gives each layer its own k, indexed by the layer number.
    """
    torch, transformers = require_oracle()
    folder = tmp_path / "oracle_model"
    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config))
    hf_config = transformers.AutoConfig.from_pretrained(folder)
    with torch.device("meta"):
        model = getattr(transformers, model_class).from_config(hf_config)
    parts = dict.fromkeys(PARTS, 0)
    routed_by_layer: dict[str, list[tuple[int, int]]] = {}
    for name, param in model.named_parameters():
        if skip is not None and re.search(skip, name):
            continue
        part = classify(name)
        parts[part] += param.numel()
        if part == "routed_experts":
            layer = re.sub(r"\.experts\..*", "", name)
            routed_by_layer.setdefault(layer, []).append((param.numel(), param.shape[0]))
    total = sum(parts.values())
    active = total - parts["routed_experts"]
    top_k = config_value(hf_config.get_text_config(), top_k_key) if routed_by_layer else 0
    if num_experts_key is not None:
        experts = config_value(hf_config.get_text_config(), num_experts_key)
        routed_by_layer = {
            layer: [(numel, experts) for numel, _ in tensors] for layer, tensors in routed_by_layer.items()
        }
    for layer, tensors in routed_by_layer.items():
        for numel, num_experts in tensors:
            k = top_k[int(re.search(r"\.layers\.(\d+)", layer)[1])] if isinstance(top_k, list) else top_k
            assert numel * k % num_experts == 0
            active += numel * k // num_experts
    return {**parts, "total": total, "active": active}
