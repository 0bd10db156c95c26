"""Human-readable numbers and values shared by the text renderers (no rich here)."""

from __future__ import annotations

from typing import Any


def human_count(value: int) -> str:
    """30532122624 → '30.53B'."""
    for threshold, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K")):
        if abs(value) >= threshold:
            return f"{value / threshold:.2f}{suffix}"
    return str(value)


def human_bytes(value: float) -> str:
    """Binary units, as memory is sold to GPU buyers: 61064245248 → '56.87 GiB'."""
    for threshold, suffix in ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if abs(value) >= threshold:
            return f"{value / threshold:.2f} {suffix}"
    return f"{value:g} B"


def value_text(value: Any) -> str:
    """A config value as the table and the Markdown both show it, in JSON's spelling.

    true/false rather than Python's True/False, 32 rather than 32.0; a dict as key=value pairs
    and a list as its items; containers inside those keep their brackets so they stay readable.
    """
    if isinstance(value, dict):
        return ", ".join(f"{key}={_nested(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_nested(item) for item in value)
    return _scalar(value)


def _nested(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + value_text(value) + "}"
    if isinstance(value, list | tuple):
        return "[" + value_text(value) + "]"
    return _scalar(value)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def how_found(report: dict[str, Any], name: str) -> str:
    """A field's provenance, naming the key when the family reads it under another name.

    "present" alone would mislead where the key differs from the field: Llama 4's dense width
    comes from `intermediate_size_mlp`, while its own `intermediate_size` is the expert width.
    """
    how: str = report["provenance"].get(name, "")
    key = report.get("keys", {}).get(name)
    if how == "present" and key is not None and key.rsplit(".", 1)[-1] != name.rsplit(".", 1)[-1]:
        return f"present as {key.removeprefix('text_config.')}"
    return how
