"""The fake tools print what the real ones printed (recorded/), and enforce the same rules.

Each recorded case is replayed against the fake with the same command line;
the outputs must match in stream, exit code, JSON layout (compact, pretty,
JSON lines) and structure (keys and value types at every level).
"""

from __future__ import annotations

import asyncio
import functools
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from model_chorus.doctor import listed_flags
from model_chorus.providers.parsing import trailing_json_object
from model_chorus.providers.registry import SPECS
from model_chorus.providers.runner import run_process
from model_chorus.tests.fakes import (
    BIN_DIR,
    HELP_CASES,
    FakeTools,
    Recorded,
    recorded,
    recorded_argv_cases,
    write_json,
)
from model_chorus.tests.fakes.fake_tool import default_reply

PROMPT = "Harness check: reply with one short sentence about offline testing."
PIPED = "Context piped on stdin: the build is green.\n"
FAKE_RESULT_MODELS = (("modelUsage",), ("stats", "models"), ("stats", "models", "*", "roles"))


@dataclass(frozen=True)
class Case:
    tool: str
    case: str
    args: list[str]
    stdin: str | None = None
    mode: str = "ok"
    env: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.tool}/{self.case}"


NO_RETRIES = {"CLAUDE_CODE_MAX_RETRIES": "0"}
CLAUDE_JSON = ["-p", PROMPT, "--output-format", "json"]
GEMINI_JSON = ["--skip-trust", "-m", "gemini-2.5-flash", "-p", PROMPT, "--output-format", "json"]
CODEX_JSON = ["exec", "--skip-git-repo-check", "--json", PROMPT]
CODEX_NO_RETRIES = [
    "exec",
    "--skip-git-repo-check",
    "-c",
    "model_providers.fake.request_max_retries=0",
    "-c",
    "model_providers.fake.stream_max_retries=0",
]

