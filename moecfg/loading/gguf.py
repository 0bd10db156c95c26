"""A bounded GGUF header reader: metadata and tensor infos, never tensor data.

Standard library only (`struct` over a buffered file), so reading a 20 GB model costs a few
hundred KiB of memory. Large arrays (tokenizer vocabularies with 150k+ entries) are skipped
by length and only their element count is kept. Every count and length is checked against
the bytes left in the file and against caps before anything is allocated, so a hostile or
truncated file fails with one line naming the offset and key, never with a MemoryError.
Layout: ggml docs/gguf.md (magic, version, tensor_count, kv_count, KVs, tensor infos).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from moecfg.errors import ConfigError, SourceError
from moecfg.loading.files import GGUF_MAGIC

SUPPORTED_VERSIONS = (2, 3)
#: The spec limits keys to 65535 bytes.
MAX_KEY_BYTES = 65535
#: Metadata strings (chat templates are the largest, tens of KiB) stay well under this.
MAX_STRING_BYTES = 16 * 1024 * 1024
#: Arrays up to this length are kept (per-layer hyperparameters); longer ones are skipped.
MAX_KEPT_ARRAY = 4096
MAX_ARRAY_DEPTH = 4
MAX_KV_COUNT = 1 << 16
#: llama.cpp allows 512 layers; even unfused experts stay far below this many tensors.
MAX_TENSOR_COUNT = 1 << 20
MAX_TENSOR_NAME_BYTES = 1024
MAX_TENSOR_DIMS = 8
#: Chunk used to walk string arrays without holding them.
SKIP_CHUNK_BYTES = 1 << 20
_LENGTH = struct.Struct("<Q")

# value_type → (name, struct format, size); STRING (8) and ARRAY (9) are variable-sized.
SCALAR_TYPES: dict[int, tuple[str, str, int]] = {
    0: ("uint8", "<B", 1),
    1: ("int8", "<b", 1),
    2: ("uint16", "<H", 2),
    3: ("int16", "<h", 2),
    4: ("uint32", "<I", 4),
    5: ("int32", "<i", 4),
    6: ("float32", "<f", 4),
    7: ("bool", "<B", 1),
    10: ("uint64", "<Q", 8),
    11: ("int64", "<q", 8),
    12: ("float64", "<d", 8),
}
STRING, ARRAY = 8, 9
INTEGER_TYPES = frozenset(name for code, (name, _, _) in SCALAR_TYPES.items() if code not in (6, 7, 12))
FLOAT_TYPES = frozenset(("float32", "float64"))


def type_name(code: int) -> str:
    if code == STRING:
        return "string"
    if code == ARRAY:
        return "array"
    return SCALAR_TYPES[code][0]


@dataclass(frozen=True, slots=True)
class GgufArray:
    """An array value: its element type, its length, and its items unless it was skipped."""

    element_type: str
    length: int
    items: tuple[Any, ...] | None


@dataclass(frozen=True, slots=True)
class GgufValue:
    type: str  #: "uint32", "string", "array", ...
    value: Any  #: a Python scalar, or a GgufArray


@dataclass(frozen=True, slots=True)
class GgufTensor:
    name: str
    #: GGUF order: the first dimension is the fastest-varying one (ne[0]).
    shape: tuple[int, ...]
    ggml_type: int


@dataclass(frozen=True, slots=True)
class GgufHeader:
    version: int
    metadata: Mapping[str, GgufValue]
    tensors: tuple[GgufTensor, ...]


class _Cursor:
    """Reads from a file with every read checked against the file size."""

    def __init__(self, stream: BinaryIO, size: int) -> None:
        self.stream = stream
        self.size = size
        self.what = "header"  #: what is being read, for messages

    @property
    def offset(self) -> int:
        return self.stream.tell()

    def remaining(self) -> int:
        return self.size - self.offset

    def truncated(self, needed: int) -> ConfigError:
        return ConfigError(
            f"truncated GGUF: {self.what} needs {needed} bytes at offset {self.offset}, "
            f"the file ends at {self.size}",
            code="gguf_truncated",
        )

    def malformed(self, message: str) -> ConfigError:
        return ConfigError(f"malformed GGUF: {self.what}: {message}", code="gguf_malformed")

    def read(self, n: int) -> bytes:
        if n > self.remaining():
            raise self.truncated(n)
        return self.stream.read(n)

    def skip(self, n: int) -> None:
        if n > self.remaining():
            raise self.truncated(n)
        self.stream.seek(n, os.SEEK_CUR)

    def unpack(self, fmt: str, size: int) -> Any:
        return struct.unpack(fmt, self.read(size))[0]

    def u32(self) -> int:
        return int(self.unpack("<I", 4))

    def u64(self) -> int:
        return int(self.unpack("<Q", 8))

    def string(self, cap: int = MAX_STRING_BYTES) -> str:
        length = self.u64()
        if length > cap:
            raise self.malformed(f"string length {length} exceeds the {cap}-byte limit")
        raw = self.read(length)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self.malformed(f"string at offset {self.offset - length} is not UTF-8") from None

    def skip_strings(self, count: int) -> None:
        """Walk `count` strings in chunks, keeping none of them in memory.

        A 150k-token vocabulary and its merges are 300k strings, so the strings that fit in
        the chunk go through `_step_over`'s tight loop; the rest take the checked path.
        """
        buffer, pos, end, left = b"", 0, 0, count
        while left:
            pos, stepped = _step_over(buffer, pos, left)
            left -= stepped
            if not left:
                break
            if end - pos >= 8:
                # The string runs past the buffer: rewind to just after its length field,
                # then check it and seek past it.
                (length,) = _LENGTH.unpack_from(buffer, pos)
                self.stream.seek(-(end - pos - 8), os.SEEK_CUR)
                if length > MAX_STRING_BYTES:
                    raise self.malformed(
                        f"string length {length} exceeds the {MAX_STRING_BYTES}-byte limit"
                    )
                self.skip(length)
                buffer, pos, end, left = b"", 0, 0, left - 1
                continue
            buffer, pos = buffer[pos:] + self.stream.read(SKIP_CHUNK_BYTES), 0
            end = len(buffer)
            if end < 8:
                self.stream.seek(-end, os.SEEK_CUR)
                raise self.truncated(8)
        self.stream.seek(-(end - pos), os.SEEK_CUR)


def _step_over(buffer: bytes, pos: int, count: int) -> tuple[int, int]:
    """Step over up to `count` length-prefixed strings lying wholly inside `buffer`.

    Returns the offset reached and how many strings were passed. Kept to one unpack and two
    comparisons per string: this loop is most of the time of reading a GGUF.
    """
    unpack_length = _LENGTH.unpack_from
    end = len(buffer)
    last_length_at = end - 8
    for stepped in range(count):
        if pos > last_length_at:
            return pos, stepped
        following = pos + 8 + unpack_length(buffer, pos)[0]
        if following > end:
            return pos, stepped
        pos = following
    return pos, count


def _read_value(cursor: _Cursor, code: int, depth: int = 0) -> Any:
    if code in SCALAR_TYPES:
        name, fmt, size = SCALAR_TYPES[code]
        value = cursor.unpack(fmt, size)
        if name == "bool":
            if value not in (0, 1):
                raise cursor.malformed(f"boolean byte is {value}, expected 0 or 1")
            return bool(value)
        return value
    if code == STRING:
        return cursor.string()
    if code == ARRAY:
        if depth >= MAX_ARRAY_DEPTH:
            raise cursor.malformed(f"arrays nested deeper than {MAX_ARRAY_DEPTH}")
        element_code = cursor.u32()
        if element_code not in SCALAR_TYPES and element_code not in (STRING, ARRAY):
            raise cursor.malformed(f"unknown array element type {element_code}")
        length = cursor.u64()
        minimum = SCALAR_TYPES[element_code][2] if element_code in SCALAR_TYPES else 8
        if length * minimum > cursor.remaining():
            raise cursor.malformed(
                f"array of {length} {type_name(element_code)} needs at least {length * minimum} "
                f"bytes, only {cursor.remaining()} remain"
            )
        if length <= MAX_KEPT_ARRAY:
            items = tuple(_read_value(cursor, element_code, depth + 1) for _ in range(length))
            return GgufArray(type_name(element_code), length, items)
        if element_code in SCALAR_TYPES:
            cursor.skip(length * minimum)
        elif element_code == STRING:
            cursor.skip_strings(length)
        else:
            for _ in range(length):
                _read_value(cursor, ARRAY, depth + 1)
        return GgufArray(type_name(element_code), length, None)
    raise cursor.malformed(f"unknown value type {code} (valid: 0-12)")


def _read_count(cursor: _Cursor, what: str, cap: int, record_bytes: int) -> int:
    count = cursor.u64()
    if count > cap:
        raise cursor.malformed(f"{what} count {count} exceeds the limit of {cap}")
    if count * record_bytes > cursor.remaining():
        raise cursor.malformed(
            f"{what} count {count} needs at least {count * record_bytes} bytes, only "
            f"{cursor.remaining()} remain (truncated file or corrupt count)"
        )
    return count


def _read_tensor(cursor: _Cursor) -> GgufTensor:
    name = cursor.string(MAX_TENSOR_NAME_BYTES)
    cursor.what = f"tensor info '{name}'"
    n_dims = cursor.u32()
    if n_dims > MAX_TENSOR_DIMS:
        raise cursor.malformed(f"{n_dims} dimensions (at most {MAX_TENSOR_DIMS})")
    shape = tuple(cursor.u64() for _ in range(n_dims))
    elements = 1
    for dim in shape:
        elements *= dim
    if elements >= 1 << 63:
        raise cursor.malformed(f"shape {list(shape)} overflows 64 bits")
    ggml_type = cursor.u32()
    cursor.u64()  # data offset: tensor data is never read
    return GgufTensor(name, shape, ggml_type)


def read_header(stream: BinaryIO, size: int) -> GgufHeader:
    """Parse magic, version, metadata and tensor infos from an open binary stream."""
    cursor = _Cursor(stream, size)
    magic = cursor.read(4) if size >= 4 else stream.read(4)
    if magic != GGUF_MAGIC:
        raise ConfigError(f"not a GGUF file (magic {magic!r}, expected b'GGUF')", code="gguf_bad_magic")
    version = cursor.u32()
    if version not in SUPPORTED_VERSIONS:
        raise ConfigError(
            f"unsupported GGUF version {version} (supported: {', '.join(map(str, SUPPORTED_VERSIONS))})",
            code="gguf_version",
        )
    tensor_count = _read_count(cursor, "tensor", MAX_TENSOR_COUNT, 24)
    kv_count = _read_count(cursor, "metadata", MAX_KV_COUNT, 12)
    metadata: dict[str, GgufValue] = {}
    for index in range(kv_count):
        cursor.what = f"metadata entry {index}"
        key = cursor.string(MAX_KEY_BYTES)
        cursor.what = f"metadata key '{key}'"
        if key in metadata:
            raise cursor.malformed("duplicate key")
        code = cursor.u32()
        if code not in SCALAR_TYPES and code not in (STRING, ARRAY):
            raise cursor.malformed(f"unknown value type {code} (valid: 0-12)")
        metadata[key] = GgufValue(type_name(code), _read_value(cursor, code))
    tensors = []
    for index in range(tensor_count):
        cursor.what = f"tensor info {index}"
        tensors.append(_read_tensor(cursor))
    return GgufHeader(version=version, metadata=metadata, tensors=tuple(tensors))


def read_gguf(path: Path) -> GgufHeader:
    """Read a .gguf file's header; I/O problems are SourceErrors, bad content ConfigErrors."""
    try:
        size = path.stat().st_size
        with open(path, "rb", buffering=SKIP_CHUNK_BYTES) as stream:
            return read_header(stream, size)
    except FileNotFoundError:
        raise SourceError("no such file or directory", code="not_found") from None
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror}", code="unreadable") from None
