"""Find the line a JSON path points at, for annotations that jump to the key.

A best effort without a position-tracking parser: follow the path's keys through the text,
each searched from where the previous one was found. It is cheap, deterministic, and exact
for the shapes config files have (each key once per object).
"""

from __future__ import annotations

import re

_STEP = re.compile(r"[^.\[\]]+")


def key_line(text: str, key: str) -> int | None:
    """1-based line of `key` (e.g. `text_config.num_local_experts`), or None if not found."""
    offset, found = 0, None
    for part in _STEP.findall(key):
        if part.isdigit():
            continue
        match = re.compile(r'"' + re.escape(part) + r'"\s*:').search(text, offset)
        if match is None:
            break
        offset = found = match.start()
    return None if found is None else text.count("\n", 0, found) + 1
