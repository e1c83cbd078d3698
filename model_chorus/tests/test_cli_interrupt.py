"""Ctrl-C during a run: exit 130, no child process left behind, nothing half-stored."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from model_chorus.paths import default_database_path
from model_chorus.store.database import ConversationDatabase
from model_chorus.tests.fakes import FakeTools
from model_chorus.tests.processes import survivors


def wait_for_calls(fake_tools: FakeTools, tools: list[str], patience: float = 30.0) -> None:
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        if all(fake_tools.calls(tool) for tool in tools):
            return
        time.sleep(0.05)
    raise AssertionError(f"the fakes never started: {tools}")


def test_ctrl_c_while_providers_hang_exits_130_and_kills_every_tool(
    fake_tools: FakeTools,
) -> None:
    tools = ["claude", "gemini", "codex"]
    for tool in tools:
        fake_tools.set(tool, mode="hang")
    proc = subprocess.Popen(
        [sys.executable, "-m", "model_chorus", "consensus", "Q?", "--json"]
        + [arg for tool in tools for arg in ("-p", tool)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        wait_for_calls(fake_tools, tools)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()

    assert proc.returncode == 130, stderr
    assert json.loads(stdout)["error"]["type"] == "interrupted"
    assert "Traceback" not in stderr, stderr
    assert "Event loop is closed" not in stderr
    pids = [p for tool in tools for c in fake_tools.calls(tool) for p in (c.pid, c.child_pid)]
    assert len(pids) == 6
    assert survivors(pids) == []
    with ConversationDatabase(default_database_path()) as db:
        assert db.list_threads() == []


def test_sigterm_stops_the_command_like_ctrl_c(fake_tools: FakeTools) -> None:
    # timeout(1), a cancelled CI job and a closed terminal send SIGTERM or SIGHUP; the
    # tools run in their own sessions, so only we can stop them.
    fake_tools.set("claude", mode="hang")
    proc = subprocess.Popen(
        [sys.executable, "-m", "model_chorus", "chat", "Q?"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_calls(fake_tools, ["claude"])
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()

    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "Stopped by SIGTERM" in stderr
    [call] = fake_tools.calls("claude")
    assert survivors([call.pid, call.child_pid]) == []
