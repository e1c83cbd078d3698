"""ClaudeProvider against the fake ``claude``: command line, environment, parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from model_chorus.errors import ProviderRateLimitError
from model_chorus.models import GenerationRequest
from model_chorus.providers.claude import (
    MAX_ARGV_SYSTEM_PROMPT_BYTES,
    READ_ONLY_DENIED_TOOLS,
    READ_ONLY_TOOLS,
    ClaudeProvider,
)
from model_chorus.tests.fakes import FakeTools, big_prompt, process_result, recorded, write_json
from model_chorus.tests.fakes.fake_tool import default_reply


async def test_headless_read_only_command_with_prompt_on_stdin(fake_tools: FakeTools) -> None:
    provider = ClaudeProvider(timeout=30)
    request = GenerationRequest(
        prompt="Explain WAL mode.", model="sonnet", system_prompt="Be terse."
    )

    response = await provider.generate(request)

    [call] = fake_tools.calls("claude")
    assert call.argv[0] == "-p"
    assert call.values("--output-format") == ["json"]
    assert call.value("--model") == "sonnet"
    assert call.value("--append-system-prompt") == "Be terse."
    # An allow-list of read-only tools, no MCP server from any config, the deny list too.
    assert call.values("--tools") == ["Read,Grep,Glob"]
    assert call.has("--strict-mcp-config") and not call.has("--mcp-config")
    denied = set(call.value("--disallowed-tools").split())  # type: ignore[union-attr]
    assert {"Bash", "Edit", "Write", "NotebookEdit", "MultiEdit"} <= denied
    assert denied == set(READ_ONLY_DENIED_TOOLS)
    assert not any("dangerously" in a or a == "--permission-mode" for a in call.argv)
    assert "Explain WAL mode." not in call.argv
    assert call.stdin == "Explain WAL mode."
    assert call.env["CLAUDE_CODE_MAX_RETRIES"] == "0"
    assert response.content == default_reply("claude", "Explain WAL mode.")
    assert response.provider == "claude"
    assert response.model == "claude-sonnet-5"  # first key of modelUsage
    assert response.usage.input_tokens > 0 and response.usage.output_tokens > 0
    assert response.session_id


async def test_only_read_only_tools_and_no_configured_mcp_server(fake_tools: FakeTools) -> None:
    """New write tools and the user's or the repository's MCP servers stay out."""
    write_json(Path.home() / ".claude.json", {"mcpServers": {"db": {}}})
    write_json(Path(".mcp.json"), {"mcpServers": {"deploy": {}}})

    await ClaudeProvider(timeout=30).generate(GenerationRequest(prompt="Fix the bug."))

    effective = fake_tools.calls("claude")[0].effective
    assert effective["mcp_servers"] == []
    assert effective["tools"] and set(effective["tools"]) <= set(READ_ONLY_TOOLS)


async def test_configured_model_is_used_when_the_request_names_none(fake_tools: FakeTools) -> None:
    await ClaudeProvider(model="haiku", timeout=30).generate(GenerationRequest(prompt="hi"))
    assert fake_tools.calls("claude")[0].value("--model") == "haiku"


async def test_no_model_flag_without_a_model(fake_tools: FakeTools) -> None:
    response = await ClaudeProvider(timeout=30).generate(GenerationRequest(prompt="hi"))
    call = fake_tools.calls("claude")[0]
    assert not call.has("--model")
    assert not call.has("--append-system-prompt")
    assert response.model == "claude-opus-4-8[1m]"


async def test_extra_args_override_but_cannot_lift_the_guards(fake_tools: FakeTools) -> None:
    provider = ClaudeProvider(
        model="opus",
        timeout=30,
        extra_args=[
            "--model",
            "haiku",
            "--output-format",
            "text",
            "--dangerously-skip-permissions",
            "--permission-mode",
            "bypassPermissions",
            "--disallowed-tools",
            "WebFetch",
            "--tools",
            "default",
            "--allowedTools",
            "Bash(rm *)",
            "--settings",
            '{"permissions": {"defaultMode": "acceptEdits"}}',
            "--mcp-config",
            "servers.json",
            "--max-budget-usd",
            "5",
        ],
    )
    response = await provider.generate(GenerationRequest(prompt="hi"))
    call = fake_tools.calls("claude")[0]
    assert call.values("--model") == ["haiku"]
    assert call.values("--output-format") == ["json"]
    assert call.values("--tools") == [",".join(READ_ONLY_TOOLS)]
    assert call.values("--disallowed-tools") == [" ".join(READ_ONLY_DENIED_TOOLS)]
    assert not call.has("--allowed-tools") and not call.has("--allowedTools")
    assert not call.has("--settings") and not call.has("--mcp-config")
    assert not any(a in ("default", "Bash(rm *)", "servers.json") for a in call.argv)
    assert not call.has("--dangerously-skip-permissions")
    assert not call.has("--permission-mode")
    assert call.value("--max-budget-usd") == "5"
    assert response.model == "claude-haiku-4-5"


async def test_a_500_kb_prompt_arrives_intact(fake_tools: FakeTools) -> None:
    prompt = big_prompt()
    response = await ClaudeProvider(timeout=60).generate(GenerationRequest(prompt=prompt))
    assert response.content == default_reply("claude", prompt)


async def test_a_huge_system_prompt_moves_to_stdin(fake_tools: FakeTools) -> None:
    system = "x" * (MAX_ARGV_SYSTEM_PROMPT_BYTES + 1)
    await ClaudeProvider(timeout=30).generate(GenerationRequest(prompt="Q?", system_prompt=system))
    call = fake_tools.calls("claude")[0]
    assert not call.has("--append-system-prompt")
    assert call.stdin is not None and system in call.stdin and call.stdin.endswith("Q?")


def test_is_error_fails_even_with_exit_code_zero() -> None:
    rec = recorded("claude", "err_429_max_retries_0")
    with pytest.raises(ProviderRateLimitError):
        ClaudeProvider().parse_output(
            process_result(rec.stdout, returncode=0), GenerationRequest("q")
        )


def test_token_usage_counts_cache_reads_as_input() -> None:
    stdout = recorded("claude", "json_basic").stdout.replace(
        '"cache_read_input_tokens":0', '"cache_read_input_tokens":100', 1
    )
    response = ClaudeProvider().parse_output(process_result(stdout), GenerationRequest("q"))
    assert response.usage.input_tokens == 19370 + 100
    assert response.usage.cached_input_tokens == 100
    assert response.usage.output_tokens == 23
