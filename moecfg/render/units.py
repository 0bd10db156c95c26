"""Human-readable numbers shared by the text renderers (no rich here)."""

from __future__ import annotations


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
