"""Store calls off the event loop.

The middleware's store is SQLite: a write waits up to the busy timeout (10 s)
for another process's transaction. Made on the event loop, that wait would
stall every provider of a parallel fan-out, so every store call runs in a
worker thread (``ConversationDatabase`` shares its one connection between
threads behind a lock).

* ``off_loop`` — for what the call needs (breaker admission and state, the
  response cache): awaited, so the call waits but nothing else does.
* ``BackgroundWrites`` — for best-effort writes (call records, new cache
  entries): started and not awaited, so the answer they record is not held
  back (telemetry sits inside the retry deadline, where a 10 s wait could turn
  an answer into a timeout). ``asyncio.run`` waits for the default executor
  before it returns, so a command's records are written before it closes the
  database; ``drain`` waits explicitly (library use, tests).

The store has one connection behind a lock, so store calls still run one at a
time: a read queued behind a write that waits for another process waits too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def off_loop(fn: Callable[[], T]) -> T:
    """``fn()`` in the default executor; the loop keeps serving other calls meanwhile."""
    return await asyncio.to_thread(fn)


class BackgroundWrites:
    """Fire-and-forget store writes whose failure is logged, never raised."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._pending: set[asyncio.Future[None]] = set()

    def submit(self, write: Callable[[], object], *, what: str) -> None:
        """Start ``write`` in a worker thread; ``what`` names it in the warning if it fails."""

        def run() -> None:
            try:
                write()
            except Exception as exc:  # best effort: the answer matters, the record does not
                self._logger.warning("could not %s: %s", what, exc)
                self._logger.debug("%s failed", what, exc_info=True)

        future = asyncio.get_running_loop().run_in_executor(None, run)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def drain(self) -> None:
        """Wait until every write started so far has finished (or failed)."""
        while self._pending:
            await asyncio.wait(set(self._pending))
