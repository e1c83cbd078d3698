"""Each provider parses every output recorded from its real tool (tests/fakes/recorded/)."""

from __future__ import annotations

import importlib

import pytest

from model_chorus.doctor import listed_flags
from model_chorus.errors import (
    ProviderAuthError,
    ProviderBadRequestError,
    ProviderConnectionError,
    ProviderCrashError,
    ProviderError,
    ProviderOutputError,
    ProviderOverloadedError,
    ProviderRateLimitError,
)
from model_chorus.models import GenerationRequest
from model_chorus.providers.base import CLIProvider
from model_chorus.providers.claude import ClaudeProvider
from model_chorus.providers.codex import CodexProvider
from model_chorus.providers.cursor_agent import CursorAgentProvider
from model_chorus.providers.gemini import GeminiProvider
from model_chorus.providers.registry import SPECS
from model_chorus.tests.fakes import (
    HELP_CASES,
    process_result,
    recorded,
    recorded_argv_cases,
    recorded_cases,
)

PROVIDERS: dict[str, type[CLIProvider]] = {
    "claude": ClaudeProvider,
    "gemini": GeminiProvider,
    "codex": CodexProvider,
}

#: case -> the error it must raise, or the (model, input tokens, output tokens) of the answer.
EXPECTED: dict[str, dict[str, type[ProviderError] | tuple[str | None, int, int]]] = {
    "claude": {
        "json_basic": ("claude-opus-4-8[1m]", 19370, 23),
        "disallowed_tools": ("claude-opus-4-8[1m]", 19286, 23),
        "model_alias_sonnet": ("claude-sonnet-5", 29167, 23),
        "stdin_prompt": ("claude-opus-4-8[1m]", 19371, 23),
        "stdin_plus_arg": ("claude-opus-4-8[1m]", 19383, 23),
        "system_prompt": ("claude-opus-4-8[1m]", 17905, 23),
        "tools_empty": ("claude-opus-4-8[1m]", 1644, 23),
        # A stream of events ends with the same result object; it is read leniently.
        "stream_json_verbose": ("claude-opus-4-8[1m]", 19372, 23),
        "err_401_max_retries_0": ProviderAuthError,
        "no_api_key": ProviderAuthError,
        "err_429_max_retries_0": ProviderRateLimitError,
        "err_503_max_retries_0": ProviderOverloadedError,
        "err_529": ProviderOverloadedError,
        "err_529_max_retries_0": ProviderOverloadedError,
        "err_529_text": ProviderOverloadedError,
        "err_conn_refused_max_retries_0": ProviderConnectionError,
        "max_budget_exceeded": ProviderBadRequestError,
        "stream_json_without_verbose": ProviderError,
        "text_basic": ProviderOutputError,
    },
    "gemini": {
        "json_basic": ("gemini-3.8-flash", 9747, 19),
        "positional_prompt": ("gemini-3.8-flash", 9753, 19),
        "stdin_only": ("gemini-3.8-flash", 9748, 19),
        "stdin_plus_p": ("gemini-3.8-flash", 9761, 19),
        "model_flag": ("gemini-2.5-flash", 7849, 19),
        "auth_not_selected": ProviderAuthError,
        "no_api_key": ProviderAuthError,
        "err_401_fast": ProviderAuthError,
        "err_429_fast": ProviderRateLimitError,
        "err_500_fast": ProviderOverloadedError,
        "err_503_fast": ProviderOverloadedError,
        "err_503_fast_text": ProviderOverloadedError,
        "err_503_fast_stream_json": ProviderOverloadedError,
        "err_529_fast": ProviderOverloadedError,
        "err_conn_refused_fast": ProviderConnectionError,
        "untrusted_dir": ProviderBadRequestError,
        "text_basic": ProviderOutputError,
        "stream_json": ProviderOutputError,
    },
    "codex": {
        "json_basic": (None, 13596, 15),
        "model_flag": (None, 9281, 15),
        "sandbox_read_only": (None, 13597, 15),
        "stdin_dash": (None, 13596, 15),
        "stdin_no_arg": (None, 13597, 15),
        "stdin_plus_prompt": (None, 13614, 15),
        "output_schema": (None, 13586, 8),
        "err_401": ProviderAuthError,
        "no_api_key": ProviderAuthError,
        "err_429": ProviderRateLimitError,
        "err_500": ProviderOverloadedError,
        "err_503_no_retries": ProviderOverloadedError,
        "err_529_no_retries_text": ProviderOverloadedError,
        "err_conn_refused_bounded_no_retries": ProviderConnectionError,
        "no_git_repo_check": ProviderBadRequestError,
        "text_basic": ProviderOutputError,
    },
}
ALL = [(tool, case) for tool in PROVIDERS for case in recorded_cases(tool)]


