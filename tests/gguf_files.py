"""GGUF test files written by the real `gguf` package (llama.cpp's gguf-py GGUFWriter).

Files carry the metadata and tensor infos of a model but no tensor data: moecfg never reads
it, and a 30B model's header is enough to check every count.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

gguf = pytest.importorskip("gguf")
np = pytest.importorskip("numpy")

Tensor = tuple[str, tuple[int, ...]]


def write_gguf(
    path: Path,
    arch: str,
    metadata: Callable[[Any], None],
    tensors: Iterable[Tensor] = (),
    vocab: int = 0,
) -> Path:
    """Write a GGUF: `metadata(writer)` adds keys, tensors are (name, numpy-order shape)."""
    writer = gguf.GGUFWriter(path, arch)
    metadata(writer)
    if vocab:
        writer.add_tokenizer_model("gpt2")
        writer.add_token_list([f"tok{i}" for i in range(vocab)])
    for name, shape in tensors:
        writer.add_tensor_info(name, shape, np.dtype(np.float16), 2 * int(np.prod(shape)))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    writer.close()
    return path


def qwen3moe_metadata(layers: int = 48) -> Callable[[Any], None]:
    """Qwen3-30B-A3B as llama.cpp's converter writes it."""

    def add(w: Any) -> None:
        w.add_block_count(layers)
        w.add_context_length(40960)
        w.add_embedding_length(2048)
        w.add_feed_forward_length(6144)
        w.add_head_count(32)
        w.add_head_count_kv(4)
        w.add_key_length(128)
        w.add_value_length(128)
        w.add_rope_freq_base(1000000.0)
        w.add_layer_norm_rms_eps(1e-6)
        w.add_expert_count(128)
        w.add_expert_used_count(8)
        w.add_expert_feed_forward_length(768)
        w.add_expert_weights_norm(True)
        w.add_file_type(1)

    return add


def llama_style_tensors(
    layers: int, hidden: int, vocab: int, q_out: int, kv_out: int, experts: int, expert_ffn: int,
    *, tied: bool = False, dense_ffn: int = 0, dense_layers: Iterable[int] = (), qk_norm: int = 0,
) -> list[Tensor]:
    """Tensor infos in llama.cpp naming (numpy order: out, in)."""
    out: list[Tensor] = [("token_embd.weight", (vocab, hidden)), ("output_norm.weight", (hidden,))]
    if not tied:
        out.append(("output.weight", (vocab, hidden)))
    dense = set(dense_layers)
    for i in range(layers):
        p = f"blk.{i}."
        out += [
            (p + "attn_norm.weight", (hidden,)),
            (p + "attn_q.weight", (q_out, hidden)),
            (p + "attn_k.weight", (kv_out, hidden)),
            (p + "attn_v.weight", (kv_out, hidden)),
            (p + "attn_output.weight", (hidden, q_out)),
            (p + "ffn_norm.weight", (hidden,)),
        ]
        if qk_norm:
            out += [(p + "attn_q_norm.weight", (qk_norm,)), (p + "attn_k_norm.weight", (qk_norm,))]
        if i in dense:
            out += [
                (p + "ffn_gate.weight", (dense_ffn, hidden)),
                (p + "ffn_up.weight", (dense_ffn, hidden)),
                (p + "ffn_down.weight", (hidden, dense_ffn)),
            ]
        else:
            out += [
                (p + "ffn_gate_inp.weight", (experts, hidden)),
                (p + "ffn_gate_exps.weight", (experts, expert_ffn, hidden)),
                (p + "ffn_up_exps.weight", (experts, expert_ffn, hidden)),
                (p + "ffn_down_exps.weight", (experts, hidden, expert_ffn)),
            ]
    return out


def qwen3moe_tensors(layers: int = 48, **kwargs: Any) -> list[Tensor]:
    return llama_style_tensors(layers, 2048, 151936, 4096, 512, 128, 768, qk_norm=128,
                               dense_ffn=6144, **kwargs)


def write_qwen3moe(path: Path, *, vocab: int = 151936, **kwargs: Any) -> Path:
    return write_gguf(path, "qwen3moe", qwen3moe_metadata(), qwen3moe_tensors(**kwargs), vocab=vocab)


# --- byte-level corruption of a written file ----------------------------------------------

def find_key(data: bytes, key: str) -> int:
    """Offset just after the key string (i.e. of its value type u32)."""
    raw = key.encode()
    at = data.index(struct.pack("<Q", len(raw)) + raw)
    return at + 8 + len(raw)


def patch(path: Path, offset: int, fmt: str, value: Any) -> None:
    data = bytearray(path.read_bytes())
    struct.pack_into(fmt, data, offset, value)
    path.write_bytes(bytes(data))
