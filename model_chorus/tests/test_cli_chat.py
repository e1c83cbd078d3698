"""``model-chorus chat`` end to end over the fake AI tools, and the bad inputs of issue 2."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from model_chorus.cli.app import app
from model_chorus.paths import default_database_path
from model_chorus.store import rows
from model_chorus.store.database import ConversationDatabase
from model_chorus.tests.fakes import TOOLS, FakeTools


def invoke(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=input)


def chat_json(*args: str, input: str | None = None) -> tuple[int, dict[str, Any]]:
    result = invoke("chat", *args, "--json", input=input)
    return result.exit_code, json.loads(result.stdout)


def stored_threads() -> list[Any]:
    if not default_database_path().exists():
        return []
    with ConversationDatabase(default_database_path()) as db:
        return [db.get_thread(t.id) for t in db.list_threads(limit=100)]


def test_chat_json_is_one_document_with_the_contract_fields(fake_tools: FakeTools) -> None:
    fake_tools.set("claude", reply="WAL keeps readers and writers apart.")

    code, doc = chat_json("Explain WAL mode")

    assert code == 0
    for key in ("schema_version", "workflow", "thread_id", "provider", "model", "content"):
        assert key in doc
    assert doc["schema_version"] == 1
    assert doc["workflow"] == "chat"
    assert doc["provider"] == "claude"
    assert doc["model"] == "claude-opus-4-8[1m]"  # from the recorded modelUsage key
    assert doc["content"] == "WAL keeps readers and writers apart."
    assert doc["usage"]["input_tokens"] > 0 and doc["usage"]["output_tokens"] > 0
    assert [a["outcome"] for a in doc["attempts"]] == ["ok"]
    assert doc["timing"]["duration_ms"] > 0
    [call] = fake_tools.calls("claude")
    assert call.prompt == "Explain WAL mode"


def test_console_output_is_the_answer_and_status_goes_to_stderr(fake_tools: FakeTools) -> None:
    fake_tools.set("gemini", reply="Plain answer.")

    result = invoke("chat", "Hi", "-p", "gemini")

    assert result.exit_code == 0
    assert result.stdout.strip() == "Plain answer."
    assert "gemini" in result.stderr and "--continue" in result.stderr


def test_continue_carries_the_history_and_stores_each_message_once(
    fake_tools: FakeTools,
) -> None:
    fake_tools.script("claude", [{"reply": "First answer."}, {"reply": "Second answer."}])
    _, first = chat_json("First question")

    code, second = chat_json("Second question", "-c", first["thread_id"][:8])

    assert code == 0
    assert second["thread_id"] == first["thread_id"]
    assert second["continued"] is True
    prompt = fake_tools.calls("claude")[1].prompt or ""
    assert "First question" in prompt and "First answer." in prompt
    assert prompt.rstrip().endswith("Second question")
    [thread] = stored_threads()
    assert [(str(m.role), m.content) for m in thread.messages] == [
        ("user", "First question"),
        ("assistant", "First answer."),
        ("user", "Second question"),
        ("assistant", "Second answer."),
    ]
    with ConversationDatabase(default_database_path()) as db:
        records = db.call_records()
    assert [r.thread_id for r in records] == [None, thread.id]  # a new thread has no id yet


def test_continue_last_picks_the_newest_chat_thread(fake_tools: FakeTools) -> None:
    _, first = chat_json("one")
    _, second = chat_json("two")

    code, doc = chat_json("three", "-c", "last")

    assert code == 0
    assert doc["thread_id"] == second["thread_id"] != first["thread_id"]


def test_file_contents_reach_the_model_but_only_the_name_is_stored(
    fake_tools: FakeTools, tmp_path: Path
) -> None:
    Path("notes.py").write_text("SECRET_MARKER = 42\n", encoding="utf-8")

    code, doc = chat_json("What is in the file?", "-f", "notes.py")

    assert code == 0
    assert "SECRET_MARKER = 42" in (fake_tools.calls("claude")[0].prompt or "")
    assert [f["path"] for f in doc["context"]["files"]] == ["notes.py"]
    [thread] = stored_threads()
    user = thread.messages[0]
    assert user.content == "What is in the file?"
    assert user.files == ["notes.py"]
    assert all("SECRET_MARKER" not in m.content for m in thread.messages)


@pytest.mark.parametrize("tool", TOOLS)
def test_a_500_kb_file_reaches_every_provider_intact_on_stdin(
    fake_tools: FakeTools, tool: str
) -> None:
    line = "x = 'a line of code that is exactly sixty-four bytes long....'\n"
    text = line * (500 * 1024 // len(line) + 16)
    Path("big.py").write_text(text, encoding="utf-8")

    code, doc = chat_json("Summarise", "-p", tool, "-f", "big.py")

    assert code == 0, doc
    assert doc["context"]["files"][0]["status"] == "included"
    [call] = fake_tools.calls(tool)
    assert call.prompt is not None and text in call.prompt
    assert len(call.prompt.encode()) > 500 * 1024
    # The prompt never travels in argv (128 KiB per-string limit on Linux).
    assert all(len(arg) < 4096 for arg in call.argv)
    digest = hashlib.sha256(call.prompt.encode()).hexdigest()[:12]
    assert f"sha={digest}" in doc["content"]


def test_piped_stdin_joins_the_argument_prompt(fake_tools: FakeTools) -> None:
    code, _ = chat_json("Review this diff", input="--- a/x\n+++ b/x\n")

    assert code == 0
    assert fake_tools.calls("claude")[0].prompt == "Review this diff\n\n--- a/x\n+++ b/x"


def test_prompt_from_stdin_alone(fake_tools: FakeTools) -> None:
    code, _ = chat_json(input="only on stdin\n")

    assert code == 0
    assert fake_tools.calls("claude")[0].prompt == "only on stdin"


def test_fallback_to_the_next_configured_provider(fake_tools: FakeTools) -> None:
    Path(".model-chorus.toml").write_text(
        'fallback_providers = ["gemini"]\n\n[retry]\nmax_attempts = 1\n', encoding="utf-8"
    )
    fake_tools.set("claude", mode="auth")
    fake_tools.set("gemini", reply="gemini to the rescue")

    code, doc = chat_json("Hello")

    assert code == 0
    assert doc["provider"] == "gemini"
    assert doc["content"] == "gemini to the rescue"
    assert [(a["provider"], a["outcome"]) for a in doc["attempts"]] == [
        ("claude", "auth_error"),
        ("gemini", "ok"),
    ]
    assert [(f["provider"], f["kind"]) for f in doc["failures"]] == [("claude", "auth_error")]


def test_transient_failure_is_retried_and_the_attempts_are_counted(
    fake_tools: FakeTools,
) -> None:
    Path(".model-chorus.toml").write_text(
        "[retry]\nmax_attempts = 3\ninitial_delay = 0\nmax_delay = 0\njitter = 0\n",
        encoding="utf-8",
    )
    fake_tools.script("claude", [{"mode": "rate_limit"}, {"reply": "second time lucky"}])

    code, doc = chat_json("Hello")

    assert code == 0
    assert doc["content"] == "second time lucky"
    assert doc["responses"][0]["attempts"] == 2
    assert [a["outcome"] for a in doc["attempts"]] == ["rate_limited", "ok"]


def test_a_turn_that_cannot_be_stored_leaves_no_empty_thread(
    fake_tools: FakeTools, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new thread and its first turn are one transaction: both or neither. The
    answer itself is not lost (``TurnNotSavedError`` carries it; see test_workflow_chat)."""
    fake_tools.set("claude", reply="An answer that will not fit.")

    def disk_full(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(rows, "insert_messages", disk_full)
    code, doc = chat_json("Hello")

    assert code == 1
    assert doc["error"]["type"] == "not_saved"
    assert "disk is full" in doc["error"]["message"]
    # The answer the tokens were spent on is still there, in the same one document.
    assert doc["content"] == "An answer that will not fit."
    assert doc["thread_id"] is None  # nothing stored to --continue
    assert "disk space" in doc["error"]["hint"]
    assert stored_threads() == []  # reading needs no insert_messages


def test_an_answer_not_saved_is_still_printed_on_the_console(
    fake_tools: FakeTools, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_tools.set("claude", reply="Worth keeping.")

    def disk_full(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(rows, "insert_messages", disk_full)
    result = invoke("chat", "Hello")

    assert result.exit_code == 1
    assert result.stdout.strip() == "Worth keeping."
    assert "was not saved" in result.stderr
    assert "--continue" not in result.stderr


def test_every_provider_failing_exits_1_with_an_error_object(fake_tools: FakeTools) -> None:
    fake_tools.set("claude", mode="auth")

    code, doc = chat_json("Hello")

    assert code == 1
    assert doc["error"]["type"] == "all_providers_failed"
    assert "claude" in doc["error"]["message"]
    assert "log in" in doc["error"]["hint"]
    assert stored_threads() == []


def test_missing_tool_says_so_with_the_install_hint(no_tools_path: Path) -> None:
    result = invoke("chat", "Hello", "-p", "codex")

    assert result.exit_code == 1
    assert "not installed" in result.stderr
    assert "npm install -g @openai/codex" in result.stderr
    assert "list-providers" in result.stderr
    assert "Traceback" not in result.output


# -- bad input: one clear message, exit 2, no traceback, nothing stored lost -----------


@pytest.fixture
def one_stored_thread(fake_tools: FakeTools) -> str:
    _, doc = chat_json("Keep me")
    thread_id: str = doc["thread_id"]
    return thread_id


def assert_store_intact(thread_id: str) -> None:
    [thread] = stored_threads()
    assert thread.id == thread_id
    assert thread.messages[0].content == "Keep me"
    assert len(thread.messages) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["chat", "Hi", "-p", "nope"], "Unknown provider 'nope'"),
        (["chat", "   "], "The prompt is empty"),
        (["chat", "Hi", "-c", "ffffffff"], "No thread with id 'ffffffff'"),
        (["chat", "Hi", "-f", "missing.py"], "missing.py"),
        (["--config", "broken.toml", "chat", "Hi"], "broken.toml"),
        (["--config", "absent.toml", "chat", "Hi"], "absent.toml"),
    ],
    ids=["unknown-provider", "empty-prompt", "unknown-thread", "missing-file", "broken", "absent"],
)
def test_bad_input_exits_2_with_one_message(
    one_stored_thread: str, args: list[str], message: str
) -> None:
    Path("broken.toml").write_text("timeout = 'soon'\n", encoding="utf-8")

    result = invoke(*args)

    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stderr.startswith("Error:")
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert_store_intact(one_stored_thread)


