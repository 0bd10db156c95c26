"""The KV-cache rows of the Memory section, shared by the table and the Markdown (no rich here)."""

from __future__ import annotations

from typing import Any

_KV_KIND_NAMES = {
    "full_attention": "full-attention",
    "sliding_attention": "sliding",
    "chunked_attention": "chunked-attention",
    "linear_attention": "linear-attention",
    "mamba": "Mamba",
    "mla": "MLA",
    "mla_sliding_attention": "sliding MLA",
}


def kv_group_rows(group: dict[str, Any]) -> list[tuple[str, int]]:
    """The Memory rows of one KV-cache group: per-token KV, or the fixed per-sequence state."""
    kind = _KV_KIND_NAMES.get(group["kind"], group["kind"])
    layers = f"{group['layers']} {kind} layer{'s' if group['layers'] != 1 else ''}"
    state_row = (f"{kind} state, {group['layers']} layers", group["state_bytes"])
    state = [state_row] if group["state_bytes"] else []
    if state and not group["bytes_per_token"]:
        return state
    if group.get("compress_rate") is not None:
        entry = f" (one entry per {group['compress_rate']:,} tokens)"
        return [(f"KV per token, {layers}{entry}", group["bytes_per_token"]), *state]
    if group["expanded_bytes_per_token"] is not None:
        kept = f", window {group['window']:,}" if group["window"] is not None else ""
        return [
            (f"KV per token, {layers} (latent{kept})", group["bytes_per_token"]),
            (
                f"KV per token, {layers} (expanded per head{kept})",
                group["expanded_bytes_per_token"],
            ),
        ]
    window = f" (window {group['window']:,})" if group["window"] is not None else ""
    return [(f"KV per token, {layers}{window}", group["bytes_per_token"]), *state]