CASES = [
    Case("claude", "json_basic", CLAUDE_JSON),
    Case("claude", "disallowed_tools", [*CLAUDE_JSON, "--disallowed-tools", "Bash Write Edit"]),
    Case("claude", "model_alias_sonnet", [*CLAUDE_JSON, "--model", "sonnet"]),
    Case("claude", "system_prompt", [*CLAUDE_JSON, "--system-prompt", "You are HarnessBot."]),
    Case("claude", "tools_empty", [*CLAUDE_JSON, "--tools", ""]),
    Case("claude", "stdin_prompt", ["-p", "--output-format", "json"], stdin=PROMPT + "\n"),
    Case("claude", "stdin_plus_arg", CLAUDE_JSON, stdin=PIPED),
    Case("claude", "text_basic", ["-p", PROMPT]),
    Case(
        "claude",
        "stream_json_verbose",
        ["-p", PROMPT, "--output-format", "stream-json", "--verbose"],
    ),
    Case("claude", "stream_json_without_verbose", ["-p", PROMPT, "--output-format", "stream-json"]),
    Case("claude", "err_401_max_retries_0", CLAUDE_JSON, mode="auth", env=NO_RETRIES),
    Case("claude", "err_429_max_retries_0", CLAUDE_JSON, mode="rate_limit", env=NO_RETRIES),
    Case("claude", "err_503_max_retries_0", CLAUDE_JSON, mode="server_error", env=NO_RETRIES),
    Case("claude", "err_529_max_retries_0", CLAUDE_JSON, mode="overloaded", env=NO_RETRIES),
    Case("claude", "err_529", CLAUDE_JSON, mode="overloaded"),
    Case("claude", "err_529_text", ["-p", PROMPT], mode="overloaded", env=NO_RETRIES),
    Case(
        "claude", "err_conn_refused_max_retries_0", CLAUDE_JSON, mode="connection", env=NO_RETRIES
    ),
    Case("claude", "no_api_key", CLAUDE_JSON, mode="no_login"),
    Case(
        "claude", "max_budget_exceeded", [*CLAUDE_JSON, "--max-budget-usd", "0.01"], mode="budget"
    ),
    Case("gemini", "json_basic", ["--skip-trust", "-p", PROMPT, "--output-format", "json"]),
    Case("gemini", "model_flag", GEMINI_JSON),
    Case("gemini", "positional_prompt", ["--skip-trust", "--output-format", "json", PROMPT]),
    Case("gemini", "stdin_only", ["--skip-trust", "--output-format", "json"], stdin=PROMPT + "\n"),
    Case(
        "gemini", "stdin_plus_p", ["--skip-trust", "-p", PROMPT, "--output-format", "json"], PIPED
    ),
    Case("gemini", "text_basic", ["--skip-trust", "-p", PROMPT]),
    Case("gemini", "stream_json", ["--skip-trust", "-p", PROMPT, "--output-format", "stream-json"]),
    Case("gemini", "untrusted_dir", ["-p", PROMPT, "--output-format", "json"]),
    Case("gemini", "err_401_fast", GEMINI_JSON, mode="auth"),
    Case("gemini", "err_429_fast", GEMINI_JSON, mode="rate_limit"),
    Case("gemini", "err_500_fast", GEMINI_JSON, mode="server_error"),
    Case("gemini", "err_503_fast", GEMINI_JSON, mode="overloaded"),
    Case("gemini", "err_503_fast_text", GEMINI_JSON[:-2], mode="overloaded"),
    Case(
        "gemini",
        "err_503_fast_stream_json",
        [*GEMINI_JSON[:-1], "stream-json"],
        mode="overloaded",
    ),
    Case("gemini", "err_conn_refused_fast", GEMINI_JSON, mode="connection"),
    Case(
        "gemini",
        "no_api_key",
        ["--skip-trust", "-p", PROMPT, "--output-format", "json"],
        mode="no_login",
    ),
    Case("codex", "json_basic", CODEX_JSON),
    Case(
        "codex",
        "model_flag",
        ["exec", "--skip-git-repo-check", "--model", "gpt-5.5", "--json", PROMPT],
    ),
    Case(
        "codex",
        "sandbox_read_only",
        ["exec", "--skip-git-repo-check", "--sandbox", "read-only", "--json", PROMPT],
    ),
    Case(
        "codex", "stdin_dash", ["exec", "--skip-git-repo-check", "--json", "-"], stdin=PROMPT + "\n"
    ),
    Case("codex", "stdin_no_arg", ["exec", "--skip-git-repo-check", "--json"], stdin=PROMPT + "\n"),
    Case("codex", "stdin_plus_prompt", CODEX_JSON, stdin=PIPED),
    Case("codex", "text_basic", ["exec", "--skip-git-repo-check", PROMPT]),
    Case("codex", "no_git_repo_check", ["exec", "--json", PROMPT]),
    Case("codex", "err_401", CODEX_JSON, mode="auth"),
    Case("codex", "err_429", CODEX_JSON, mode="rate_limit"),
    Case("codex", "err_500", CODEX_JSON, mode="server_error"),
    Case("codex", "err_503_no_retries", [*CODEX_NO_RETRIES, "--json", PROMPT], mode="overloaded"),
    Case(
        "codex",
        "err_conn_refused_bounded_no_retries",
        [*CODEX_NO_RETRIES, "--disable", "unbounded_connection_retries", "--json", PROMPT],
        mode="connection",
    ),
    Case("codex", "no_api_key", CODEX_JSON, mode="no_login"),
]


def run_fake(
    tool: str, args: list[str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN_DIR / tool), *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def shape(value: Any, path: tuple[str, ...] = ()) -> Any:
    """Keys and value types at every level; maps keyed by model name compare by their values."""
    if isinstance(value, dict):
        if path in FAKE_RESULT_MODELS:
            return {"*": shape(next(iter(value.values())), (*path, "*"))} if value else {}
        return {k: shape(v, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0], (*path, "[]"))] if value else []
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "null" if value is None else type(value).__name__


