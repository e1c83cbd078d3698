"""Helpers for tests that drive the fake AI tools (protocol: ``fake_tool.py``).

``FakeTools`` is what the ``fake_tools`` fixture returns: it puts ``bin/`` first
on PATH and lets a test choose each fake's behaviour and read back its calls.
``recorded()`` gives the real tools' recorded output, copied from
``../shared/provider-formats`` so the tests do not depend on that folder.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from model_chorus.providers.runner import ProcessResult

FAKES_DIR = Path(__file__).parent
BIN_DIR = FAKES_DIR / "bin"
FAKE_TOOL = FAKES_DIR / "fake_tool.py"
RECORDED_DIR = FAKES_DIR / "recorded"
TOOLS = ("claude", "gemini", "codex", "cursor-agent")


def env_key(tool: str) -> str:
    """``cursor-agent`` -> ``CURSOR_AGENT``, the TOOL part of ``FAKE_TOOL_*`` variables."""
    if tool not in TOOLS:
        raise ValueError(f"unknown fake tool {tool!r}")
    return tool.upper().replace("-", "_")


@dataclass(frozen=True)
class FakeCall:
    """One invocation of a fake, as it logged itself."""

    tool: str
    argv: list[str]
    stdin: str | None
    prompt: str | None
    cwd: str
    env: dict[str, str]
    pid: int
    kind: str
    mode: str | None = None
    step: int | None = None
    child_pid: int | None = None
    #: ``time.time()`` when a call began (before its latency), to check calls overlapped.
    started_at: float | None = None
    #: What the real tool would run with after merging flags and settings files:
    #: claude ``tools``/``mcp_servers``, gemini ``approval_mode``.
    effective: dict[str, Any] = field(default_factory=dict)

    def has(self, flag: str) -> bool:
        return any(a == flag or a.startswith(flag + "=") for a in self.argv)

    def values(self, flag: str) -> list[str]:
        """Every value given to ``flag`` (``--flag v`` or ``--flag=v``)."""
        found = []
        for i, arg in enumerate(self.argv):
            if arg == flag and i + 1 < len(self.argv):
                found.append(self.argv[i + 1])
            elif arg.startswith(flag + "="):
                found.append(arg.split("=", 1)[1])
        return found

    def value(self, flag: str) -> str | None:
        values = self.values(flag)
        return values[-1] if values else None


def write_json(path: Path, data: dict[str, Any]) -> None:
    """A settings file for a fake to read (``~/.claude.json``, ``.gemini/settings.json`` ...)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


def read_calls(log_dir: Path, tool: str, *, kind: str | None = "call") -> list[FakeCall]:
    """Calls logged by ``tool``; ``kind=None`` includes --version/--help/rejected ones."""
    path = log_dir / f"{tool}.jsonl"
    if not path.exists():
        return []
    calls = []
    for line in path.read_text(encoding="utf-8").splitlines():
        data: dict[str, Any] = json.loads(line)
        if kind is not None and data.get("kind") != kind:
            continue
        calls.append(
            FakeCall(
                tool=data["tool"],
                argv=data["argv"],
                stdin=data.get("stdin"),
                prompt=data.get("prompt"),
                cwd=data["cwd"],
                env=data["env"],
                pid=data["pid"],
                kind=data["kind"],
                mode=data.get("mode"),
                step=data.get("step"),
                child_pid=data.get("child_pid"),
                started_at=data.get("started_at"),
                effective=data.get("effective") or {},
            )
        )
    return calls


