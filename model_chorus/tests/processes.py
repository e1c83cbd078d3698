"""Whether test processes still run: the "no process survives" checks share these."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path


def alive(pid: int | None) -> bool:
    """Running: not gone, and not a zombie waiting for a parent to reap it.

    This container's PID 1 does not reap orphans, so a killed process may linger
    as a zombie; it holds no resources and counts as gone.
    """
    if pid is None:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in {"Z", "X"}


def survivors(pids: Iterable[int | None], patience: float = 5.0) -> list[int]:
    """Pids still running once a kill had time to land (signals are delivered asynchronously)."""
    wanted = [p for p in pids if p is not None]
    deadline = time.monotonic() + patience
    while (left := [p for p in wanted if alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left