def layout(text: str) -> str:
    """How a stream is laid out: empty, one compact JSON, pretty JSON, JSON lines or text."""
    if not text:
        return "empty"
    try:
        value = json.loads(text)
    except ValueError:
        lines = text.splitlines()
        try:
            parsed = [json.loads(line) for line in lines]
        except ValueError:
            return "text"
        compact = all(
            json.dumps(v, separators=(",", ":"), ensure_ascii=False) == ln
            for v, ln in zip(parsed, lines, strict=True)
        )
        return "json-lines" if compact else "loose-lines"
    if text == json.dumps(value, indent=2, ensure_ascii=False):
        return "pretty"
    if text == json.dumps(value, separators=(",", ":"), ensure_ascii=False) + "\n":
        return "compact"
    return "other-json"


def events(text: str) -> list[Any]:
    return [shape(json.loads(line)) for line in text.splitlines()]


def event_types(text: str) -> list[str]:
    return [json.loads(line)["type"] for line in text.splitlines()]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_fake_matches_the_recorded_shape(case: Case, fake_tools: FakeTools) -> None:
    fake_tools.set(case.tool, mode=case.mode)
    for name, value in case.env.items():
        fake_tools.monkeypatch.setenv(name, value)
    rec = recorded(case.tool, case.case)
    got = run_fake(case.tool, case.args, case.stdin)

    assert got.returncode == rec.exit_code
    assert layout(got.stdout) == layout(rec.stdout)
    assert layout(got.stderr) == layout(rec.stderr)
    _compare_stdout(rec, got.stdout)
    _compare_stderr(rec, got.stderr)


def _compare_stdout(rec: Recorded, stdout: str) -> None:
    kind = layout(rec.stdout)
    if kind in ("compact", "pretty"):
        assert shape(json.loads(stdout)) == shape(json.loads(rec.stdout))
    elif kind == "json-lines":
        assert event_types(stdout) == event_types(rec.stdout)
        if rec.tool != "gemini":  # gemini's timestamps and deltas differ in content only
            assert events(stdout) == events(rec.stdout)
    elif kind == "text":
        assert len(stdout.splitlines()) == len(rec.stdout.splitlines())
        if rec.case == "err_529_text":
            assert stdout == rec.stdout


def _compare_stderr(rec: Recorded, stderr: str) -> None:
    recorded_error = trailing_json_object(rec.stderr)
    if recorded_error is not None:
        fake_error = trailing_json_object(stderr)
        assert fake_error is not None
        assert shape(fake_error) == shape(recorded_error)
        assert fake_error["error"]["code"] == recorded_error["error"]["code"]
        noise = "Warning: Basic terminal detected"
        assert stderr.startswith(noise) == rec.stderr.startswith(noise)
    elif rec.case in ("untrusted_dir", "no_git_repo_check", "stream_json_without_verbose"):
        assert stderr == rec.stderr
    elif rec.tool == "codex" and "Reading" in rec.stderr:
        assert stderr.splitlines()[0] == rec.stderr.splitlines()[0]
    elif rec.tool == "gemini" and rec.exit_code == 0:
        assert stderr == rec.stderr  # the same warnings on every successful run


def test_default_reply_shows_length_hash_and_head_of_the_prompt(fake_tools: FakeTools) -> None:
    prompt = "héllo wörld\n" * 10
    got = run_fake("claude", ["-p", "--output-format", "json"], prompt)
    assert json.loads(got.stdout)["result"] == default_reply("claude", prompt)
    assert default_reply("claude", prompt).startswith(f"FAKE-CLAUDE len={len(prompt)} sha=")


def test_reply_and_mode_come_from_the_environment(fake_tools: FakeTools) -> None:
    fake_tools.set("gemini", reply="Forty-two.")
    got = run_fake("gemini", ["--skip-trust", "-o", "json"], "question")
    assert json.loads(got.stdout)["response"] == "Forty-two."
    fake_tools.set("gemini", mode="rate_limit")
    got = run_fake("gemini", ["--skip-trust", "-o", "json"], "question")
    assert got.returncode == 173


