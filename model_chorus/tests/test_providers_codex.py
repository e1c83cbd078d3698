"""CodexProvider against the fake ``codex``: command line, stdin, JSON-lines parsing."""

from __future__ import annotations

import json

from model_chorus.models import GenerationRequest
from model_chorus.providers.codex import CodexProvider
from model_chorus.providers.system_prompt import inline_system_prompt
from model_chorus.tests.fakes import FakeTools, big_prompt, process_result, recorded
from model_chorus.tests.fakes.fake_tool import (
    CODEX_EXEC_FLAGS,
    CODEX_EXEC_USAGE,
    default_reply,
    parse_args,
)


async def test_read_only_exec_with_prompt_on_stdin(fake_tools: FakeTools) -> None:
    response = await CodexProvider(timeout=30).generate(GenerationRequest(prompt="Why WAL?"))

    [call] = fake_tools.calls("codex")
    assert call.argv[0] == "exec" and call.argv[-2:] == ["--", "-"]
    assert call.has("--json")
    assert call.values("--sandbox") == ["read-only"]
    assert call.has("--skip-git-repo-check")
    assert "unbounded_connection_retries" in call.values("--disable")
    assert not any(
        a in ("--full-auto", "--dangerously-bypass-approvals-and-sandbox") for a in call.argv
    )
    assert call.stdin == "Why WAL?"
    assert response.content == default_reply("codex", "Why WAL?")
    assert response.model is None  # codex never names its model and none was asked for
    assert response.session_id
    assert response.usage.input_tokens > 0


async def test_model_and_system_prompt(fake_tools: FakeTools) -> None:
    request = GenerationRequest(prompt="Q", model="gpt-5.5", system_prompt="Be terse.")
    response = await CodexProvider(timeout=30).generate(request)
    call = fake_tools.calls("codex")[0]
    assert call.value("-m") == "gpt-5.5"
    assert call.stdin == inline_system_prompt("Q", "Be terse.")
    assert response.model == "gpt-5.5"


async def test_extra_args_keep_the_sandbox_and_bounded_retries(fake_tools: FakeTools) -> None:
    provider = CodexProvider(
        timeout=30,
        extra_args=[
            "-s",
            "danger-full-access",
            "--full-auto",
            "--approve-for-me",
            "--dangerously-bypass-hook-trust",
            "--trust",
            "-c",
            'sandbox_mode="danger-full-access"',
            "-c",
            "model_reasoning_effort=high",
            "--enable",
            "unbounded_connection_retries",
            "--json",
        ],
    )
    await provider.generate(GenerationRequest(prompt="hi"))
    call = fake_tools.calls("codex")[0]  # the fake rejects a doubled --json: it ran, so none
    assert call.values("--sandbox") == ["read-only"] and not call.has("-s")
    assert not call.has("--full-auto") and not call.has("--enable")
    assert not any(call.has(f) for f in ("--approve-for-me", "--dangerously-bypass-hook-trust"))
    assert not call.has("--trust")
    assert call.values("-c") == ["model_reasoning_effort=high"]
    assert call.argv.count("--json") == 1


async def test_an_image_flag_leaves_the_prompt_on_stdin(fake_tools: FakeTools) -> None:
    # ``-i FILE...`` takes every value after it, a trailing ``-`` too (recorded/codex/argv).
    provider = CodexProvider(timeout=30, extra_args=["-i", "diagram.png"])
    request = GenerationRequest(prompt="What does the diagram show?")
    argv = provider.build_command(request)

    parsed = parse_args("codex", CODEX_EXEC_FLAGS, argv[2:], "clap", CODEX_EXEC_USAGE)
    assert parsed.all("image") == [["diagram.png"]]
    assert parsed.positionals == ["-"]
    await provider.generate(request)
    assert fake_tools.calls("codex")[0].stdin == "What does the diagram show?"


async def test_a_500_kb_prompt_arrives_intact(fake_tools: FakeTools) -> None:
    prompt = big_prompt()
    response = await CodexProvider(timeout=60).generate(GenerationRequest(prompt=prompt))
    assert response.content == default_reply("codex", prompt)


def test_error_events_before_a_successful_turn_are_warnings() -> None:
    lines = recorded("codex", "json_basic").stdout.splitlines()
    warning = json.dumps({"type": "error", "message": "Reconnecting... 1/5 (stream disconnected)"})
    stdout = "\n".join([*lines[:2], warning, *lines[2:]]) + "\n"
    response = CodexProvider().parse_output(process_result(stdout), GenerationRequest("q"))
    assert response.content.startswith("FAKE-OPENAI reply")
    assert response.usage.input_tokens == 13596


def test_the_last_agent_message_is_the_answer() -> None:
    events = [
        {"type": "thread.started", "thread_id": "t1"},
        {
            "type": "item.completed",
            "item": {"id": "item_0", "type": "agent_message", "text": "thinking aloud"},
        },
        {"type": "item.completed", "item": {"id": "item_1", "type": "reasoning", "text": "hmm"}},
        {
            "type": "item.completed",
            "item": {"id": "item_2", "type": "agent_message", "text": "final"},
        },
        {
            "type": "turn.completed",
            "usage": {"input_tokens": 5, "cached_input_tokens": 2, "output_tokens": 1},
        },
    ]
    stdout = "".join(json.dumps(e) + "\n" for e in events)
    response = CodexProvider().parse_output(process_result(stdout), GenerationRequest("q"))
    assert response.content == "final"
    assert response.session_id == "t1"
    assert (response.usage.input_tokens, response.usage.cached_input_tokens) == (5, 2)
