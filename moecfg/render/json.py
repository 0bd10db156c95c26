"""JSON output: the report as one document, stable key order, no rich."""

from __future__ import annotations

import json
from typing import Any


def render_json(document: Any) -> str:
    return json.dumps(document, indent=2, allow_nan=False) + "\n"
