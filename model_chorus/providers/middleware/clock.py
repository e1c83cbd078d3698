"""The time sources the middleware reads, bundled so tests can pass virtual time.

Two clocks on purpose: deadlines and rate limits use the monotonic clock (it
never jumps), while breaker state is shared with other processes through the
database and so needs wall-clock time that means the same thing to all of them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Clock:
    monotonic: Callable[[], float] = time.monotonic
    #: Seconds since the epoch; only for state that outlives the process.
    wall: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


SYSTEM_CLOCK = Clock()
