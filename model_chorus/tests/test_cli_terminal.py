"""Terminal manners: shell completion works, and no ANSI escapes reach a pipe or NO_COLOR."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from model_chorus.cli.app import app
from model_chorus.tests.fakes import FakeTools

ANSI = "\x1b["


@pytest.fixture
def shell_given(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let --show-completion take the shell as a value instead of detecting it."""
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_show_completion_prints_a_script_for_model_chorus(shell_given: None, shell: str) -> None:
    result = CliRunner().invoke(app, ["--show-completion", shell], prog_name="model-chorus")

    assert result.exit_code == 0, result.output
    assert "_MODEL_CHORUS_COMPLETE" in result.stdout
    assert "model-chorus" in result.stdout


def test_python_m_completes_the_model_chorus_command() -> None:
    """Run as ``python -m model_chorus``, the script still completes ``model-chorus``."""
    done = subprocess.run(
        [sys.executable, "-m", "model_chorus", "--show-completion", "bash"],
        env={"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "complete -o default -F _model_chorus_completion model-chorus" in done.stdout


def test_completion_suggests_commands() -> None:
    env = {
        "_MODEL_CHORUS_COMPLETE": "complete_bash",
        "COMP_WORDS": "model-chorus conf",
        "COMP_CWORD": "1",
    }
    result = CliRunner().invoke(app, [], prog_name="model-chorus", env=env)

    assert result.stdout.split() == ["config"]


def test_install_completion_is_offered() -> None:
    result = CliRunner().invoke(app, ["--help"], prog_name="model-chorus")

    assert "--install-completion" in result.stdout
    assert "--show-completion" in result.stdout


COMMANDS = [
    ["list-providers"],
    ["doctor"],
    ["doctor", "-p", "gemini"],
    ["config", "show"],
    ["config", "path"],
    ["config", "validate", "missing.toml"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("no_color", [True, False], ids=["NO_COLOR", "not-a-tty"])
def test_no_ansi_escapes_off_a_terminal(
    fake_tools: FakeTools, monkeypatch: pytest.MonkeyPatch, args: list[str], no_color: bool
) -> None:
    fake_tools.set("claude", help_drop="--model")  # a red "drift" cell in doctor's table
    if not no_color:
        monkeypatch.delenv("NO_COLOR")
        monkeypatch.delenv("FORCE_COLOR", raising=False)
        monkeypatch.setenv("TERM", "xterm-256color")

    result = CliRunner().invoke(app, args)

    assert result.output.strip(), "the command printed something"
    assert ANSI not in result.output
