"""Benchmark context ingestion: time and peak memory for a huge file and a big tree.

Each case runs in a fresh Python process so its peak RSS (VmHWM) is its own.
Data is generated under a temporary directory and deleted afterwards.

    .venv/bin/python scripts/bench_ingest.py            # all cases
    .venv/bin/python scripts/bench_ingest.py --keep     # leave the data for a look

Target (issue 6): peak RSS under 150 MiB for every case with a 100k-token budget.
Exit status 1 when a case misses it.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUDGET = 100_000
TARGET_MIB = 150
BIG_FILE_MB = 200
TREE_FILES = 10_000
#: name → (spec, chunking, settings overrides)
CASES: dict[str, tuple[str, str, dict[str, int]]] = {
    "200 MB file, head, default limits": ("big.log", "head", {}),
    "200 MB file, head, byte limits off": (
        "big.log",
        "head",
        {"max_file_bytes": 10**12, "max_total_bytes": 10**12},
    ),
    "200 MB file, head+tail, byte limits off": (
        "big.log",
        "head+tail",
        {"max_file_bytes": 10**12, "max_total_bytes": 10**12},
    ),
    "10,000 small files, default limits": ("tree", "head", {}),
    "10,000 small files, byte limits off": (
        "tree",
        "head",
        {"max_file_bytes": 10**12, "max_total_bytes": 10**12},
    ),
}


def make_data(root: Path) -> None:
    line = "2024-05-01T12:00:00Z INFO request handled path=/api/items/{n} status=200 ms={m}\n"
    block = "".join(line.format(n=n, m=n % 97) for n in range(10_000)).encode()
    with (root / "big.log").open("wb") as handle:
        while handle.tell() < BIG_FILE_MB * 1_000_000:
            handle.write(block)
    module = 'def handler_{n}(request):\n    """Handle request {n}."""\n    return {n} * 2\n'
    for n in range(TREE_FILES):
        folder = root / "tree" / f"pkg{n // 100:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"mod{n % 100:03d}.py").write_text(module.format(n=n) * 3)


def peak_rss_mib() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_case(name: str, root: Path) -> dict[str, object]:
    """Inside the child process: one ingestion, measured."""
    from model_chorus.config import ContextSettings
    from model_chorus.context.ingest import ContextIngestionService
    from model_chorus.context.tokens import count_tokens

    spec, chunking, overrides = CASES[name]
    count_tokens("load the tokenizer first, so its memory is part of the baseline")
    baseline = peak_rss_mib()
    service = ContextIngestionService(ContextSettings(**overrides), cwd=root)
    started = time.perf_counter()
    context = service.ingest([spec], token_budget=BUDGET, chunking=chunking)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started
    statuses = [f.status for f in context.files]
    return {
        "case": name,
        "seconds": round(elapsed, 2),
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "baseline_rss_mib": round(baseline, 1),
        "files": len(context.files),
        "included": statuses.count("included"),
        "truncated": statuses.count("truncated"),
        "skipped": statuses.count("skipped"),
        "tokens": context.total_tokens,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # child mode
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.root)))
        return 0

    root = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        started = time.perf_counter()
        make_data(root)
        print(f"data: {root} ({time.perf_counter() - started:.1f} s to generate)")
        print(f"budget {BUDGET:,} tokens, target peak RSS < {TARGET_MIB} MiB\n")
        header = f"{'case':42} {'time':>7} {'peak RSS':>10} {'base':>7}  files  in/cut/out  tokens"
        print(header)
        failed = False
        for name in CASES:
            out = subprocess.run(
                [sys.executable, __file__, "--case", name, "--root", str(root)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            r = json.loads(out)
            over = float(r["peak_rss_mib"]) >= TARGET_MIB
            failed |= over
            print(
                f"{name:42} {r['seconds']:>6}s {r['peak_rss_mib']:>7} MiB"
                f" {r['baseline_rss_mib']:>7}"
                f"  {r['files']:>5}  {r['included']}/{r['truncated']}/{r['skipped']}"
                f"  {r['tokens']:,}{'  OVER TARGET' if over else ''}"
            )
        return 1 if failed else 0
    finally:
        if args.keep:
            print(f"\nkept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