@pytest.mark.parametrize(
    ("tool", "args", "code", "message"),
    [
        ("claude", ["-p", "--foo"], 1, "error: unknown option '--foo'\n"),
        ("cursor-agent", ["-p", "--foo"], 1, "error: unknown option '--foo'\n"),
        ("gemini", ["--skip-trust", "--foo"], 1, "Unknown argument: foo"),
        ("codex", ["exec", "--foo", "-"], 2, "error: unexpected argument '--foo' found"),
        ("codex", ["exec", "-m", "a", "--model", "b", "-"], 2, "cannot be used multiple times"),
        ("codex", ["exec", "--sandbox", "full", "-"], 2, "invalid value 'full' for '--sandbox"),
        ("claude", ["-p", "--output-format", "xml"], 1, "argument 'xml' is invalid"),
        ("claude", ["-p", "--model"], 1, "argument missing"),
    ],
)
def test_fakes_reject_bad_flags_like_the_real_tools(
    tool: str, args: list[str], code: int, message: str, fake_tools: FakeTools
) -> None:
    got = run_fake(tool, args, "prompt")
    assert got.returncode == code
    assert message in got.stderr
    assert got.stdout == ""
    assert fake_tools.calls(tool) == []  # rejected before reaching the "model"
    assert fake_tools.calls(tool, kind="rejected")[0].argv == args


ARGV_CASES = [
    (tool, case)
    for tool in HELP_CASES
    for case in recorded_argv_cases(tool)
    if case not in HELP_CASES[tool]
]


@functools.cache
def help_texts(tool: str, *, fake: bool) -> list[str]:
    """The tool's help texts (the fake's or the recorded real ones), longest first."""
    helps = []
    for case in HELP_CASES[tool]:
        rec = recorded(tool, case)
        helps.append(run_fake(tool, rec.args).stdout if fake else rec.stdout)
    return sorted(helps, key=len, reverse=True)


def without_help(tool: str, text: str, *, fake: bool) -> str:
    """``text`` with the tool's help replaced by a marker, so real and fake texts compare."""
    for help_text in help_texts(tool, fake=fake):
        text = text.replace(help_text, "<help>\n")
    return text


@pytest.mark.parametrize(("tool", "case"), ARGV_CASES, ids=[f"{t}/{c}" for t, c in ARGV_CASES])
def test_fake_answers_the_recorded_command_line_like_the_real_tool(
    tool: str, case: str, fake_tools: FakeTools
) -> None:
    rec = recorded(tool, case)
    got = run_fake(tool, rec.args)

    assert got.returncode == rec.exit_code
    assert without_help(tool, got.stdout, fake=True) == without_help(tool, rec.stdout, fake=False)
    assert without_help(tool, got.stderr, fake=True) == without_help(tool, rec.stderr, fake=False)
    assert fake_tools.calls(tool) == []  # answered by the argument parser, no model call


@pytest.mark.parametrize(
    ("tool", "case"),
    [("claude", "argv/help"), ("gemini", "argv/help"), ("codex", "argv/exec_help")],
)
def test_fake_help_lists_the_flags_the_real_help_lists(tool: str, case: str) -> None:
    rec = recorded(tool, case)
    got = run_fake(tool, rec.args)

    assert got.returncode == rec.exit_code == 0
    assert listed_flags(got.stdout) == listed_flags(rec.stdout)


def test_codex_image_flag_takes_a_trailing_dash_unless_double_dash_ends_it() -> None:
    from model_chorus.tests.fakes.fake_tool import CODEX_EXEC_FLAGS, CODEX_EXEC_USAGE, parse_args

    def parse(*args: str) -> tuple[list[list[str]], list[str]]:
        parsed = parse_args("codex", CODEX_EXEC_FLAGS, list(args), "clap", CODEX_EXEC_USAGE)
        return parsed.all("image"), parsed.positionals

    assert parse("-i", "a.png", "-") == ([["a.png", "-"]], [])
    assert parse("-i", "a.png", "--", "-") == ([["a.png"]], ["-"])


