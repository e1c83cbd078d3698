"""The one place that spawns AI tools: async, no shell, bounded in time and memory.

Each child runs in its own session (process group), so a timeout or a
cancellation kills the tool *and everything it started* (Codex spawns
helpers; Claude Code spawns node workers). Output beyond the cap is read and
dropped, so a runaway tool cannot exhaust memory or block on a full pipe.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass

#: Grace period between SIGTERM and SIGKILL for a process group we are stopping.
KILL_GRACE_S = 0.5
_CHUNK = 64 * 1024
#: How often to look for the child's exit while something else holds its pipes open.
_EXIT_POLL_S = 0.05


@dataclass(frozen=True)
class ProcessResult:
    argv: list[str]
    returncode: int | None
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool = False
    #: stdout or stderr went past the cap; the kept part is the beginning.
    truncated: bool = False


async def run_process(
    argv: list[str],
    *,
    stdin: str | None,
    env: Mapping[str, str] | None = None,
    timeout: float,
    max_output_bytes: int = 16 * 1024 * 1024,
    cwd: str | None = None,
) -> ProcessResult:
    """Run ``argv`` with ``stdin`` written then closed (``/dev/null`` when None).

    Never raises for the child's behaviour: a timeout is reported in the
    result. ``FileNotFoundError``/``PermissionError`` from spawning propagate.
    Cancellation (Ctrl-C, a ``first`` policy cancelling the losers) kills the
    whole process group before re-raising.
    """
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        start_new_session=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    out = _CappedReader(max_output_bytes)
    err = _CappedReader(max_output_bytes)

    async def communicate() -> None:
        io = asyncio.gather(
            _feed(proc, stdin),
            out.drain(proc.stdout),  # type: ignore[arg-type]
            err.drain(proc.stderr),  # type: ignore[arg-type]
        )
        try:
            await _exited(proc)
            # The tool exited; anything it left running in its group goes with it. Those
            # helpers may hold our pipes open, and we would otherwise wait for them until
            # the timeout. What they already wrote stays readable in the pipe.
            if _group_alive(proc.pid):
                _signal_group(proc.pid, signal.SIGKILL)
            await io
            await proc.wait()
        except BaseException:
            io.cancel()
            with contextlib.suppress(BaseException):
                await io
            raise

    timed_out = False
    try:
        await asyncio.wait_for(communicate(), timeout=timeout)
    except TimeoutError:
        timed_out = True
        await _abandon(proc)
    except BaseException:
        await _abandon(proc)
        raise
    return ProcessResult(
        argv=list(argv),
        returncode=proc.returncode,
        stdout=out.text(),
        stderr=err.text(),
        duration_s=time.monotonic() - started,
        timed_out=timed_out,
        truncated=out.truncated or err.truncated,
    )


async def _abandon(proc: asyncio.subprocess.Process) -> None:
    """Kill the group and close our ends of the pipes while the event loop still runs.

    Left to the garbage collector, a pipe transport of a cancelled run is closed
    after ``asyncio.run`` has closed the loop, which prints "Event loop is closed"
    tracebacks on Ctrl-C.
    """
    await kill_process_group(proc)
    if proc.stdin is not None:
        proc.stdin.close()
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            # The group is dead, so EOF comes at once; reading it lets the transport finish.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(stream.read(), timeout=KILL_GRACE_S)


async def _exited(proc: asyncio.subprocess.Process) -> None:
    """Return once the child has exited.

    ``proc.wait()`` alone also waits for the child's pipes to close, which a
    helper it left running can delay forever; the return code is known as
    soon as the child itself is reaped.
    """
    waiter = asyncio.ensure_future(proc.wait())
    try:
        while proc.returncode is None:
            done, _ = await asyncio.wait({waiter}, timeout=_EXIT_POLL_S)
            if done:
                return
    finally:
        waiter.cancel()


async def _feed(proc: asyncio.subprocess.Process, text: str | None) -> None:
    if text is None or proc.stdin is None:
        return
    # A tool that exits without reading all of stdin is not our error.
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        # "replace": a lone surrogate (from an odd file name or decode) must not abort the call.
        proc.stdin.write(text.encode("utf-8", errors="replace"))
        await proc.stdin.drain()
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        proc.stdin.close()
        await proc.stdin.wait_closed()


class _CappedReader:
    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.chunks: list[bytes] = []
        self.size = 0
        self.truncated = False

    async def drain(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(_CHUNK):
            room = self.cap - self.size
            if room <= 0:
                self.truncated = True
                continue
            if len(chunk) > room:
                chunk = chunk[:room]
                self.truncated = True
            self.chunks.append(chunk)
            self.size += len(chunk)

    def text(self) -> str:
        return b"".join(self.chunks).decode("utf-8", errors="replace")


async def kill_process_group(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM the child's whole group, then SIGKILL what is left after a grace period."""
    if proc.returncode is not None and not _group_alive(proc.pid):
        return
    _signal_group(proc.pid, signal.SIGTERM)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(proc.wait(), timeout=KILL_GRACE_S)
    # Children of the tool may ignore SIGTERM or outlive their parent.
    _signal_group(proc.pid, signal.SIGKILL)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(proc.wait(), timeout=KILL_GRACE_S)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True
