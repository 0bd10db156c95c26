"""Bounded reading of safetensors headers and the shard index: names, dtypes and shapes only.

A safetensors file starts with an 8-byte little-endian header length and that many bytes of
JSON (`{name: {dtype, shape, data_offsets}, "__metadata__": {...}}`). The length is checked
against the file size and a cap (the safetensors library's own 100 MB) before anything is
read, so a lying length cannot make moecfg allocate; tensor data is never touched.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from moecfg.errors import ConfigError, SourceError
from moecfg.loading.files import INDEX_FILE

#: The safetensors library refuses headers above 100 MB; real ones are a few hundred KiB.
MAX_HEADER_BYTES = 100_000_000
#: A shard index lists each tensor once: tens of thousands of entries, a few MiB at most.
MAX_INDEX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class TensorInfo:
    name: str
    dtype: str
    shape: tuple[int, ...]

    @property
    def numel(self) -> int:
        count = 1
        for dim in self.shape:
            count *= dim
        return count


def _fail(path: Path, message: str, code: str = "safetensors_malformed") -> ConfigError:
    return ConfigError(f"{path.name}: {message}", code=code)


def _open_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        raise SourceError(f"{path.name}: listed in the index but missing", code="not_found") from None
    except OSError as exc:
        raise SourceError(f"{path.name}: cannot read: {exc.strerror}", code="unreadable") from None


def _tensor(path: Path, name: str, entry: Any) -> TensorInfo:
    if not isinstance(entry, Mapping):
        raise _fail(path, f"tensor '{name}' entry is not an object")
    dtype, shape = entry.get("dtype"), entry.get("shape")
    if not isinstance(dtype, str):
        raise _fail(path, f"tensor '{name}' has no dtype string")
    if not isinstance(shape, list) or len(shape) > 8 or not all(
        isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 1 << 62 for d in shape
    ):
        raise _fail(path, f"tensor '{name}' has an invalid shape {str(shape)[:60]}")
    return TensorInfo(name, dtype, tuple(shape))


def read_safetensors_header(path: Path) -> dict[str, TensorInfo]:
    """Tensor infos of one .safetensors file, reading only its header."""
    size = _open_size(path)
    try:
        with open(path, "rb") as stream:
            prefix = stream.read(8)
            if len(prefix) < 8:
                raise _fail(path, f"truncated: {size} bytes, shorter than the 8-byte header length")
            (length,) = struct.unpack("<Q", prefix)
            if length > size - 8:
                raise _fail(path, f"header length {length} exceeds the file size ({size} bytes)")
            if length > MAX_HEADER_BYTES:
                raise _fail(path, f"header length {length} exceeds the {MAX_HEADER_BYTES}-byte limit")
            payload = stream.read(length)
    except OSError as exc:
        raise SourceError(f"{path.name}: cannot read: {exc.strerror}", code="unreadable") from None
    try:
        header = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _fail(path, "header is not valid JSON") from None
    if not isinstance(header, dict):
        raise _fail(path, "header is not a JSON object")
    return {name: _tensor(path, name, entry) for name, entry in header.items() if name != "__metadata__"}


def read_index(path: Path) -> dict[str, str]:
    """The index's weight_map: tensor name → shard file name (inside the same folder)."""
    size = _open_size(path)
    if size > MAX_INDEX_BYTES:
        raise _fail(path, f"larger than {MAX_INDEX_BYTES // (1024 * 1024)} MiB")
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise SourceError(f"{path.name}: cannot read: {exc.strerror}", code="unreadable") from None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _fail(path, "not valid JSON") from None
    weight_map = data.get("weight_map") if isinstance(data, dict) else None
    if not isinstance(weight_map, dict):
        raise _fail(path, "no 'weight_map' object")
    for name, shard in weight_map.items():
        if not isinstance(shard, str) or PurePosixPath(shard).name != shard or shard in (".", ".."):
            raise _fail(path, f"weight_map['{name}'] is not a file name in this folder")
    return weight_map


def weight_files(folder: Path) -> list[Path]:
    """The safetensors files of a checkpoint folder: the index's shards, or model.safetensors."""
    index = folder / INDEX_FILE
    if index.is_file():
        return [folder / shard for shard in sorted(set(read_index(index).values()))]
    return sorted(p for p in folder.glob("*.safetensors") if p.is_file())


def read_checkpoint_tensors(folder: Path) -> dict[str, TensorInfo]:
    """Every tensor of the checkpoint, by name, from the headers of its shards."""
    tensors: dict[str, TensorInfo] = {}
    index = folder / INDEX_FILE
    weight_map = read_index(index) if index.is_file() else None
    for shard in weight_files(folder):
        for name, info in read_safetensors_header(shard).items():
            if name in tensors:
                raise _fail(shard, f"tensor '{name}' is also stored in another shard")
            tensors[name] = info
    if weight_map is not None:
        absent = sorted(set(weight_map) - set(tensors))
        if absent:
            raise _fail(index, f"{len(absent)} indexed tensor(s) not in their shards, e.g. '{absent[0]}'")
    return tensors
