"""Every failure mode of every fake tool maps onto the right error, through the real runner."""

from __future__ import annotations

from pathlib import Path

import pytest

from model_chorus.errors import (
    ProviderAuthError,
    ProviderBadRequestError,
    ProviderConnectionError,
    ProviderCrashError,
    ProviderError,
    ProviderNotInstalledError,
    ProviderOutputError,
    ProviderOverloadedError,
    ProviderRateLimitError,
    ProviderTimeoutError,
)
from model_chorus.models import GenerationRequest
from model_chorus.providers.base import CLIProvider
from model_chorus.providers.registry import SPECS, provider_class
from model_chorus.tests.fakes import FakeTools
from model_chorus.tests.processes import survivors

TRANSIENT = {
    "rate_limit": ProviderRateLimitError,
    "overloaded": ProviderOverloadedError,
    "server_error": ProviderOverloadedError,
    "connection": ProviderConnectionError,
    "crash": ProviderCrashError,
}
PERMANENT = {
    "auth": ProviderAuthError,
    "no_login": ProviderAuthError,
    "bad_request": ProviderBadRequestError,
    "budget": ProviderBadRequestError,
    "garbage": ProviderOutputError,
}
MATRIX = [(tool, mode) for tool in SPECS for mode in [*TRANSIENT, *PERMANENT]]


def make(tool: str, **kwargs: object) -> CLIProvider:
    return provider_class(tool)(timeout=30, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("tool", "mode"), MATRIX, ids=[f"{t}-{m}" for t, m in MATRIX])
async def test_failure_modes_map_to_the_error_tree(
    tool: str, mode: str, fake_tools: FakeTools
) -> None:
    fake_tools.set(tool, mode=mode)
    expected = {**TRANSIENT, **PERMANENT}[mode]

    with pytest.raises(ProviderError) as caught:
        await make(tool).generate(GenerationRequest(prompt="hello"))

    error = caught.value
    assert type(error) is expected
    assert error.transient is (mode in TRANSIENT)
    assert error.provider == tool
    assert error.message.startswith(SPECS[tool].display_name)
    assert "\n" not in error.message
    assert error.hint
    if mode not in ("crash", "garbage"):
        assert error.detail  # the tool's own words are kept
    if expected is ProviderAuthError:
        assert error.hint == SPECS[tool].login_hint


@pytest.mark.parametrize("tool", list(SPECS))
async def test_a_hanging_tool_times_out_and_leaves_no_process(
    tool: str, fake_tools: FakeTools
) -> None:
    fake_tools.set(tool, mode="hang")
    provider = make(tool)

    with pytest.raises(ProviderTimeoutError) as caught:
        await provider.generate(GenerationRequest(prompt="hello", timeout=0.3))

    assert caught.value.transient
    [call] = fake_tools.calls(tool)
    assert call.child_pid is not None
    assert survivors([call.pid, call.child_pid]) == []


async def test_codex_dead_endpoint_is_not_retried_forever(fake_tools: FakeTools) -> None:
    # The fake reconnects forever unless our command line bounds it, like the real tool.
    fake_tools.set("codex", mode="connection")
    with pytest.raises(ProviderConnectionError):
        await make("codex").generate(GenerationRequest(prompt="hello", timeout=20))


@pytest.mark.parametrize("tool", list(SPECS))
async def test_output_past_the_cap_is_a_bad_output_error(tool: str, fake_tools: FakeTools) -> None:
    fake_tools.set(tool, mode="huge", huge_mb=2)
    provider = make(tool, max_output_bytes=512 * 1024)
    with pytest.raises(ProviderOutputError) as caught:
        await provider.generate(GenerationRequest(prompt="hello"))
    assert "output limit" in caught.value.message
    assert caught.value.hint is not None and "shorter answer" in caught.value.hint


async def test_stderr_noise_on_success_is_not_a_failure(fake_tools: FakeTools) -> None:
    response = await make("gemini").generate(GenerationRequest(prompt="hello"))
    assert response.content.startswith("FAKE-GEMINI")


async def test_scripted_recovery_after_a_transient_failure(fake_tools: FakeTools) -> None:
    fake_tools.script("gemini", [{"mode": "overloaded"}, {"reply": "second time lucky"}])
    provider = make("gemini")
    with pytest.raises(ProviderOverloadedError):
        await provider.generate(GenerationRequest(prompt="hello"))
    response = await provider.generate(GenerationRequest(prompt="hello"))
    assert response.content == "second time lucky"


@pytest.mark.parametrize("tool", list(SPECS))
async def test_missing_tool_names_the_install_command(tool: str, no_tools_path: Path) -> None:
    with pytest.raises(ProviderNotInstalledError) as caught:
        await make(tool).generate(GenerationRequest(prompt="hello"))
    assert SPECS[tool].install_command in (caught.value.hint or "")
    assert "list-providers" in (caught.value.hint or "")
    assert not caught.value.transient


async def test_a_tool_that_cannot_start_is_reported_not_raised(no_tools_path: Path) -> None:
    broken = no_tools_path / "claude"
    broken.write_text("#!/nonexistent/interpreter\n")
    broken.chmod(0o755)
    with pytest.raises(ProviderNotInstalledError) as caught:
        await make("claude").generate(GenerationRequest(prompt="hello"))
    assert "could not be started" in caught.value.message


async def test_user_extra_flag_the_tool_rejects_is_a_bad_request(fake_tools: FakeTools) -> None:
    with pytest.raises(ProviderBadRequestError) as caught:
        await make("codex", extra_args=["--no-such-flag"]).generate(GenerationRequest(prompt="hi"))
    assert "extra_args" in (caught.value.hint or "")
    assert "unexpected argument" in (caught.value.detail or "")
