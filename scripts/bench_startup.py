"""Start-up cost of the CLI: median wall time and peak memory of light commands.

Targets (issue 2): under 0.25 s and 60 MiB for ``model-chorus --help`` and
``model-chorus list-workflows`` on the 2-core reference machine.

Each command runs in a fresh process N times; peak memory is the child's
maximum resident set size (``ru_maxrss``) read with ``os.wait4``.
Run: ``.venv/bin/python scripts/bench_startup.py [--runs 15]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 0.25
TARGET_MIB = 60.0


def executable() -> list[str]:
    script = Path(sys.executable).with_name("model-chorus")
    if script.exists():
        return [str(script)]
    found = shutil.which("model-chorus")
    return [found] if found else [sys.executable, "-m", "model_chorus"]


def measure(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}")
    return elapsed, usage.ru_maxrss / 1024  # KiB -> MiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    base = executable()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "HOME": tmp,
            "XDG_CONFIG_HOME": f"{tmp}/config",
            "XDG_DATA_HOME": f"{tmp}/data",
            "NO_COLOR": "1",
        }
        commands = {"--help": ["--help"], "list-workflows": ["list-workflows"]}
        print(f"{'command':<18} {'median s':>9} {'max s':>7} {'peak MiB':>9}  target")
        ok = True
        for label, extra in commands.items():
            measure(base + extra, env)  # warm the page cache and .pyc files
            samples = [measure(base + extra, env) for _ in range(args.runs)]
            times = [s[0] for s in samples]
            peak = max(s[1] for s in samples)
            median = statistics.median(times)
            passed = median < TARGET_S and peak < TARGET_MIB
            ok &= passed
            print(
                f"{label:<18} {median:>9.3f} {max(times):>7.3f} {peak:>9.1f}  "
                f"<{TARGET_S}s <{TARGET_MIB:.0f}MiB {'ok' if passed else 'MISSED'}"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