@dataclass
class FakeTools:
    """Controller of the fake tools for one test (see the ``fake_tools`` fixture)."""

    monkeypatch: pytest.MonkeyPatch
    root: Path
    bin_dir: Path = BIN_DIR
    log_dir: Path = field(init=False)
    state_dir: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_dir = self.root / "log"
        self.state_dir = self.root / "state"
        for folder in (self.log_dir, self.state_dir):
            folder.mkdir(parents=True, exist_ok=True)

    @classmethod
    def install(cls, monkeypatch: pytest.MonkeyPatch, root: Path) -> FakeTools:
        tools = cls(monkeypatch, root)
        monkeypatch.setenv("PATH", f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}")
        monkeypatch.setenv("FAKE_PYTHON", sys.executable)
        monkeypatch.setenv("FAKE_LOG_DIR", str(tools.log_dir))
        monkeypatch.setenv("FAKE_STATE_DIR", str(tools.state_dir))
        return tools

    def set(
        self,
        tool: str,
        *,
        mode: str | None = None,
        reply: str | None = None,
        latency: float | None = None,
        version: str | None = None,
        help_drop: str | None = None,
        huge_mb: float | None = None,
    ) -> None:
        """Set the fake's behaviour for every following call (None leaves a setting as is)."""
        settings = {
            "MODE": mode,
            "REPLY": reply,
            "LATENCY": latency,
            "VERSION": version,
            "HELP_DROP": help_drop,
            "HUGE_MB": huge_mb,
        }
        for name, value in settings.items():
            if value is not None:
                self.monkeypatch.setenv(f"FAKE_{env_key(tool)}_{name}", str(value))

    def script(self, tool: str, steps: list[dict[str, Any]]) -> Path:
        """Call N of ``tool`` follows ``steps[N]`` (the last step repeats); restarts the count."""
        path = self.root / f"{tool}.script.json"
        path.write_text(json.dumps(steps), encoding="utf-8")
        (self.state_dir / f"{tool}.count").unlink(missing_ok=True)
        self.monkeypatch.setenv(f"FAKE_{env_key(tool)}_SCRIPT", str(path))
        return path

    def calls(self, tool: str, *, kind: str | None = "call") -> list[FakeCall]:
        return read_calls(self.log_dir, tool, kind=kind)

    def path_without(self, *tools: str) -> Path:
        """A bin folder with every fake except ``tools``, put first on PATH instead of ``bin/``.

        For "one provider is not installed" scenarios.
        """
        folder = self.root / ("bin-without-" + "-".join(tools))
        folder.mkdir(exist_ok=True)
        for tool in TOOLS:
            wrapper = folder / tool
            if tool not in tools and not wrapper.exists():
                wrapper.write_text(f'#!/bin/sh\nexec "{BIN_DIR / tool}" "$@"\n', encoding="utf-8")
                wrapper.chmod(0o755)
        path = os.environ["PATH"].split(os.pathsep)
        rest = [p for p in path if Path(p) != BIN_DIR]
        self.monkeypatch.setenv("PATH", os.pathsep.join([str(folder), *rest]))
        return folder


@dataclass(frozen=True)
class Recorded:
    """One case recorded from a real tool: its command line, outputs and exit code."""

    tool: str
    case: str
    meta: dict[str, Any]
    stdout: str
    stderr: str

    @property
    def exit_code(self) -> int:
        return int(self.meta["exit_code"])

    @property
    def args(self) -> list[str]:
        """The arguments after the tool's name (recorded for the ``argv/`` cases only)."""
        return list(self.meta["args"])


def recorded(tool: str, case: str) -> Recorded:
    base = RECORDED_DIR / tool / case
    return Recorded(
        tool=tool,
        case=case,
        meta=json.loads(base.with_suffix(".json").read_text(encoding="utf-8")),
        stdout=base.with_suffix(".stdout").read_text(encoding="utf-8"),
        stderr=base.with_suffix(".stderr").read_text(encoding="utf-8"),
    )


def recorded_cases(tool: str) -> list[str]:
    """Cases where the tool reached its model API (or tried to)."""
    return sorted(p.stem for p in (RECORDED_DIR / tool).glob("*.json"))


#: Each tool's recorded help; the first lists the flags model-chorus passes (codex: exec's).
HELP_CASES = {
    "claude": ["argv/help"],
    "gemini": ["argv/help"],
    "codex": ["argv/exec_help", "argv/help"],
}


def recorded_argv_cases(tool: str) -> list[str]:
    """Cases the tool answered from its argument parser alone: --help, --version, bad flags."""
    return sorted(f"argv/{p.stem}" for p in (RECORDED_DIR / tool / "argv").glob("*.json"))


def process_result(stdout: str = "", stderr: str = "", returncode: int = 0) -> ProcessResult:
    """A finished run, for feeding a provider's parse_output directly."""
    return ProcessResult(
        argv=["tool"], returncode=returncode, stdout=stdout, stderr=stderr, duration_s=0.25
    )


def big_prompt(size: int = 500_000) -> str:
    """A prompt far past one argv string's 128 KiB limit, with text that trips naive quoting."""
    line = "--flag-looking line; ünïcödé ✓ \"quotes\" 'and' $VARS `ticks` \\ back\tslash\n"
    return (line * (size // len(line) + 1))[:size]