def test_codex_allows_repeated_config_overrides(fake_tools: FakeTools) -> None:
    got = run_fake(
        "codex",
        [
            "exec",
            "--json",
            "--skip-git-repo-check",
            "-c",
            "a=1",
            "-c",
            "b=2",
            "--disable",
            "x",
            "--disable",
            "y",
            "-",
        ],
        "hi",
    )
    assert got.returncode == 0, got.stderr


def test_gemini_trusts_the_folder_via_environment(fake_tools: FakeTools) -> None:
    fake_tools.monkeypatch.setenv("GEMINI_CLI_TRUST_WORKSPACE", "true")
    got = run_fake("gemini", ["-o", "json"], "hi")
    assert got.returncode == 0
    assert fake_tools.calls("gemini")[0].env["GEMINI_CLI_TRUST_WORKSPACE"] == "true"


def test_gemini_approval_mode_comes_from_flags_then_project_then_user_settings(
    fake_tools: FakeTools,
) -> None:
    base = ["--skip-trust", "-o", "json"]
    write_json(Path.home() / ".gemini/settings.json", {"general": {"defaultApprovalMode": "plan"}})
    run_fake("gemini", base, "hi")
    write_json(Path(".gemini/settings.json"), {"general": {"defaultApprovalMode": "auto_edit"}})
    run_fake("gemini", base, "hi")
    run_fake("gemini", [*base, "--approval-mode", "default"], "hi")
    run_fake("gemini", [*base, "--approval-mode", "default", "--yolo"], "hi")
    bad = run_fake("gemini", [*base, "--approval-mode", "auto"], "hi")

    modes = [c.effective["approval_mode"] for c in fake_tools.calls("gemini")]
    assert modes == ["plan", "auto_edit", "default", "yolo"]
    assert bad.returncode == 1 and "Invalid values" in bad.stderr


def test_claude_tools_and_mcp_servers_follow_flags_and_config_files(
    fake_tools: FakeTools,
) -> None:
    write_json(Path.home() / ".claude.json", {"mcpServers": {"notes": {"command": "x"}}})
    write_json(Path(".mcp.json"), {"mcpServers": {"repo-tool": {"command": "y"}}})
    base = ["-p", "--output-format", "json"]
    run_fake("claude", base, "hi")
    run_fake("claude", [*base, "--tools", "Read,Grep,Glob", "--strict-mcp-config"], "hi")

    default, restricted = (c.effective for c in fake_tools.calls("claude"))
    assert {"Bash", "Write", "Edit", "WebFetch", "Skill"} <= set(default["tools"])
    assert default["mcp_servers"] == ["notes", "repo-tool"]
    # This version has no Grep or Glob tool: only Read is left.
    assert restricted == {"tools": ["Read"], "mcp_servers": []}


def test_gemini_doubled_output_format_falls_back_to_text(fake_tools: FakeTools) -> None:
    got = run_fake("gemini", ["--skip-trust", "-o", "json", "-o", "json"], "hi")
    assert got.returncode == 0
    with pytest.raises(ValueError):
        json.loads(got.stdout)


