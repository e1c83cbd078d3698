"""Awkward inputs a user will hit sooner or later, end to end over the fake tools."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from model_chorus.cli.app import app
from model_chorus.paths import default_database_path
from model_chorus.tests.fakes import FakeTools


def invoke(*args: str, input: str | bytes | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=input)


def run_cli(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """The real entry point (``main``), as a user's shell runs it."""
    return subprocess.run(
        [sys.executable, "-m", "model_chorus", *args],
        capture_output=True,
        text=True,
        timeout=60,
        **kwargs,
    )


# -- -o/--output ------------------------------------------------------------------------


@pytest.mark.parametrize("workflow", ["chat", "consensus"])
def test_output_file_with_json_holds_the_same_single_document(
    fake_tools: FakeTools, workflow: str
) -> None:
    fake_tools.set("claude", reply="Saved answer.")

    result = invoke(workflow, "Q?", "-p", "claude", "--json", "-o", "out/result.json")

    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert json.loads(Path("out/result.json").read_text(encoding="utf-8")) == printed


def test_output_file_on_the_console_is_markdown(fake_tools: FakeTools) -> None:
    fake_tools.set("claude", reply="Plain answer.")

    result = invoke("chat", "Q?", "-o", "answer.md")

    assert result.exit_code == 0
    assert result.stdout.strip() == "Plain answer."
    written = Path("answer.md").read_text(encoding="utf-8")
    assert written.startswith("<!-- model-chorus chat") and "Plain answer." in written


def test_output_path_that_is_a_folder_fails_before_any_provider_is_asked(
    fake_tools: FakeTools,
) -> None:
    Path("results").mkdir()

    proc = run_cli("chat", "Q?", "-o", "results", "--json")

    assert proc.returncode == 2
    assert json.loads(proc.stdout)["error"]["type"] == "usage_error"
    assert fake_tools.calls("claude") == []


# -- stdin --------------------------------------------------------------------------------


def test_stdin_that_is_not_utf8_is_an_input_error_before_any_call(
    fake_tools: FakeTools,
) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "model_chorus", "chat", "--json"],
        input=b"caf\xe9 \xff\xfe\n",
        capture_output=True,
        timeout=60,
    )

    assert proc.returncode == 2
    assert json.loads(proc.stdout)["error"]["message"].startswith("The text piped on stdin")
    assert fake_tools.calls("claude") == []
    assert not default_database_path().exists()


def test_a_slow_producer_on_a_pipe_is_waited_for(fake_tools: FakeTools) -> None:
    proc = subprocess.run(
        [
            "bash",
            "-c",
            f"(sleep 1; echo PIPED_DATA) | {sys.executable} -m model_chorus chat explain",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert proc.returncode == 0, proc.stderr
    assert fake_tools.calls("claude")[0].prompt == "explain\n\nPIPED_DATA"


def test_an_idle_socket_on_stdin_does_not_hang_a_command_that_has_its_prompt(
    fake_tools: FakeTools,
) -> None:
    ours, theirs = socket.socketpair()
    try:
        proc = run_cli("chat", "just the argument", stdin=theirs.fileno())
    finally:
        ours.close()
        theirs.close()

    assert proc.returncode == 0, proc.stderr
    assert fake_tools.calls("claude")[0].prompt == "just the argument"


# -- usage errors and bad values -----------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["chat", "hi", "--json", "--bogus"],
        ["consensus", "hi", "--json", "-s", "nope"],
        ["threads", "list", "--json", "--limit", "0"],
    ],
)
def test_usage_errors_with_json_print_one_json_document(args: list[str]) -> None:
    proc = run_cli(*args)

    assert proc.returncode == 2
    document = json.loads(proc.stdout)
    assert document["error"]["type"] == "usage_error"
    assert document["error"]["message"]


def test_usage_errors_without_json_keep_clicks_message_on_stderr() -> None:
    proc = run_cli("chat", "hi", "--bogus")

    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "No such option: --bogus" in proc.stderr and "Usage:" in proc.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["threads", "prune", "--older-than", "99999999d", "--dry-run"],
        ["stats", "--since", "99999999d"],
        ["chat", "hi", "-c", ""],
    ],
    ids=["prune-overflow", "since-overflow", "empty-thread-id"],
)
def test_values_out_of_range_are_input_errors(fake_tools: FakeTools, args: list[str]) -> None:
    result = invoke(*args)

    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("Error:")
    assert "Internal error" not in result.output


def test_an_empty_database_variable_means_the_default_location(
    fake_tools: FakeTools, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODEL_CHORUS_DATABASE", "")

    result = invoke("chat", "hi")

    assert result.exit_code == 0, result.output
    assert default_database_path().exists()


def test_no_color_accepts_any_non_empty_value(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {**os.environ, "NO_COLOR": "please"}

    proc = run_cli("list-workflows", env=env)

    assert proc.returncode == 0, proc.stderr
    assert "\x1b[" not in proc.stdout


# -- stored text is never taken for markup ---------------------------------------------------


def test_rich_markup_in_a_stored_prompt_is_shown_verbatim(fake_tools: FakeTools) -> None:
    prompt = "what about [/] and [bold]x"
    assert invoke("chat", prompt).exit_code == 0

    listed = invoke("threads", "list")
    shown = invoke("threads", "show", "last")
    found = invoke("threads", "search", "bold")

    for result in (listed, shown, found):
        assert result.exit_code == 0, result.output
    assert "[/] and [bold]x" in listed.stdout
    assert prompt in shown.stdout


# -- a prompt too big for the model ------------------------------------------------------


def test_a_prompt_larger_than_the_context_window_is_warned_about(fake_tools: FakeTools) -> None:
    Path(".model-chorus.toml").write_text(
        "[providers.claude]\ncontext_window = 6000\n", encoding="utf-8"
    )

    result = invoke("chat", "word " * 5000)

    assert result.exit_code == 0
    assert "context window" in result.stderr


def test_an_output_path_under_a_file_fails_before_any_provider_is_asked(
    fake_tools: FakeTools,
) -> None:
    Path("notes.txt").write_text("a file, not a folder\n", encoding="utf-8")

    result = invoke("chat", "Q?", "-o", "notes.txt/out.md", "--json")

    assert result.exit_code == 2
    assert "not a writable folder" in json.loads(result.stdout)["error"]["message"]
    assert fake_tools.calls("claude") == []


def test_output_into_new_nested_folders_is_created(fake_tools: FakeTools) -> None:
    result = invoke("chat", "Q?", "-o", "a/b/c/answer.md")

    assert result.exit_code == 0
    assert Path("a/b/c/answer.md").is_file()
