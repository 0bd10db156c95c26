"""Hybrid layer schedules: which layers attend and which run a linear-attention or Mamba mixer.

Hybrid configs spell a layer's kind in several ways: transformers' own `layer_types`
("full_attention", "linear_attention"), Granite's "attention"/"mamba", MiniMax's remote-code
`attn_type_list` (1 = softmax, 0 = lightning). Each family passes the spellings it accepts and
the moecfg kind (model.FULL_ATTENTION, LINEAR_ATTENTION, MAMBA) each one means.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from moecfg.families.fields import Reader


def read_layer_kinds(
    reader: Reader, name: str, num_layers: int, spellings: Mapping[object, str]
) -> tuple[str, ...] | None:
    """The per-layer list under field `name`, translated by `spellings`; None when absent."""
    listed = reader.get(name)
    if listed is None:
        return None
    # Name the key the config used: an alias (Granite's layers_block_type) when it was that.
    how = reader.provenance.get(name, "")
    key = reader.fields[name].key
    if how.startswith("alias:"):
        key = how.removeprefix("alias:" + reader.scope)
    for index, kind in enumerate(listed):
        if kind not in spellings:
            accepted = ", ".join(f'"{s}"' if isinstance(s, str) else str(s) for s in spellings)
            shown = f'"{kind}"' if isinstance(kind, str) else str(kind)
            raise reader.invalid(f"{key}[{index}]", f"{shown} is not one of {accepted}")
    if len(listed) != num_layers:
        raise reader.invalid(
            key, f"lists {len(listed)} layers but num_hidden_layers is {num_layers}"
        )
    return tuple(spellings[kind] for kind in listed)


def periodic(num_layers: int, period: int, offset: int, hit: str, miss: str) -> tuple[str, ...]:
    """`hit` on layers with i % period == offset, `miss` elsewhere (Jamba's schedules)."""
    return tuple(hit if i % period == offset else miss for i in range(num_layers))


def every_nth(num_layers: int, interval: int, hit: str, miss: str) -> tuple[str, ...]:
    """`hit` on every interval-th layer counting from one ((i + 1) % interval == 0), else `miss`."""
    return tuple(hit if (i + 1) % interval == 0 else miss for i in range(num_layers))


def layers_of(kinds: Sequence[str], kind: str) -> tuple[int, ...]:
    return tuple(i for i, k in enumerate(kinds) if k == kind)
