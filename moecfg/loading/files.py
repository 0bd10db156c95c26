"""Read a config from a local file, a folder holding config.json, or stdin.

Reads are bounded: a config.json is small, so anything past MAX_CONFIG_BYTES is refused
before it is parsed, and only regular files are opened (a FIFO would block forever).
"""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from moecfg.errors import ConfigError, SourceError
from moecfg.loading.jsonparse import parse_json_bytes

#: Real config.json files are a few KiB; 16 MiB leaves room for inlined tokenizer-like
#: payloads while keeping parse time and memory bounded on hostile input.
MAX_CONFIG_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RawConfig:
    """A parsed config.json and where it came from."""

    source: str  #: what to call it in messages: the path as the user gave it, or "<stdin>"
    data: dict[str, Any]
    duplicate_keys: tuple[str, ...] = ()


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
    return RawConfig(source=str(path), data=parsed.data, duplicate_keys=parsed.duplicate_keys)


def load_stdin() -> RawConfig:
    parsed = parse_json_bytes(read_bounded(sys.stdin.buffer))
    return RawConfig(source="<stdin>", data=parsed.data, duplicate_keys=parsed.duplicate_keys)


def load_source(spec: str) -> RawConfig:
    """Load what the user named on the command line."""
    if spec == "-":
        return load_stdin()
    return load_file(Path(spec))
