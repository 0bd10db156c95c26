"""Per-layer attention kinds (`layer_types`): read when listed, checked as transformers checks them.

transformers rejects a `layer_types` whose length differs from `num_hidden_layers` or that names
a kind the family cannot build; moecfg reports the same problems as one line naming the key.
"""

from __future__ import annotations

from collections.abc import Sequence

from moecfg.families.fields import Reader
from moecfg.model import FULL_ATTENTION, SLIDING_ATTENTION

#: The attention kinds a plain softmax-attention family can build.
SOFTMAX_ATTENTION_KINDS = (FULL_ATTENTION, SLIDING_ATTENTION)


def read_layer_types(
    reader: Reader,
    num_layers: int,
    default: Sequence[str],
    allowed: Sequence[str] = SOFTMAX_ATTENTION_KINDS,
) -> tuple[str, ...]:
    """`base.layer_types` as listed, else `default` (the family's computed schedule)."""
    listed = reader.get("base.layer_types")
    if listed is None:
        return tuple(default)
    key = reader.fields["base.layer_types"].key
    for index, kind in enumerate(listed):
        if kind not in allowed:
            raise reader.invalid(f"{key}[{index}]", f'"{kind}" is not one of {", ".join(allowed)}')
    if len(listed) != num_layers:
        raise reader.invalid(
            key, f"lists {len(listed)} layers but num_hidden_layers is {num_layers}"
        )
    return tuple(listed)