def test_bad_input_in_json_mode_is_a_json_error_document(one_stored_thread: str) -> None:
    code, doc = chat_json("Hi", "-p", "nope")

    assert code == 2
    assert doc["error"]["type"] == "unknown_provider"
    assert doc["thread_id"] is None
    assert_store_intact(one_stored_thread)


def test_unreadable_file_is_an_input_error(
    one_stored_thread: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    Path("locked.py").write_text("x = 1\n", encoding="utf-8")
    real_open = open

    def deny(file: Any, *args: Any, **kwargs: Any) -> Any:
        if str(file).endswith("locked.py"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", deny)
    result = invoke("chat", "Hi", "-f", "locked.py")

    assert result.exit_code == 2
    assert "locked.py" in result.stderr
    assert_store_intact(one_stored_thread)


def test_no_prompt_on_a_terminal_is_a_usage_error_not_a_wait(fake_tools: FakeTools) -> None:
    # A real terminal cannot be given to CliRunner; `script` would need a pty. The
    # closest honest check: stdin closed (CI has no standard input) and no argument.
    proc = subprocess.run(
        [sys.executable, "-m", "model_chorus", "chat"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert proc.returncode == 2
    assert "No prompt given" in proc.stderr


def test_python_dash_m_runs_the_cli() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "model_chorus", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert proc.returncode == 0
    assert proc.stdout.startswith("model-chorus ")


def test_head_and_tail_of_a_large_file_with_the_chunking_setting(
    fake_tools: FakeTools, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [f"line {i:06d} of the log\n" for i in range(200_000)]
    Path("big.log").write_text("".join(lines), encoding="utf-8")
    monkeypatch.setenv("MODEL_CHORUS_CONTEXT__CHUNKING", "head+tail")

    code, doc = chat_json("What went wrong at the end?", "-f", "big.log")

    assert code == 0
    [report] = doc["context"]["files"]
    assert report["status"] == "truncated"
    prompt = fake_tools.calls("claude")[0].prompt or ""
    assert "line 000000 of the log" in prompt
    assert "line 199999 of the log" in prompt
    assert "line 100000 of the log" not in prompt


def test_a_blank_answer_is_a_failed_call_and_the_fallback_answers(fake_tools: FakeTools) -> None:
    Path(".model-chorus.toml").write_text('fallback_providers = ["gemini"]\n', encoding="utf-8")
    fake_tools.set("claude", reply="   ")
    fake_tools.set("gemini", reply="A real answer.")

    code, doc = chat_json("Hello")

    assert code == 0
    assert (doc["provider"], doc["content"]) == ("gemini", "A real answer.")
    assert [(f["provider"], f["kind"]) for f in doc["failures"]] == [("claude", "bad_output")]
