"""Read a config from a local file, a folder holding config.json, or stdin.

Reads are bounded: a config.json is small, so anything past MAX_CONFIG_BYTES is refused
before it is parsed, and only regular files are opened (a FIFO would block forever).
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from moecfg.errors import ConfigError, SourceError
from moecfg.loading.jsonparse import parse_json_bytes

#: Real config.json files are a few KiB; 16 MiB leaves room for inlined tokenizer-like
#: payloads while keeping parse time and memory bounded on hostile input.
MAX_CONFIG_BYTES = 16 * 1024 * 1024

#: The first bytes of every GGUF file. Sniffed here, so a JSON input never imports the reader.
GGUF_MAGIC = b"GGUF"
#: The shard index of a sharded safetensors checkpoint.
INDEX_FILE = "model.safetensors.index.json"


@dataclass(frozen=True, slots=True)
class RawConfig:
    """A parsed config.json and where it came from."""

    source: str  #: what to call it in messages: the path as the user gave it, or "<stdin>"
    data: dict[str, Any]
    duplicate_keys: tuple[str, ...] = ()
    #: For sources that are not a config.json (GGUF): config key → where its value came
    #: from ("gguf:<key>", "derived:tensors"); empty for config.json.
    origin: Mapping[str, str] = field(default_factory=dict)
    #: The folder the config sits in (local or a Hub snapshot), where weights may be.
    folder: Path | None = None


def resolve_config_path(path: Path) -> Path:
    """A folder stands for the config.json inside it."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise SourceError("no such file or directory", code="not_found") from None
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror}", code="unreadable") from None
    if stat.S_ISDIR(mode):
        inner = path / "config.json"
        if not os.path.lexists(inner):
            raise SourceError("folder has no config.json", code="no_config")
        return inner
    return path


def read_bounded(stream: BinaryIO) -> bytes:
    payload = stream.read(MAX_CONFIG_BYTES + 1)
    if len(payload) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"larger than {MAX_CONFIG_BYTES // (1024 * 1024)} MiB, too large for a config.json",
            code="too_large",
        )
    return payload


def load_file(path: Path) -> RawConfig:
    """Load a config.json (or a folder holding one); `source` stays the user's spelling."""
    config_path = resolve_config_path(path)
    try:
        mode = config_path.stat().st_mode
    except OSError as exc:
        raise SourceError(f"cannot read {config_path.name}: {exc.strerror}", code="unreadable") from None
    if not stat.S_ISREG(mode):
        raise SourceError(f"{config_path.name} is not a regular file", code="not_regular")
    if os.path.getsize(config_path) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"larger than {MAX_CONFIG_BYTES // (1024 * 1024)} MiB, too large for a config.json",
            code="too_large",
        )
    try:
        with open(config_path, "rb") as stream:
            payload = read_bounded(stream)
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror}", code="unreadable") from None
    parsed = parse_json_bytes(payload)
    return RawConfig(
        source=str(path),
        data=parsed.data,
        duplicate_keys=parsed.duplicate_keys,
        folder=config_path.parent,
    )


def load_stdin() -> RawConfig:
    parsed = parse_json_bytes(read_bounded(sys.stdin.buffer))
    return RawConfig(source="<stdin>", data=parsed.data, duplicate_keys=parsed.duplicate_keys)


def load_source(spec: str) -> RawConfig:
    """Load what the user named: `-`, a local path (always first), a GGUF, or a Hub id."""
    if spec == "-":
        return load_stdin()
    path = Path(spec)
    if os.path.lexists(path):
        if path.suffix.lower() == ".gguf" or (path.is_file() and _starts_with_gguf_magic(path)):
            return load_gguf(path, spec)
        return load_file(path)
    from moecfg.loading.hub import load_hub, parse_hub_id

    hub_id = parse_hub_id(spec)
    if hub_id is not None:
        return load_hub(hub_id)
    return load_file(path)


def holds_weights(folder: Path) -> bool:
    """Whether a config's folder holds safetensors weights, before importing their reader."""
    return (folder / INDEX_FILE).is_file() or any(
        entry.endswith(".safetensors") for entry in os.listdir(folder)
    )


def _starts_with_gguf_magic(path: Path) -> bool:
    try:
        with open(path, "rb") as stream:
            return stream.read(len(GGUF_MAGIC)) == GGUF_MAGIC
    except OSError:
        return False


def load_gguf(path: Path, source: str) -> RawConfig:
    """A GGUF's metadata, mapped to the config.json keys of its family."""
    from moecfg.loading.gguf_config import load_gguf_config

    mapped = load_gguf_config(path)
    return RawConfig(source=source, data=mapped.data, origin=mapped.origin)
