"""GeminiProvider against the fake ``gemini``: command line, stdin, parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from model_chorus.errors import ProviderOverloadedError
from model_chorus.models import GenerationRequest
from model_chorus.providers.gemini import GeminiProvider
from model_chorus.providers.system_prompt import SYSTEM_END, SYSTEM_START, inline_system_prompt
from model_chorus.tests.fakes import FakeTools, big_prompt, process_result, recorded, write_json
from model_chorus.tests.fakes.fake_tool import default_reply


async def test_trusted_json_command_with_prompt_on_stdin(fake_tools: FakeTools) -> None:
    response = await GeminiProvider(timeout=30).generate(GenerationRequest(prompt="Why WAL?"))

    [call] = fake_tools.calls("gemini")
    assert call.has("--skip-trust")
    assert call.values("--output-format") == ["json"]
    assert not call.has("-p") and not call.has("--prompt")
    assert not call.has("-m")
    # Always the default mode, whatever the user's or the repository's settings say.
    assert call.values("--approval-mode") == ["default"]
    assert not any(a in ("--yolo", "-y") for a in call.argv)
    assert call.stdin == "Why WAL?"
    assert response.content == default_reply("gemini", "Why WAL?")
    # With the default (auto) model two models report; the one in the `main` role answered.
    assert response.model == "gemini-3.8-flash"
    assert response.usage.input_tokens > 1000


async def test_settings_files_cannot_make_it_approve_edits(fake_tools: FakeTools) -> None:
    """``auto_edit`` in the user's or the repository's settings must not apply to our runs."""
    for folder in (Path.home(), Path.cwd()):
        write_json(
            folder / ".gemini" / "settings.json", {"general": {"defaultApprovalMode": "auto_edit"}}
        )

    await GeminiProvider(timeout=30).generate(GenerationRequest(prompt="Fix the bug."))

    assert fake_tools.calls("gemini")[0].effective["approval_mode"] == "default"


async def test_model_flag_and_system_prompt_block(fake_tools: FakeTools) -> None:
    request = GenerationRequest(
        prompt="Why WAL?", model="gemini-2.5-flash", system_prompt="Be terse."
    )
    response = await GeminiProvider(timeout=30).generate(request)

    call = fake_tools.calls("gemini")[0]
    assert call.value("-m") == "gemini-2.5-flash"
    assert call.stdin == inline_system_prompt("Why WAL?", "Be terse.")
    assert call.stdin is not None
    assert call.stdin.startswith(SYSTEM_START) and SYSTEM_END in call.stdin
    assert call.stdin.endswith("\n\nWhy WAL?")
    assert response.model == "gemini-2.5-flash"


async def test_extra_args_cannot_approve_edits_or_change_the_format(fake_tools: FakeTools) -> None:
    provider = GeminiProvider(
        timeout=30,
        extra_args=[
            "--yolo",
            "--approval-mode",
            "auto_edit",
            "--approval-mode=yolo",
            "-o",
            "text",
            "-m",
            "gemini-x",
            "--debug",
            "--policy",
            "allow-everything.toml",
            "--admin-policy",
            "admin.toml",
        ],
        model="gemini-2.5-flash",
    )
    response = await provider.generate(GenerationRequest(prompt="hi"))
    call = fake_tools.calls("gemini")[0]
    assert call.values("--output-format") == ["json"] and not call.has("-o")
    assert not call.has("--yolo") and "auto_edit" not in call.argv
    assert call.values("--approval-mode") == ["default"]
    assert not call.has("--policy") and not call.has("--admin-policy")
    assert not any(a.endswith(".toml") for a in call.argv)
    assert call.values("-m") == ["gemini-x"]
    assert call.has("--debug")
    assert response.model == "gemini-x"


async def test_a_500_kb_prompt_arrives_intact(fake_tools: FakeTools) -> None:
    prompt = big_prompt()
    response = await GeminiProvider(timeout=60).generate(GenerationRequest(prompt=prompt))
    assert response.content == default_reply("gemini", prompt)


def test_exit_code_alone_maps_when_stderr_has_no_json() -> None:
    # 529 % 256 == 17: the exit code is all that is left of the HTTP status.
    result = process_result(
        stderr="Warning: Basic terminal detected\nsomething broke\n", returncode=17
    )
    with pytest.raises(ProviderOverloadedError) as caught:
        GeminiProvider().parse_output(result, GenerationRequest("q"))
    assert "(HTTP 529)" in caught.value.message


def test_error_message_is_unwrapped_from_the_api_body() -> None:
    rec = recorded("gemini", "err_401_fast")
    with pytest.raises(Exception) as caught:
        GeminiProvider().parse_output(
            process_result(stderr=rec.stderr, returncode=145), GenerationRequest("q")
        )
    assert "API key not valid" in str(caught.value)
    assert '{"error"' not in str(caught.value)
    assert caught.value.detail and "UNAUTHENTICATED" in caught.value.detail  # type: ignore[attr-defined]