def test_every_recorded_case_has_an_expectation() -> None:
    assert {(t, c) for t, c in ALL} == {(t, c) for t in EXPECTED for c in EXPECTED[t]}


@pytest.mark.parametrize(("tool", "case"), ALL, ids=[f"{t}/{c}" for t, c in ALL])
def test_recorded_output_is_parsed(tool: str, case: str) -> None:
    rec = recorded(tool, case)
    provider = PROVIDERS[tool]()
    result = process_result(rec.stdout, rec.stderr, rec.exit_code)
    expected = EXPECTED[tool][case]

    if isinstance(expected, tuple):
        response = provider.parse_output(result, GenerationRequest(prompt="q"))
        model, input_tokens, output_tokens = expected
        assert response.content.startswith("FAKE-") or response.content.startswith("{")
        assert response.model == model
        assert (response.usage.input_tokens, response.usage.output_tokens) == (
            input_tokens,
            output_tokens,
        )
        assert response.session_id
        return
    with pytest.raises(ProviderError) as caught:
        provider.parse_output(result, GenerationRequest(prompt="q"))
    assert type(caught.value) is expected
    assert caught.value.message.startswith(provider.spec.display_name)
    assert "\n" not in caught.value.message


ALL_PROVIDERS = [*PROVIDERS.values(), CursorAgentProvider]


@pytest.mark.parametrize("cls", ALL_PROVIDERS, ids=lambda c: c.spec.name)
def test_empty_output_with_exit_zero_is_bad_output(cls: type[CLIProvider]) -> None:
    with pytest.raises(ProviderOutputError):
        cls().parse_output(process_result("", "", 0), GenerationRequest(prompt="q"))


@pytest.mark.parametrize(
    ("cls", "stderr"),
    [
        (ClaudeProvider, ""),
        (CursorAgentProvider, ""),
        (GeminiProvider, "Warning: 256-color support not detected.\nRipgrep is not available.\n"),
        (CodexProvider, "Reading additional input from stdin...\n"),
    ],
    ids=["claude", "cursor-agent", "gemini", "codex"],
)
def test_nonzero_exit_with_only_routine_noise_is_a_crash(
    cls: type[CLIProvider], stderr: str
) -> None:
    with pytest.raises(ProviderCrashError) as caught:
        cls().parse_output(process_result("", stderr, 1), GenerationRequest(prompt="q"))
    assert caught.value.transient


def test_unclassified_failure_quotes_the_tool() -> None:
    with pytest.raises(ProviderError) as caught:
        CodexProvider().parse_output(
            process_result("", "thread 'main' panicked at core/src/lib.rs:12\n", 101),
            GenerationRequest(prompt="q"),
        )
    assert type(caught.value) is ProviderError
    assert "exited with code 101" in caught.value.message
    assert "panicked" in caught.value.message


# --- the command lines we build, against the real tools' argument parsers ------------------

REJECTED = [
    (tool, case)
    for tool in PROVIDERS
    for case in recorded_argv_cases(tool)
    if recorded(tool, case).exit_code != 0
]


def real_help(tool: str) -> str:
    """The help that lists the flags of our command line (codex: ``exec --help``)."""
    return recorded(tool, HELP_CASES[tool][0]).stdout


@pytest.mark.parametrize("tool", list(PROVIDERS))
def test_every_flag_we_pass_is_in_the_real_help_and_checked_by_doctor(tool: str) -> None:
    provider = PROVIDERS[tool](model="some-model")
    request = GenerationRequest(prompt="q", system_prompt="Be terse.")
    argv = provider.build_command(request)
    rules = importlib.import_module(type(provider).__module__).ARG_RULES
    passed = {a.split("=", 1)[0] for a in argv[1:] if a.startswith("-") and a not in ("-", "--")}

    assert passed, argv
    assert passed <= listed_flags(real_help(tool))
    # doctor looks for every flag we pass, by its canonical name, and finds it.
    assert {rules.canonical(flag) for flag in passed} <= set(SPECS[tool].required_flags)
    assert set(SPECS[tool].required_flags) <= listed_flags(real_help(tool))


@pytest.mark.parametrize(("tool", "case"), REJECTED, ids=[f"{t}/{c}" for t, c in REJECTED])
def test_a_command_line_the_tool_rejects_is_a_bad_request_naming_the_help(
    tool: str, case: str
) -> None:
    rec = recorded(tool, case)
    spec = SPECS[tool]
    result = process_result(rec.stdout, rec.stderr, rec.exit_code)

    with pytest.raises(ProviderBadRequestError) as caught:
        PROVIDERS[tool]().parse_output(result, GenerationRequest(prompt="q"))
    assert not caught.value.transient
    assert "extra_args" in (caught.value.hint or "")
    assert " ".join([spec.executable, *spec.help_args]) in (caught.value.hint or "")
