"""Time and peak memory to read a GGUF header: moecfg's bounded reader next to gguf.GGUFReader.

Writes Qwen3-30B-A3B's metadata with a tokenizer of each size, then reads it in a fresh
process per reader (imports done before timing); memory is the peak RSS growth of the read.
Run: python benchmarks/bench_gguf.py [vocab sizes...]  (needs the test extra: gguf, numpy).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: (imports, the timed read) per reader; imports are done before the clock starts.
READERS = {
    "moecfg": ("from moecfg.loading.gguf import read_gguf", "n = len(read_gguf(path).metadata)"),
    "gguf.GGUFReader": ("import gguf", "n = len(gguf.GGUFReader(path).fields)"),
}

PROBE = """
import resource, sys, time
from pathlib import Path
{imports}
path = Path(sys.argv[1])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
{read}
elapsed = time.perf_counter() - start
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


def run(code: str, path: Path) -> tuple[float, int]:
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout.split()
    return float(out[0]), int(out[1])


def main(vocab_sizes: list[int]) -> None:
    sys.path.insert(0, str(ROOT))
    from tests.gguf_files import qwen3moe_metadata, write_gguf

    print(f"{'vocab':>8}  {'file':>9}  {'reader':<16} {'time':>9}  {'peak RSS growth':>16}")
    with tempfile.TemporaryDirectory() as tmp:
        for vocab in vocab_sizes:
            # Metadata only: GGUFReader maps tensor data too, so the file has no tensors.
            path = write_gguf(Path(tmp) / f"v{vocab}.gguf", "qwen3moe", qwen3moe_metadata(), vocab=vocab)
            size = path.stat().st_size
            for name, (imports, read) in READERS.items():
                elapsed, rss_kib = run(PROBE.format(imports=imports, read=read), path)
                print(f"{vocab:>8}  {size / 2**20:>7.1f}MB  {name:<16} {elapsed * 1000:>7.0f}ms"
                      f"  {rss_kib / 1024:>14.1f}MB")
            path.unlink()


if __name__ == "__main__":
    main([int(v) for v in sys.argv[1:]] or [32_000, 151_936, 262_144])
