"""run_process: the one place that spawns tools — stdin, output cap, decoding, group kill."""

from __future__ import annotations

import asyncio
import hashlib
import sys
from pathlib import Path

import pytest

from model_chorus.providers.runner import run_process
from model_chorus.tests.processes import survivors

PY = sys.executable


#: Prints its pid and its grandchild's (which ignores SIGTERM), then sleeps.
FAMILY = """
import os, signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen(["sleep", "300"])
signal.signal(signal.SIGTERM, signal.SIG_DFL)
print(os.getpid(), child.pid, flush=True)
if len(sys.argv) > 1:
    open(sys.argv[1], "w").write(f"{os.getpid()} {child.pid}")
time.sleep(300)
"""


async def test_captures_output_and_exit_code() -> None:
    result = await run_process(
        [PY, "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"],
        stdin=None,
        timeout=30,
    )
    assert (result.stdout, result.stderr, result.returncode) == ("out\n", "err\n", 3)
    assert not result.timed_out and not result.truncated


async def test_stdin_is_delivered_whole_and_closed() -> None:
    text = "ünïcode line\n" * 100_000  # ~1.4 MB: more than a pipe buffer holds
    script = (
        "import sys, hashlib; d = sys.stdin.buffer.read(); "
        "print(len(d), hashlib.sha256(d).hexdigest())"
    )
    result = await run_process([PY, "-c", script], stdin=text, timeout=30)
    data = text.encode()
    assert result.stdout.split() == [str(len(data)), hashlib.sha256(data).hexdigest()]


async def test_without_stdin_the_child_reads_dev_null() -> None:
    script = "import os, sys; print(repr(sys.stdin.read())); print(os.readlink('/proc/self/fd/0'))"
    result = await run_process([PY, "-c", script], stdin=None, timeout=30)
    assert result.stdout.splitlines() == ["''", "/dev/null"]


async def test_a_child_that_ignores_stdin_is_fine() -> None:
    result = await run_process(["true"], stdin="x" * 2_000_000, timeout=30)
    assert result.returncode == 0


async def test_a_lone_surrogate_in_stdin_is_replaced_not_fatal() -> None:
    script = "import sys; print(sys.stdin.buffer.read())"
    result = await run_process([PY, "-c", script], stdin="a\udcffb", timeout=30)
    assert result.stdout.strip() == "b'a?b'"


async def test_invalid_utf8_output_is_replaced() -> None:
    script = (
        "import sys; sys.stdout.buffer.write(b'ok \\xff\\xfe end'); "
        "sys.stderr.buffer.write(b'\\xc3')"
    )
    result = await run_process([PY, "-c", script], stdin=None, timeout=30)
    assert result.stdout == "ok \ufffd\ufffd end"
    assert result.stderr == "\ufffd"


async def test_output_beyond_the_cap_is_dropped_without_blocking_the_child() -> None:
    script = "import sys; sys.stdout.write('x' * 5_000_000); sys.stderr.write('done')"
    result = await run_process(
        [PY, "-c", script], stdin=None, timeout=30, max_output_bytes=1_000_000
    )
    assert len(result.stdout) == 1_000_000
    assert result.truncated
    assert result.returncode == 0 and not result.timed_out
    assert result.stderr == "done"


async def test_timeout_kills_the_whole_process_group() -> None:
    result = await run_process([PY, "-c", FAMILY], stdin=None, timeout=1.0)

    assert result.timed_out
    pids = [int(p) for p in result.stdout.split()]
    assert len(pids) == 2  # what the child printed before the timeout is kept
    assert survivors(pids) == []


async def test_cancellation_kills_the_whole_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "pids"
    task = asyncio.create_task(
        run_process([PY, "-c", FAMILY, str(pid_file)], stdin=None, timeout=60)
    )
    for _ in range(200):
        if pid_file.exists() and pid_file.read_text():
            break
        await asyncio.sleep(0.05)
    pids = [int(p) for p in pid_file.read_text().split()]

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert survivors(pids) == []


async def test_a_helper_left_holding_the_pipes_does_not_delay_the_result(tmp_path: Path) -> None:
    # The tool exits at once but leaves a helper with our stdout open.
    script = "import subprocess; p = subprocess.Popen(['sleep', '300']); print(p.pid, flush=True)"
    result = await run_process([PY, "-c", script], stdin=None, timeout=20)
    assert not result.timed_out
    assert result.returncode == 0
    assert survivors([int(result.stdout.strip())]) == []


async def test_missing_executable_raises_file_not_found() -> None:
    with pytest.raises(FileNotFoundError):
        await run_process(["/nonexistent/tool"], stdin=None, timeout=5)


async def test_environment_and_cwd_are_passed(tmp_path: Path) -> None:
    script = "import os; print(os.environ.get('ONLY_THIS'), os.getcwd())"
    result = await run_process(
        [PY, "-c", script], stdin=None, env={"ONLY_THIS": "yes"}, cwd=str(tmp_path), timeout=30
    )
    assert result.stdout.split() == ["yes", str(tmp_path)]
