"""CursorAgentProvider against the fake ``cursor-agent``."""

from __future__ import annotations

import json

from model_chorus.models import GenerationRequest
from model_chorus.providers.cursor_agent import CursorAgentProvider
from model_chorus.providers.system_prompt import inline_system_prompt
from model_chorus.tests.fakes import FakeTools, big_prompt, process_result
from model_chorus.tests.fakes.fake_tool import default_reply


async def test_print_json_command_with_the_prompt_after_double_dash(
    fake_tools: FakeTools,
) -> None:
    request = GenerationRequest(
        prompt="-starts with a dash", model="gpt-5", system_prompt="Be terse."
    )
    response = await CursorAgentProvider(timeout=30).generate(request)

    [call] = fake_tools.calls("cursor-agent")
    assert call.argv[0] == "-p"
    assert call.values("--output-format") == ["json"]
    assert call.value("--model") == "gpt-5"
    assert not call.has("--force") and not call.has("-f")
    expected = inline_system_prompt("-starts with a dash", "Be terse.")
    # The documented way: the prompt as the argument after `--` (it may start with
    # "-"), stdin left on /dev/null.
    assert call.argv[-2:] == ["--", expected]
    assert call.stdin == ""
    assert response.content == default_reply("cursor-agent", expected)
    assert response.model == "gpt-5"  # the tool did not name one: the requested model
    assert response.usage.output_tokens > 0


async def test_force_cannot_be_added_through_extra_args(fake_tools: FakeTools) -> None:
    await CursorAgentProvider(timeout=30, extra_args=["-f", "--force"]).generate(
        GenerationRequest("hi")
    )
    call = fake_tools.calls("cursor-agent")[0]
    assert not call.has("-f") and not call.has("--force")


async def test_a_500_kb_prompt_arrives_intact(fake_tools: FakeTools) -> None:
    # Past one argument's 128 KiB cap: stdin is the only way (unconfirmed for cursor-agent).
    prompt = big_prompt()
    response = await CursorAgentProvider(timeout=60).generate(GenerationRequest(prompt=prompt))
    assert response.content == default_reply("cursor-agent", prompt)
    [call] = fake_tools.calls("cursor-agent")
    assert "--" not in call.argv and call.stdin == prompt


def test_model_reported_by_the_tool_wins() -> None:
    stdout = json.dumps(
        {
            "type": "result",
            "subtype": "success",
            "is_error": False,
            "result": "hi",
            "model": "sonnet-4.5",
            "session_id": "s",
        }
    )
    response = CursorAgentProvider().parse_output(
        process_result(stdout), GenerationRequest("q", model="auto")
    )
    assert response.model == "sonnet-4.5"
    assert response.session_id == "s"