def test_codex_inside_a_git_repository_needs_no_skip_flag(fake_tools: FakeTools, tmp_path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    fake_tools.monkeypatch.chdir(repo)
    got = run_fake("codex", ["exec", "--json", "-"], "hi")
    assert got.returncode == 0


@pytest.mark.parametrize("tool", list(SPECS))
def test_version_and_help_list_what_model_chorus_relies_on(
    tool: str, fake_tools: FakeTools
) -> None:
    spec = SPECS[tool]
    version = run_fake(tool, ["--version"])
    assert version.returncode == 0 and version.stdout.strip()
    helped = run_fake(tool, list(spec.help_args))
    assert helped.returncode == 0
    for flag in spec.required_flags:
        assert flag in helped.stdout, flag


def test_help_drop_simulates_a_tool_without_a_flag(fake_tools: FakeTools) -> None:
    fake_tools.set("gemini", help_drop="--skip-trust")
    helped = run_fake("gemini", ["--help"])
    assert "--skip-trust" not in helped.stdout
    assert "--output-format" in helped.stdout


def test_version_can_be_overridden(fake_tools: FakeTools) -> None:
    fake_tools.set("codex", version="codex-cli 0.1.0")
    assert run_fake("codex", ["--version"]).stdout == "codex-cli 0.1.0\n"


def test_script_steps_apply_in_order_and_the_last_repeats(fake_tools: FakeTools) -> None:
    fake_tools.script("claude", [{"reply": "A"}, {"mode": "auth"}])
    first = run_fake("claude", ["-p", "--output-format", "json"], "q")
    second = run_fake("claude", ["-p", "--output-format", "json"], "q")
    third = run_fake("claude", ["-p", "--output-format", "json"], "q")
    assert json.loads(first.stdout)["result"] == "A"
    assert json.loads(second.stdout)["api_error_status"] == 401
    assert json.loads(third.stdout)["api_error_status"] == 401
    assert [c.step for c in fake_tools.calls("claude")] == [0, 1, 2]


async def test_parallel_calls_each_get_their_own_step(fake_tools: FakeTools) -> None:
    fake_tools.script("codex", [{"reply": f"R{i}"} for i in range(6)])
    argv = [str(BIN_DIR / "codex"), "exec", "--json", "--skip-git-repo-check", "-"]
    results = await asyncio.gather(*(run_process(argv, stdin="q", timeout=30) for _ in range(6)))
    replies = {json.loads(r.stdout.splitlines()[2])["item"]["text"] for r in results}
    assert replies == {f"R{i}" for i in range(6)}


def test_calls_are_logged_with_argv_stdin_cwd_and_env(fake_tools: FakeTools, tmp_path) -> None:
    fake_tools.monkeypatch.setenv("CLAUDE_CODE_MAX_RETRIES", "0")
    run_fake("claude", ["-p", "--output-format", "json", "--model", "haiku"], "the prompt")
    [call] = fake_tools.calls("claude")
    assert call.argv == ["-p", "--output-format", "json", "--model", "haiku"]
    assert call.stdin == "the prompt"
    assert call.prompt == "the prompt"
    assert call.value("--model") == "haiku"
    assert call.env["CLAUDE_CODE_MAX_RETRIES"] == "0"
    assert call.mode == "ok"
    assert call.cwd == str(tmp_path / "work")


def test_garbage_and_crash_modes(fake_tools: FakeTools) -> None:
    fake_tools.set("cursor-agent", mode="garbage")
    garbage = run_fake("cursor-agent", ["-p", "--output-format", "json"], "q")
    assert garbage.returncode == 0
    assert layout(garbage.stdout) == "text"
    fake_tools.set("cursor-agent", mode="crash")
    crash = run_fake("cursor-agent", ["-p", "--output-format", "json"], "q")
    assert (crash.returncode, crash.stdout, crash.stderr) == (1, "", "")


def test_huge_mode_prints_a_very_large_answer(fake_tools: FakeTools) -> None:
    fake_tools.set("codex", mode="huge", huge_mb=3)
    got = run_fake("codex", ["exec", "--json", "--skip-git-repo-check", "-"], "q")
    assert got.returncode == 0
    assert len(got.stdout) > 3 * 1024 * 1024


async def test_codex_reconnects_forever_without_the_bounded_retries_flag(
    fake_tools: FakeTools,
) -> None:
    fake_tools.set("codex", mode="connection")
    argv = [str(BIN_DIR / "codex"), "exec", "--json", "--skip-git-repo-check", "-"]
    result = await run_process(argv, stdin="q", timeout=1.5)
    assert result.timed_out
    assert "Reconnecting" in result.stdout
